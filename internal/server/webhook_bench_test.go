package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/intake"
)

// webhookBodies returns GitHub push and pull_request payloads made distinct
// by n: a new commit, or a new pull request.
func webhookBodies(b *testing.B) func(i, n int) (string, []byte) {
	const sentinelSHA = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	const sentinelNumber = 987654321
	push := edit(b, ghFixture("push", "new-branch.json"), func(m map[string]any) {
		m["after"] = sentinelSHA
		obj(m, "head_commit")["id"] = sentinelSHA
		m["commits"].([]any)[0].(map[string]any)["id"] = sentinelSHA
	})
	pr := edit(b, ghFixture("pull_request", "opened.json"), func(m map[string]any) {
		m["number"] = sentinelNumber
		obj(m, "pull_request")["number"] = sentinelNumber
	})
	if bytes.Count(push, []byte(sentinelSHA)) != 3 || bytes.Count(pr, []byte(strconv.Itoa(sentinelNumber))) != 2 {
		b.Fatal("the payloads do not have the expected shape")
	}
	return func(i, n int) (string, []byte) {
		if i%2 == 0 {
			return "push", bytes.ReplaceAll(push, []byte(sentinelSHA), []byte(fmt.Sprintf("%040x", n)))
		}
		return "pull_request", bytes.ReplaceAll(pr, []byte(strconv.Itoa(sentinelNumber)), []byte(strconv.Itoa(n)))
	}
}

// deliveriesPerOp is how many deliveries one benchmark round sends (each
// alternating with its reference), so that a few rounds (-benchtime 5x)
// already average over enough of them on a noisy machine. ns/op and
// <ref>-ns/op are per round; deliveries/s counts deliveries.
const deliveriesPerOp = 20

// signedDelivery is the request GitHub would send for payload.
func signedDelivery(event, id string, payload []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(payload))
	req.Header.Set(github.HeaderEvent, event)
	req.Header.Set(github.HeaderDelivery, id)
	req.Header.Set(github.HeaderSignature, github.Sign(githubSecret, payload))
	return req
}

// withoutStorage is the webhook handler's work without the store: read
// the body, check the signature, translate the delivery and answer with
// the events, as the server's handler does before and after its commit.
func withoutStorage(src *github.Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := src.Verify(r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_ = src.DeliveryID(r.Header, body)
		events, err := src.Translate(r.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "accepted", "events": len(events), "added": len(events), "duplicates": 0})
	})
}

// BenchmarkWebhookDeliveries measures GitHub push and pull_request
// deliveries through the server's handler: signature check, translation, and
// the raw delivery and its events committed to a real SQLite store. Each
// delivery has its own delivery id, so each is stored. In "new events" each
// also carries a new commit or pull request, as live traffic does; in
// "redelivered events" the payload repeats, so its events are duplicates and
// only the raw delivery is written. The reference, run alternately, is the
// same delivery through the handler's work without storage
// (withoutStorage): of-no-storage is the stored rate as a fraction of it.
func BenchmarkWebhookDeliveries(b *testing.B) {
	body := webhookBodies(b)
	for _, fresh := range []bool{true, false} {
		name := "new events"
		if !fresh {
			name = "redelivered events"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, "sqlite")
			handler := h.srv.Handler()
			bare := withoutStorage(github.New(github.Config{Secret: githubSecret, Mapping: testMapping()}))
			var p pair
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N*deliveriesPerOp; i++ {
				b.StopTimer()
				n := 1
				if fresh {
					n = i + 1
				}
				event, payload := body(i, n)
				p.time(&p.reference, func() {
					rec := httptest.NewRecorder()
					bare.ServeHTTP(rec, signedDelivery(event, "bench-"+strconv.Itoa(i), payload))
					if rec.Code != http.StatusOK {
						b.Fatalf("delivery %d (%s) without storage: %d %s", i, event, rec.Code, rec.Body)
					}
				})
				b.StartTimer()
				p.time(&p.measured, func() {
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, signedDelivery(event, "bench-"+strconv.Itoa(i), payload))
					if rec.Code != http.StatusOK {
						b.Fatalf("delivery %d (%s): %d %s", i, event, rec.Code, rec.Body)
					}
				})
				p.rounds++
			}
			b.StopTimer()
			b.ReportMetric(float64(p.rounds)/p.measured.Seconds(), "deliveries/s")
			p.rounds = b.N // <ref>-ns/op per round, as ns/op
			p.report(b, "no-storage", "of-no-storage", true)
		})
	}
}

// concurrentSenders is how many webhook senders deliver at once in
// BenchmarkConcurrentWebhookDeliveries: a busy organisation's GitHub, which
// sends each event of many repositories as it happens.
const concurrentSenders = 16

// BenchmarkConcurrentWebhookDeliveries measures new GitHub push and
// pull_request deliveries sent by concurrentSenders senders at once through
// the server's handler into a real SQLite store, each answered only after
// its commit; concurrent deliveries share commits (group commit). The
// reference, run alternately with the same senders, is the handler's work
// without storage: of-no-storage is the stored rate as a fraction of it.
func BenchmarkConcurrentWebhookDeliveries(b *testing.B) {
	body := webhookBodies(b)
	h := newHarness(b, "sqlite")
	handler := h.srv.Handler()
	bare := withoutStorage(github.New(github.Config{Secret: githubSecret, Mapping: testMapping()}))
	// send delivers deliveriesPerOp deliveries from each sender, numbered
	// from first, through hd.
	send := func(hd http.Handler, first int) {
		var wg sync.WaitGroup
		for s := 0; s < concurrentSenders; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < deliveriesPerOp; k++ {
					n := first + s*deliveriesPerOp + k
					event, payload := body(n, n+1)
					rec := httptest.NewRecorder()
					hd.ServeHTTP(rec, signedDelivery(event, "bench-"+strconv.Itoa(n), payload))
					if rec.Code != http.StatusOK {
						b.Errorf("delivery %d (%s): %d %s", n, event, rec.Code, rec.Body)
					}
				}
			}()
		}
		wg.Wait()
	}
	var p pair
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		first := i * concurrentSenders * deliveriesPerOp
		b.StopTimer()
		p.time(&p.reference, func() { send(bare, first) })
		b.StartTimer()
		p.time(&p.measured, func() { send(handler, first) })
		p.rounds++
	}
	b.StopTimer()
	b.ReportMetric(float64(p.rounds*concurrentSenders*deliveriesPerOp)/p.measured.Seconds(), "deliveries/s")
	p.report(b, "no-storage", "of-no-storage", true)
}

// BenchmarkWebhookHistory measures new GitHub pushes into a store that
// holds 50,000 deployments of one service from the pushed repository
// against the same pushes into a fresh store, alternately:
// of-fresh is the loaded store's rate as a fraction of the fresh one's. A
// delivery's cost should not grow with the history it joins.
func BenchmarkWebhookHistory(b *testing.B) {
	const deployments, services = 50_000, 1
	body := webhookBodies(b)
	_, push := body(0, 1)
	src := github.New(github.Config{Secret: githubSecret, Mapping: testMapping()})
	req := signedDelivery("push", "probe", push)
	events, err := src.Translate(req.Header, push)
	if err != nil || len(events) == 0 || events[0].Change == nil {
		b.Fatalf("the push does not translate to a commit: %v %v", events, err)
	}
	repo := events[0].Change.Repository

	loaded, fresh := newHarness(b, "sqlite"), newHarness(b, "sqlite")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	in := intake.New(loaded.db, nil)
	var batch []delivery.Event
	for i := 0; i < deployments; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		batch = append(batch, delivery.Event{Key: "d" + strconv.Itoa(i), Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "svc" + strconv.Itoa(i%services), ID: strconv.Itoa(i), Status: delivery.DeploymentSuccess,
			SHA: fmt.Sprintf("%040x", 1<<40+i), Repository: repo, FinishedAt: at}})
		if len(batch) == delivery.MaxBatch {
			if _, err := in.Events(ctx, "api", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := in.Events(ctx, "api", batch); err != nil {
		b.Fatal(err)
	}
	loadedH, freshH := loaded.srv.Handler(), fresh.srv.Handler()
	var p pair
	b.ResetTimer()
	for i := 0; i < b.N*deliveriesPerOp; i++ {
		b.StopTimer()
		_, payload := body(0, i+2)
		id := "bench-" + strconv.Itoa(i)
		p.time(&p.reference, func() {
			rec := httptest.NewRecorder()
			freshH.ServeHTTP(rec, signedDelivery("push", id, payload))
			if rec.Code != http.StatusOK {
				b.Fatalf("push %d into a fresh store: %d %s", i, rec.Code, rec.Body)
			}
		})
		b.StartTimer()
		p.time(&p.measured, func() {
			rec := httptest.NewRecorder()
			loadedH.ServeHTTP(rec, signedDelivery("push", id, payload))
			if rec.Code != http.StatusOK {
				b.Fatalf("push %d into the loaded store: %d %s", i, rec.Code, rec.Body)
			}
		})
		p.rounds++
	}
	b.StopTimer()
	b.ReportMetric(float64(p.rounds)/p.measured.Seconds(), "deliveries/s")
	p.rounds = b.N // <ref>-ns/op per round, as ns/op
	p.report(b, "fresh", "of-fresh", true)
}
