package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
)

// MaxGateBody bounds a gate result or promotion request: a few dozen
// criteria, far below this.
const MaxGateBody = 1 << 20

// Limits of the promotion history a GET returns.
const (
	defaultHistory = 100
	maxHistory     = 1000
)

func (s *Server) ringConfig(service string) (rings.Config, error) {
	c := rings.DefaultConfig(service)
	if s.Rings != nil {
		c = s.Rings(service)
	}
	if err := c.Validate(); err != nil {
		// Configuration is validated when it is loaded; reaching here is a
		// fault of the server's wiring, not of the request.
		return c, fmt.Errorf("ring configuration of %s: %s", service, err.Error())
	}
	return c, nil
}

// decodeJSON decodes one JSON object; strict refuses unknown fields.
func decodeJSON(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return delivery.Errorf(delivery.EINVALID, "invalid JSON body: %v", err)
	}
	if dec.More() {
		return delivery.Errorf(delivery.EINVALID, "invalid JSON body: more than one value")
	}
	return nil
}

// postGate records a gate result CI posted (stride gate --server) and
// answers with the service's error-budget state: frozen when an SLO of the
// service has no budget left (the gate then fails unless the run is a fix),
// or not checked when the service has no evaluated SLO.
// Unknown fields are ignored, so a newer CLI can post to an older server.
func (s *Server) postGate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxGateBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var res gate.Result
	if err := decodeJSON(body, &res, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := res.CheckRecordable(); err != nil {
		s.writeError(w, r, err)
		return
	}
	criteria := res.Criteria
	if criteria == nil {
		criteria = []gate.Criterion{}
	}
	data, err := json.Marshal(criteria)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("record gate of %s: encode criteria: %w", res.Service, err))
		return
	}
	labelled := ""
	if !res.Fix {
		if labelled, err = s.fixByLabels(r.Context(), res.Service, res.SHA, res.FixLabels); err != nil {
			s.writeError(w, r, err)
			return
		}
		res.Fix = labelled != ""
	}
	name := gate.Name(res)
	id, err := s.DB.RecordGate(r.Context(), store.GateRecord{Service: res.Service, SHA: res.SHA, Name: name,
		Verdict: string(res.Verdict), Fix: res.Fix, Criteria: data})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	freeze, err := s.budgetFreeze(r, res.Service)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	budget := fmt.Sprintf("no SLOs are configured for %s, so the error budget was not checked", res.Service)
	if freeze.Known {
		budget = freeze.Reason
	}
	msg := fmt.Sprintf("recorded gate %q of %s @ %s (%s); %s",
		name, res.Service, res.SHA, res.Verdict, budget)
	if res.SHA == "" {
		msg = fmt.Sprintf("recorded gate %q of %s without a commit sha (%s): it cannot count toward a promotion; %s",
			name, res.Service, res.Verdict, budget)
	}
	resp := gate.Response{ID: id, Frozen: freeze.Frozen, SLOsConfigured: freeze.Known, Message: msg, FixReason: labelled}
	if resp.Gates, err = s.latestGateRuns(r.Context(), res.Service, res.SHA); err != nil {
		s.writeError(w, r, err)
		return
	}
	if freeze.Frozen {
		resp.Reason = freeze.Reason
	}
	writeJSON(w, http.StatusCreated, resp)
}

// promotionAnswer is the answer to POST /api/v1/promotions: the decision,
// plus the id of the recorded promotion (absent for a dry run).
type promotionAnswer struct {
	rings.PromotionResponse
	ID string `json:"id,omitempty"`
}

// postPromotion decides whether a commit may move to a ring, from the facts
// in the store, and records the decision unless it is a dry run. Allowed or
// refused, the answer is 200: a refusal is a decision, not an error. An
// unknown ring is a malformed request (400).
func (s *Server) postPromotion(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxGateBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Strict: a misspelt dry_run must not turn a question into a record.
	var req rings.PromotionRequest
	if err := decodeJSON(body, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg, err := s.ringConfig(req.Service)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if cfg.Index(req.To) < 0 {
		s.writeError(w, r, delivery.FieldError("to", "%q is not a ring of %s (rings: %s)", req.To, req.Service, ringNames(cfg)))
		return
	}
	ctx := r.Context()
	freeze, err := s.budgetFreeze(r, req.Service)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	facts := rings.Facts{Config: cfg, SHA: req.SHA, To: req.To, Fix: req.Fix, FixReason: req.FixReason, Now: s.now(),
		Budget: rings.Budget{Known: freeze.Known, Exhausted: freeze.Frozen, Reason: freeze.Reason}}
	if !facts.Fix {
		if facts.FixReason, err = s.fixByLabels(ctx, req.Service, req.SHA, req.FixLabels); err != nil {
			s.writeError(w, r, err)
			return
		}
		facts.Fix = facts.FixReason != ""
	}
	if facts.Gates, err = s.gateRuns(ctx, req.Service, req.SHA); err != nil {
		s.writeError(w, r, err)
		return
	}
	if facts.Deployments, err = s.DB.CommitDeployments(ctx, req.Service, req.SHA); err != nil {
		s.writeError(w, r, err)
		return
	}
	if facts.Incidents, err = s.DB.OpenIncidents(ctx, req.Service); err != nil {
		s.writeError(w, r, err)
		return
	}
	if facts.OpenWorkItems, err = s.openBugs(ctx, cfg); err != nil {
		s.writeError(w, r, err)
		return
	}
	if facts.Approvals, err = s.approvals(r, req.Service, req.SHA, req.To); err != nil {
		s.writeError(w, r, err)
		return
	}
	ans := promotionAnswer{PromotionResponse: rings.PromotionResponse{Decision: rings.Decide(facts), DryRun: req.DryRun}}
	if !req.DryRun {
		d := ans.Decision
		conditions := d.Conditions
		if conditions == nil {
			conditions = []rings.Condition{}
		}
		data, err := json.Marshal(conditions)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("record promotion of %s @ %s: encode conditions: %w", d.Service, d.SHA, err))
			return
		}
		p := store.Promotion{Decision: store.PromotionDecision{Service: d.Service, SHA: d.SHA, From: d.From, To: d.To, Allowed: d.Allowed, Conditions: data},
			Fix: facts.Fix, DecidedAt: facts.Now}
		if tok, ok := ctx.Value(tokenKey).(store.Token); ok {
			p.RequestedBy = tok.Name
		}
		if ans.ID, err = s.DB.RecordPromotion(ctx, p); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

// promotionJSON is a recorded promotion as the API shows it.
type promotionJSON struct {
	ID          string            `json:"id"`
	Service     string            `json:"service"`
	SHA         string            `json:"sha"`
	From        string            `json:"from,omitempty"`
	To          string            `json:"to"`
	Allowed     bool              `json:"allowed"`
	Fix         bool              `json:"fix"`
	Conditions  []rings.Condition `json:"conditions"`
	RequestedBy string            `json:"requested_by,omitempty"`
	DecidedAt   time.Time         `json:"decided_at"`
}

func promotionsJSON(ps []store.Promotion) ([]promotionJSON, error) {
	out := make([]promotionJSON, 0, len(ps))
	for _, p := range ps {
		d := p.Decision
		var conditions []rings.Condition
		if err := json.Unmarshal(d.Conditions, &conditions); err != nil {
			return nil, fmt.Errorf("promotion %s: decode conditions: %w", p.ID, err)
		}
		out = append(out, promotionJSON{ID: p.ID, Service: d.Service, SHA: d.SHA, From: d.From, To: d.To, Allowed: d.Allowed,
			Fix: p.Fix, Conditions: conditions, RequestedBy: p.RequestedBy, DecidedAt: p.DecidedAt})
	}
	return out, nil
}

// historyQuery reads ?service= (required), ?sha= and ?limit=.
func historyQuery(r *http.Request, needSHA bool) (service, sha string, limit int, err error) {
	q := r.URL.Query()
	service, sha, limit = q.Get("service"), q.Get("sha"), defaultHistory
	switch {
	case service == "":
		return "", "", 0, delivery.FieldError("service", "is required")
	case needSHA && sha == "":
		return "", "", 0, delivery.FieldError("sha", "is required")
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxHistory {
			return "", "", 0, delivery.FieldError("limit", "must be a whole number from 1 to %d", maxHistory)
		}
	}
	return service, sha, limit, nil
}

// getPromotions lists a service's recorded promotion decisions, newest
// first, optionally of one commit (?sha=).
func (s *Server) getPromotions(w http.ResponseWriter, r *http.Request) {
	service, sha, limit, err := historyQuery(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ps, err := s.DB.Promotions(r.Context(), service, sha, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	history, err := promotionsJSON(ps)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The sign-off votes beside the decisions they fed, so the history
	// says who approved or refused what, and when.
	votes, err := s.approvals(r, service, sha, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"service": service, "promotions": history, "approvals": votes})
}

// ringsAnswer is a commit's rollout: its state in each ring, the gate runs
// that count for it, and its promotion history, newest first.
type ringsAnswer struct {
	rings.Position
	Gates      []rings.GateRun `json:"gates"`
	Promotions []promotionJSON `json:"promotions"`
}

// getRings shows how far a commit has rolled out.
func (s *Server) getRings(w http.ResponseWriter, r *http.Request) {
	service, sha, limit, err := historyQuery(r, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.rollout(r.Context(), service, sha, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// gateRuns returns the gate runs that count for a commit's promotion: the
// latest result of each gate.
func (s *Server) gateRuns(ctx context.Context, service, sha string) ([]rings.GateRun, error) {
	results, err := s.DB.GateResults(ctx, service, sha)
	if err != nil {
		return nil, err
	}
	runs := make([]rings.GateRun, 0, len(results))
	for _, g := range results {
		runs = append(runs, rings.GateRun{Name: g.Name, Passed: g.Verdict == string(gate.Pass), At: g.RecordedAt})
	}
	return rings.LatestGates(runs), nil
}

func ringNames(c rings.Config) string {
	var b bytes.Buffer
	for i, r := range c.Rings {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.Name)
	}
	return b.String()
}
