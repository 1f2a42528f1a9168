package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
)

// The incident response API. An incident is addressed by its service and
// id in the path, /api/v1/incidents/{service}/{id}/..., as the store keys it.
//
//	POST /api/v1/incidents                                  open
//	POST /api/v1/incidents/{service}/{id}/{action}          ack, resolve, reopen, severity
//	GET  /api/v1/incidents/{service}/{id}                   the incident, its transitions and SLA state
//	GET  /api/v1/incidents?service=&team=&from=&to=&explain= the incident report
//	POST /api/v1/incidents/{service}/{id}/followups         add a follow-up
//	POST /api/v1/incidents/{service}/{id}/followups/{fid}/done
//	PUT  /api/v1/incidents/{service}/{id}/review            the blameless review
//	GET  /api/v1/notifications?state=undelivered            the outbox, with last errors
func (s *Server) incidentRoutes(mux *routeMux) {
	mux.Handle("POST /api/v1/incidents", s.auth(delivery.ScopeIngest, s.postIncident))
	mux.Handle("GET /api/v1/incidents", s.auth(delivery.ScopeRead, s.getIncidentReport))
	mux.Handle("GET /api/v1/incidents/{service}/{id}", s.auth(delivery.ScopeRead, s.getIncident))
	mux.Handle("POST /api/v1/incidents/{service}/{id}/{action}", s.auth(delivery.ScopeIngest, s.postIncidentAction))
	mux.Handle("POST /api/v1/incidents/{service}/{id}/followups", s.auth(delivery.ScopeIngest, s.postFollowUp))
	mux.Handle("POST /api/v1/incidents/{service}/{id}/followups/{fid}/done", s.auth(delivery.ScopeIngest, s.postFollowUpDone))
	mux.Handle("PUT /api/v1/incidents/{service}/{id}/review", s.auth(delivery.ScopeIngest, s.putReview))
	mux.Handle("GET /api/v1/notifications", s.auth(delivery.ScopeRead, s.getNotifications))
}

// responder is the configured responder, or one with the default policies
// and no routes.
func (s *Server) responder() *respond.Responder {
	if s.Responder == nil {
		s.Responder = respond.New(s.DB, respond.Settings{Policies: incident.DefaultPolicies(), Now: s.now})
	}
	return s.Responder
}

// decodeJSON decodes a small JSON body strictly; an empty body leaves v.
func decodeIncidentBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r, 1<<20)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return delivery.Errorf(delivery.EINVALID, "body: %v", err)
	}
	return nil
}

// transitionBody is the body of an incident change; every field is
// optional but severity for opening and for a severity change.
type transitionBody struct {
	Service  string                  `json:"service"`
	ID       string                  `json:"id"`
	Title    string                  `json:"title"`
	Severity *int                    `json:"severity"`
	Origin   delivery.IncidentOrigin `json:"origin"`
	At       time.Time               `json:"at"`
	By       string                  `json:"by"`
	Note     string                  `json:"note"`
}

func (s *Server) postIncident(w http.ResponseWriter, r *http.Request) {
	var b transitionBody
	if err := decodeIncidentBody(w, r, &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	if b.Severity == nil {
		s.writeError(w, r, delivery.FieldError("severity", "is required (0 critical … 3 minor)"))
		return
	}
	if b.ID == "" {
		at := b.At
		if at.IsZero() {
			at = s.now()
		}
		b.ID = NewIncidentID(at)
	}
	s.changeIncident(w, r, http.StatusCreated, intake.IncidentRequest{Service: b.Service, ID: b.ID, Title: b.Title, Origin: b.Origin,
		Transition: incident.Transition{Action: incident.ActionOpen, At: b.At, By: b.By, Severity: *b.Severity, Note: b.Note}})
}

// NewIncidentID names an incident opened without an id: its opening time
// and four random bytes, so two openings in one second differ.
func NewIncidentID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// incidentActions are the path words of the transitions.
var incidentActions = map[string]incident.Action{
	"ack": incident.ActionAcknowledge, "acknowledge": incident.ActionAcknowledge,
	"resolve": incident.ActionResolve, "reopen": incident.ActionReopen, "severity": incident.ActionSeverity,
}

func (s *Server) postIncidentAction(w http.ResponseWriter, r *http.Request) {
	action, ok := incidentActions[r.PathValue("action")]
	if !ok {
		s.writeError(w, r, delivery.Errorf(delivery.ENOTFOUND, "no incident action %q (ack, resolve, reopen, severity, followups)", r.PathValue("action")))
		return
	}
	var b transitionBody
	if err := decodeIncidentBody(w, r, &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	t := incident.Transition{Action: action, At: b.At, By: b.By, Note: b.Note}
	if action == incident.ActionSeverity {
		if b.Severity == nil {
			s.writeError(w, r, delivery.FieldError("severity", "is required"))
			return
		}
		t.Severity = *b.Severity
	}
	s.changeIncident(w, r, http.StatusOK, intake.IncidentRequest{Service: r.PathValue("service"), ID: r.PathValue("id"), Transition: t})
}

func (s *Server) changeIncident(w http.ResponseWriter, r *http.Request, status int, req intake.IncidentRequest) {
	res, err := s.Intake.ChangeIncident(r.Context(), "api", s.responder().Routing(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, res)
}

// incidentDetail is one incident with its history.
type incidentDetail struct {
	Incident    delivery.Incident     `json:"incident"`
	Transitions []incident.Transition `json:"transitions"`
	SLADueAt    time.Time             `json:"sla_due_at,omitzero"`
	BreachedAt  time.Time             `json:"breached_at,omitzero"`
	Escalated   int                   `json:"escalation_steps_sent"`
	FollowUps   []incident.FollowUp   `json:"followups"`
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	ctx, service, id := r.Context(), r.PathValue("service"), r.PathValue("id")
	in, err := s.DB.Incident(ctx, service, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d := incidentDetail{Incident: in, Transitions: []incident.Transition{}, FollowUps: []incident.FollowUp{}}
	trs, err := s.DB.Transitions(ctx, service, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d.Transitions = append(d.Transitions, trs...)
	st, err := s.DB.SLAState(ctx, service, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d.SLADueAt, d.BreachedAt, d.Escalated = st.Due, st.BreachedAt, st.Sent
	fs, err := s.DB.FollowUps(ctx, service)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, f := range fs {
		if f.Incident == id {
			d.FollowUps = append(d.FollowUps, f)
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// incidentReport is the report, with the incidents behind one figure when
// ?explain= names it.
type incidentReport struct {
	incident.Report
	Explain []incident.Explained `json:"explain,omitempty"`
}

func (s *Server) getIncidentReport(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.responder().ReportInput(r.Context(), scope, period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := incidentReport{Report: incident.Compute(in)}
	if f := r.URL.Query().Get("explain"); f != "" {
		if out.Explain, err = incident.Explain(in, f); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type followUpBody struct {
	Title    string    `json:"title"`
	Tracker  string    `json:"tracker"`
	IssueKey string    `json:"issue_key"`
	Due      time.Time `json:"due"`
}

func (s *Server) postFollowUp(w http.ResponseWriter, r *http.Request) {
	var b followUpBody
	if err := decodeIncidentBody(w, r, &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.Intake.AddFollowUp(r.Context(), incident.FollowUp{Service: r.PathValue("service"), Incident: r.PathValue("id"),
		Title: b.Title, Tracker: b.Tracker, IssueKey: b.IssueKey, Due: b.Due})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (s *Server) postFollowUpDone(w http.ResponseWriter, r *http.Request) {
	var b struct {
		At time.Time `json:"at"`
	}
	if err := decodeIncidentBody(w, r, &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.Intake.FinishFollowUp(r.Context(), r.PathValue("service"), r.PathValue("id"), r.PathValue("fid"), b.At)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) putReview(w http.ResponseWriter, r *http.Request) {
	var rv incident.Review
	if err := decodeIncidentBody(w, r, &rv); err != nil {
		s.writeError(w, r, err)
		return
	}
	service, id := r.PathValue("service"), r.PathValue("id")
	if (rv.Service != "" && rv.Service != service) || (rv.Incident != "" && rv.Incident != id) {
		s.writeError(w, r, delivery.FieldError("incident", "the body names another incident than the path"))
		return
	}
	rv.Service, rv.Incident = service, id
	if err := s.Intake.PutReview(r.Context(), rv); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rv)
}

// notificationView is an outbox row as the API shows it, with its state.
type notificationView struct {
	notify.Row
	State string `json:"state"`
}

func (s *Server) getNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	undelivered := false
	switch q.Get("state") {
	case "", "all":
	case "undelivered":
		undelivered = true
	default:
		s.writeError(w, r, delivery.FieldError("state", "want undelivered or all, got %q", q.Get("state")))
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, delivery.FieldError("limit", "want 1–1000, got %q", v))
			return
		}
		limit = n
	}
	rows, err := s.DB.Notifications(r.Context(), undelivered, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]notificationView, 0, len(rows))
	for _, row := range rows {
		state := "pending"
		switch {
		case !row.DeliveredAt.IsZero():
			state = "delivered"
		case !row.GaveUpAt.IsZero():
			state = "gave_up"
		}
		out = append(out, notificationView{Row: row, State: state})
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": out})
}

// outboxGauge is stride_notifications_undelivered, read from the store at
// each scrape, so it is right whichever replica delivered.
type outboxGauge struct {
	once  sync.Once
	gauge *prometheus.GaugeVec
}

// observeOutbox updates the undelivered-notifications gauge before a scrape.
func (s *Server) observeOutbox(ctx context.Context) {
	if s.DB == nil {
		return
	}
	s.metrics.init()
	s.outbox.once.Do(func() {
		s.outbox.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stride_notifications_undelivered",
			Help: "Notifications in the outbox not delivered: pending (to be attempted) and gave_up (every attempt failed).",
		}, []string{"state"})
		s.metrics.registry.MustRegister(s.outbox.gauge)
	})
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pending, gaveUp, err := s.DB.UndeliveredCounts(ctx)
	if err != nil {
		s.logger().Error("metrics: count undelivered notifications", "err", err)
		return
	}
	s.outbox.gauge.WithLabelValues("pending").Set(float64(pending))
	s.outbox.gauge.WithLabelValues("gave_up").Set(float64(gaveUp))
}
