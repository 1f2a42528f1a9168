package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// signOffRings requires a sign-off to enter ring1 and none for ring2.
func signOffRings(service string) rings.Config {
	c := rings.DefaultConfig(service)
	c.Rings[1].Approval = true
	return c
}

func (e *env) approve(ring, by, vote, note string) rings.Approval {
	e.t.Helper()
	var rec rings.Approval
	a := rings.Approval{Service: "api", SHA: "abc", Ring: ring, By: by, Vote: vote, Note: note}
	if code := e.do("POST", "/api/v1/approvals", e.ingest, a, &rec); code != http.StatusCreated {
		e.t.Fatalf("POST approval %+v: %d %+v", a, code, rec)
	}
	return rec
}

// TestSignOffDecidesByTheLatestVote walks one commit, ready in every other
// respect to move from ring0 to ring1, through a sequence of votes: with
// none it is refused, a no refuses and names who said it, a later yes
// lets it through, a still later no stops it again. Each decision is
// recorded, and the history lists the votes with who and when.
func TestSignOffDecidesByTheLatestVote(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, signOffRings)
		e.gate("abc", gate.Pass)
		e.events(deployment("1", "abc", "canary", "ring0", delivery.DeploymentSuccess, t0))
		steps := []struct {
			vote, by, note string
			allowed        bool
			status         rings.Status
			reason         string
		}{
			{allowed: false, status: rings.Fail, reason: "ring1 needs a sign-off: stride approve --service api --sha abc --ring ring1"},
			{vote: "no", by: "dana", note: "checkout regression", status: rings.Fail, reason: "dana voted no for ring1 at 2026-03-02T13:00:00Z: checkout regression; a later yes lifts it"},
			{vote: "yes", by: "lee", allowed: true, status: rings.Pass, reason: "lee voted yes for ring1 at 2026-03-02T14:00:00Z"},
			{vote: "no", by: "dana", note: "found another", status: rings.Fail, reason: "dana voted no for ring1 at 2026-03-02T15:00:00Z: found another"},
		}
		for i, s := range steps {
			e.clock.Set(t0.Add(time.Duration(3+i) * time.Hour))
			if s.vote != "" {
				rec := e.approve("ring1", s.by, s.vote, s.note)
				if rec.ID == "" || !rec.At.Equal(e.clock.Now()) || rec.By != s.by || rec.Vote != s.vote {
					t.Errorf("step %d: recorded %+v", i, rec)
				}
			}
			resp, _ := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring1"})
			got := condition(resp.Decision, rings.CondApproval)
			if resp.Allowed != s.allowed || got.Status != s.status || !strings.HasPrefix(got.Reason, s.reason) {
				t.Errorf("step %d: allowed %v, approval %s %q; want %v, %s %q", i, resp.Allowed, got.Status, got.Reason, s.allowed, s.status, s.reason)
			}
		}
		// A vote for ring0 does not count for ring1, and a ring that
		// requires no sign-off has no approval condition until someone
		// votes; then a no holds it as well.
		resp, _ := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring0"})
		if c := condition(resp.Decision, rings.CondApproval); c.Name != "" || !resp.Allowed {
			t.Errorf("ring0 without votes: %+v", resp.Decision)
		}
		e.approve("ring0", "sam", "no", "")
		resp, _ = e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring0"})
		if c := condition(resp.Decision, rings.CondApproval); c.Status != rings.Fail || resp.Allowed {
			t.Errorf("ring0 after a no: %+v", resp.Decision)
		}

		var hist struct {
			Promotions []struct {
				To         string
				Allowed    bool
				Conditions []rings.Condition
			}
			Approvals []rings.Approval
		}
		if code := e.do("GET", "/api/v1/promotions?service=api&sha=abc", e.read, nil, &hist); code != http.StatusOK {
			t.Fatalf("history: %d", code)
		}
		if len(hist.Promotions) != 6 || len(hist.Approvals) != 4 {
			t.Fatalf("history holds %d promotions and %d votes, want 6 and 4: %+v", len(hist.Promotions), len(hist.Approvals), hist)
		}
		if a := hist.Approvals[1]; a.By != "lee" || a.Vote != "yes" || a.Ring != "ring1" || !a.At.Equal(t0.Add(5*time.Hour)) {
			t.Errorf("second vote %+v", a)
		}
		// Newest first: the third decision from the end is lee's yes.
		if p := hist.Promotions[3]; !p.Allowed || !strings.Contains(condition(rings.Decision{Conditions: p.Conditions}, rings.CondApproval).Reason, "lee voted yes") {
			t.Errorf("recorded decision %+v", p)
		}
		var list struct{ Approvals []rings.Approval }
		if code := e.do("GET", "/api/v1/approvals?service=api&sha=abc&ring=ring1", e.read, nil, &list); code != http.StatusOK || len(list.Approvals) != 3 {
			t.Errorf("approvals of ring1: %d %+v", code, list)
		}
	})
}

func TestInvalidApprovalsAre400(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, signOffRings)
		ok := rings.Approval{Service: "api", SHA: "abc", Ring: "ring1", By: "dana", Vote: "yes"}
		with := func(f func(a *rings.Approval)) rings.Approval { a := ok; f(&a); return a }
		tests := []struct {
			name  string
			body  any
			field string
			text  string
		}{
			{"a vote that is neither yes nor no", with(func(a *rings.Approval) { a.Vote = "maybe" }), "vote", `"maybe": want yes or no`},
			{"a vote without a voter", with(func(a *rings.Approval) { a.By = " " }), "by", "is required"},
			{"a vote for an unknown ring", with(func(a *rings.Approval) { a.Ring = "ring9" }), "ring", `"ring9" is not a ring of api`},
			{"a vote without a sha", with(func(a *rings.Approval) { a.SHA = "" }), "sha", "is required"},
			{"a note too long", with(func(a *rings.Approval) { a.Note = strings.Repeat("x", 1001) }), "note", "longer than 1000"},
			{"a misspelt field", `{"service":"api","sha":"abc","ring":"ring1","by":"dana","vote":"yes","notes":"x"}`, "", "unknown field"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var body struct{ Error, Field string }
				code := e.do("POST", "/api/v1/approvals", e.ingest, tt.body, &body)
				if code != http.StatusBadRequest || body.Field != tt.field || !strings.Contains(body.Error, tt.text) {
					t.Errorf("%d %+v, want 400 on %q saying %q", code, body, tt.field, tt.text)
				}
			})
		}
		if code := e.do("POST", "/api/v1/approvals", e.read, ok, nil); code != http.StatusForbidden {
			t.Errorf("a read token voted: %d", code)
		}
		if votes, err := db.Approvals(ctx, "api", "", ""); err != nil || len(votes) != 0 {
			t.Errorf("invalid votes stored: %+v %v", votes, err)
		}
	})
}
