package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestPromoteBlockedByOpenBugs runs `stride promote` against the server for
// a service whose zero-bug-bounce criterion allows no open Highest or High
// bug: a High bug of api, stored from Jira, blocks the promotion with its
// key in the reason; a Low bug and a High bug of another service do not;
// once the High bug is done the promotion is allowed.
func TestPromoteBlockedByOpenBugs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { return t0 }
		db.Now = clock
		cfg := rings.DefaultConfig("api")
		cfg.OpenBugs = &rings.OpenBugs{Priorities: []string{"Highest", "High"}, Max: 0}
		ringsOf := func(service string) rings.Config {
			if service == "api" {
				return cfg
			}
			return rings.DefaultConfig(service)
		}
		srv := httptest.NewServer((&server.Server{DB: db, Reports: &report.Reader{Store: db, Fresh: storetest.Fresh(db)}, Now: clock, Rings: ringsOf}).Handler())
		defer srv.Close()
		_, tok, err := db.CreateToken(ctx, "ci", delivery.ScopeIngest)
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := gateCmd(ctx, append(passingArgs(t), "--server", srv.URL, "--token", tok), &out, &errOut); code != 0 {
			t.Fatalf("gate: %d %s %s", code, out.String(), errOut.String())
		}
		item := func(key, priority string, services []string, cat delivery.WorkItemCategory, at time.Time) delivery.Event {
			w := &delivery.WorkItem{Tracker: "jira", Key: key, Type: "Bug", Title: "checkout fails", Priority: priority, Services: services, Category: cat, UpdatedAt: at}
			if cat == delivery.CategoryDone {
				w.ResolvedAt = at
			}
			return delivery.Event{Key: key + at.String(), Kind: delivery.KindWorkItem, WorkItem: w}
		}
		write := func(events ...delivery.Event) {
			t.Helper()
			if _, err := intake.New(db, nil).Events(ctx, "jira", events); err != nil {
				t.Fatal(err)
			}
		}
		write(item("PAY-7", "High", []string{"api"}, delivery.CategoryInProgress, t0),
			item("PAY-8", "Low", []string{"api"}, delivery.CategoryToDo, t0),
			item("WEB-1", "Highest", []string{"web"}, delivery.CategoryToDo, t0))
		promote := []string{"--service", "api", "--sha", "abc123", "--to", delivery.RingInternal, "--server", srv.URL, "--token", tok}
		out.Reset()
		if code := promoteCmd(ctx, promote, &out, &errOut); code != 1 || !strings.Contains(out.String(), `open_bugs     1 open bug of priority Highest, High for api, at most 0 allowed: PAY-7 (High) "checkout fails"`) {
			t.Errorf("with PAY-7 open: exit %d\n%s", code, out.String())
		}
		write(item("PAY-7", "High", []string{"api"}, delivery.CategoryDone, t0.Add(time.Hour)))
		out.Reset()
		if code := promoteCmd(ctx, promote, &out, &errOut); code != 0 || !strings.Contains(out.String(), "0 open bugs of priority Highest, High for api (at most 0)") {
			t.Errorf("with PAY-7 done: exit %d\n%s", code, out.String())
		}
	})
}
