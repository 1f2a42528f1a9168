package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/store"
)

// TestReleaseByTagPush sends, signed, the deliveries GitHub makes for a
// release cut from main with releases counted as deployments: the push of
// commit c1 to main (07:00), the push of the annotated tag v1.0.0 (09:00,
// whose "after" is the tag object) and the release, which names the
// branch "main" rather than a commit (09:01). The DORA report must hold
// exactly one deployment, release-v1.0.0, shipping c1.
func TestReleaseByTagPush(t *testing.T) {
	const (
		shaC1     = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"
		tagObject = "7a907a907a907a907a907a907a907a907a907a90"
		tag       = "v1.0.0"
	)
	tCommit, tTag, tRelease := at(7, 0), at(9, 0), at(9, 1)

	mainPush := ghHook("push", "gh-push-main", edit(t, ghFixture("push", "new-branch.json"), func(m map[string]any) {
		inRepo(m)
		c := clone(m["commits"].([]any)[0].(map[string]any))
		c["id"], c["message"], c["timestamp"] = shaC1, "Ship it", ts(tCommit)
		m["ref"], m["before"], m["after"], m["created"], m["forced"] = "refs/heads/main", "0000000000000000000000000000000000000000", shaC1, true, false
		m["commits"], m["head_commit"] = []any{c}, c
		set(m, "repository.pushed_at", tCommit.Add(time.Hour).Unix())
	}))
	tagPush := ghHook("push", "gh-push-tag", edit(t, ghFixture("push", "new-branch.json"), func(m map[string]any) {
		inRepo(m)
		c := clone(m["commits"].([]any)[0].(map[string]any))
		c["id"], c["message"], c["timestamp"] = shaC1, "Ship it", ts(tCommit)
		m["ref"], m["before"], m["after"], m["created"], m["forced"] = "refs/tags/"+tag, "0000000000000000000000000000000000000000", tagObject, true, false
		m["base_ref"], m["commits"], m["head_commit"] = "refs/heads/main", []any{}, c
		set(m, "repository.pushed_at", tTag.Unix())
	}))
	release := func(id, target string) hook {
		return ghHook("release", id, edit(t, ghFixture("release", "published.json"), func(m map[string]any) {
			inRepo(m)
			r := obj(m, "release")
			r["tag_name"], r["target_commitish"], r["prerelease"], r["draft"] = tag, target, false, false
			r["created_at"], r["published_at"] = ts(tRelease), ts(tRelease)
		}))
	}

	// check reads the report: one deployment shipping c1, finished at
	// finished (of two reports of one deployment, the later one's finish
	// time stands, whichever arrived first).
	check := func(t *testing.T, h *harness, finished time.Time) {
		t.Helper()
		ctx := context.Background()
		if n := h.counts(t)["deployments"]; n != 1 {
			t.Errorf("%d deployment rows, want 1", n)
		}
		r, err := reader(h.db).DORA(ctx, store.Scope{}, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.DeploymentFrequency.Count != 1 {
			t.Errorf("deployment frequency %+v, want 1 deployment", r.DeploymentFrequency)
		}
		if lt := r.LeadTime; lt.Count != 1 || lt.MedianSeconds == nil || *lt.MedianSeconds != secs(finished.Sub(tCommit)) {
			t.Errorf("lead time %+v (median %v), want one change of %v", lt, deref(lt.MedianSeconds), finished.Sub(tCommit))
		}
		ex, err := reader(h.db).DORAExplain(ctx, store.Scope{}, period, "lead_time")
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Deployments) != 1 {
			t.Fatalf("explained deployments %+v, want one", ex.Deployments)
		}
		d := ex.Deployments[0]
		if d.Service != "shop" || d.Environment != delivery.EnvironmentProduction || d.ID != "release-"+tag || d.Status != delivery.DeploymentSuccess {
			t.Errorf("deployment %+v, want shop/production/release-%s, a success", d, tag)
		}
		if len(d.Changes) != 1 || d.Changes[0].SHA != shaC1 {
			t.Errorf("deployment ships %+v, want only %s (the tagged commit, not the tag object)", d.Changes, shaC1)
		}
	}

	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		setup := func(t *testing.T) *harness {
			h := open(t)
			h.srv.Sources["github"] = github.New(github.Config{Secret: githubSecret, Mapping: testMapping(), ReleasesAsDeployments: true})
			return h
		}
		t.Run("a tag push then a branch-targeted release", func(t *testing.T) {
			h := setup(t)
			sendAll(t, h, []hook{mainPush, tagPush})
			rel := release("gh-release", "main")
			hdr := rel.header.Clone()
			hdr.Set(github.HeaderSignature, github.Sign(githubSecret, rel.body))
			if r := h.post(t, "/webhooks/github", hdr, rel.body); r.status != http.StatusAccepted {
				t.Fatalf("release: %d %s, want 202 (ignored)", r.status, r.text)
			}
			outcome, ok := h.rawDelivery(t, "github", "gh-release")
			if !ok || !strings.Contains(outcome, "supplies the deployment") {
				t.Errorf("the release's stored outcome %q, want it ignored in favour of the tag push", outcome)
			}
			if outcome, _ := h.rawDelivery(t, "github", "gh-push-tag"); outcome != "accepted" {
				t.Errorf("the tag push's stored outcome %q, want accepted", outcome)
			}
			check(t, h, tTag)
		})
		t.Run("a sha-targeted release and the tag push, either order, are one deployment", func(t *testing.T) {
			for _, order := range [][]hook{
				{mainPush, tagPush, release("gh-release-sha", shaC1)},
				{mainPush, release("gh-release-sha", shaC1), tagPush},
			} {
				h := setup(t)
				sendAll(t, h, order)
				check(t, h, tRelease)
			}
		})
	})
}
