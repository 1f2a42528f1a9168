// Package respond runs the two background jobs of incident response on the
// store: the breach-and-escalation sweep, which marks an incident breached
// the moment its acknowledgement is overdue (no further event needed) and
// enqueues the breach and escalation notifications in the same transaction,
// and the outbox delivery, which picks the due notifications, makes one
// attempt of each through its route's sender and stores the outcome. The
// policy is package incident's, the delivery rules package notify's; this
// package only moves facts between them and the store. Alert hands a
// notification that is not about an incident (an SLO burn-rate alert) to
// the same routes and outbox.
//
// main registers both with the job runner:
//
//	r := respond.New(db, settings)
//	runner.Add(r.BreachTask(every))
//	runner.Add(r.OutboxTask(every))
package respond

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/store"
)

// Settings are what the jobs act by.
type Settings struct {
	Policies incident.Policies
	Routing  incident.Routing
	// Rules are the RCA rules of the report; zero means DefaultRules.
	Rules incident.Rules
	// Outbox holds the sender of each route and the retry policy.
	Outbox notify.Outbox
	// Batch is the most notifications one outbox run attempts (0: 100).
	Batch int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Responder runs the jobs against one store.
type Responder struct {
	db *store.DB
	s  Settings
}

// New returns the jobs for db.
func New(db *store.DB, s Settings) *Responder {
	if s.Rules == (incident.Rules{}) {
		s.Rules = incident.DefaultRules()
	}
	return &Responder{db: db, s: s}
}

// Routing is the routing the responder notifies by, for the write path.
func (r *Responder) Routing() incident.Routing { return r.s.Routing }

// ReportInput loads the incident report's input for a scope and period, with
// the policies, the rules and the clock of the responder, so the CLI and the
// API judge SLAs exactly as the breach job does.
func (r *Responder) ReportInput(ctx context.Context, scope store.Scope, period delivery.Period) (incident.Input, error) {
	f, err := r.db.IncidentReportInput(ctx, scope, period)
	if err != nil {
		return incident.Input{}, err
	}
	return incident.Input{Period: period, Now: r.now(), Incidents: f.Incidents, Services: f.Services,
		FollowUps: f.FollowUps, Reviews: f.Reviews, Policies: r.s.Policies, Rules: r.s.Rules}, nil
}

func (r *Responder) now() time.Time {
	if r.s.Now != nil {
		return r.s.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Responder) logger() *slog.Logger {
	if r.s.Logger != nil {
		return r.s.Logger
	}
	return slog.Default()
}

// SweepResult says what one sweep did.
type SweepResult struct {
	Looked          int // incidents read
	Breaches        int // newly marked breached
	Escalations     int // escalation steps sent
	Settled         int // answered within their SLA, no longer read
	Announced       int // reported by a connector, openings notified
	Notifications   int // outbox rows written
	FollowUpsClosed int // follow-ups closed because their tracker item closed
	Rejudged        int // judged again because a report changed their facts
}

// Sweep runs the breach-and-escalation rules once as of now and writes what
// is new (breaches, escalation steps, settled incidents and their
// notifications) in one transaction. It also closes the follow-ups whose
// issue-tracker item was reported done.
func (r *Responder) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := r.now()
	n, err := r.db.CloseTrackedFollowUps(ctx)
	if err != nil {
		return res, err
	}
	res.FollowUpsClosed = n
	work, err := r.db.SLAWork(ctx, r.s.Policies.MostSteps())
	if err != nil {
		return res, err
	}
	open, state := work.Open, work.State
	res.Looked = len(open)
	services, err := r.db.ServiceTeams(ctx)
	if err != nil {
		return res, err
	}
	teams := store.TeamOf(services)
	sw := r.s.Policies.Check(open, teams, now, state)

	byKey := make(map[incident.Key]*delivery.Incident, len(sw.Breaches)+len(sw.Escalations))
	index := func() {
		for i := range open {
			byKey[incident.Key{Service: open[i].Service, ID: open[i].ID}] = &open[i]
		}
	}
	if len(sw.Breaches)+len(sw.Escalations) > 0 {
		index()
	}
	policies := map[string]incident.Policy{}
	policyOf := func(service string) incident.Policy {
		p, ok := policies[service]
		if !ok {
			p = r.s.Policies.For(service, teams[service])
			policies[service] = p
		}
		return p
	}
	rec := store.SweepRecord{Sent: map[incident.Key]int{}, Due: map[incident.Key]time.Time{}, Rejudged: map[incident.Key]store.Rejudged{}}
	enqueue := func(target incident.Target, m notify.Message) error {
		row, err := notify.NewRow(target.Name, m, now)
		if err != nil {
			return err
		}
		rec.Notify = append(rec.Notify, row)
		return nil
	}
	for _, b := range sw.Breaches {
		k := incident.Key{Service: b.Service, ID: b.Incident}
		in := byKey[k]
		rec.Breaches = append(rec.Breaches, b)
		rec.Due[k] = b.At
		r.logger().Warn("incident breached its acknowledgement SLA", "service", in.Service, "incident", in.ID, "severity", in.Severity, "due", b.At)
		if !incident.RespondedAt(*in).IsZero() {
			// Answered late, before any sweep saw it overdue (a report
			// that arrived late, an imported history): the breach counts,
			// but nobody is to be called about an incident answered.
			continue
		}
		team := teams[in.Service]
		for _, t := range r.s.Routing.For(*in, team) {
			m := notify.IncidentMessage(*in, team, notify.ReasonBreached, now)
			m.Details = map[string]string{notify.DetailAcknowledgeDue: b.At.Format(time.RFC3339)}
			if err := enqueue(t, m); err != nil {
				return res, err
			}
		}
	}
	for _, e := range sw.Escalations {
		k := incident.Key{Service: e.Service, ID: e.Incident}
		in := byKey[k]
		rec.Due[k] = policyOf(in.Service).DueAt(in.OpenedAt, in.Severity)
		rec.Sent[k] = max(rec.Sent[k], e.Step+1)
		res.Escalations++
		t, ok := r.s.Routing.Targets[e.Target]
		if !ok || (t.Kind == incident.KindPagerDuty && in.Source == delivery.SourcePagerDuty) {
			continue
		}
		team := teams[in.Service]
		m := notify.IncidentMessage(*in, team, notify.ReasonEscalated, now)
		m.Target = e.Target
		m.Summary = fmt.Sprintf("%s, step %d to %s", m.Summary, e.Step+1, e.Target)
		if err := enqueue(t, m); err != nil {
			return res, err
		}
	}
	// An incident answered within its SLA can never breach: settle it so
	// later sweeps do not read it again. An incident a connector reported
	// (the API and the CLI notify their own openings) is announced to its
	// routes once, while it is unanswered and not yet overdue; one first
	// seen answered or overdue is only marked, its breach notice, if any,
	// saying the rest.
	for i := range open {
		in := &open[i]
		k := incident.Key{Service: in.Service, ID: in.ID}
		p := policyOf(in.Service)
		due := p.DueAt(in.OpenedAt, in.Severity)
		answered := incident.RespondedAt(*in)
		if !work.Announced[k] {
			rec.Announced = append(rec.Announced, k)
			rec.Due[k] = due
			if answered.IsZero() && !now.After(due) {
				team := teams[in.Service]
				m := notify.IncidentMessage(*in, team, notify.ReasonOpened, now)
				m.Details = map[string]string{notify.DetailAcknowledgeDue: due.Format(time.RFC3339)}
				for _, t := range r.s.Routing.For(*in, team) {
					if err := enqueue(t, m); err != nil {
						return res, err
					}
				}
				res.Announced++
			}
		}
		settled := !answered.IsZero() && !answered.After(due)
		if settled {
			rec.Settled = append(rec.Settled, k)
			rec.Due[k] = due
		}
		// Reports arrive in any order: one judged settled or breached on the
		// reports known then (a resolution before the acknowledgement that
		// came first, a detection without its severity) is judged again on
		// the merged facts, so its due time and breach end the same however
		// the reports arrived. A breach already marked sends nothing again.
		if c, ok := work.Changed[k]; ok {
			j := store.Rejudged{Changes: c.Changes, Settled: settled}
			if p.Breached(*in, now) {
				j.BreachedAt = due
			}
			rec.Rejudged[k] = j
			rec.Due[k] = due
		}
	}
	res.Breaches, res.Settled, res.Notifications, res.Rejudged = len(rec.Breaches), len(rec.Settled), len(rec.Notify), len(rec.Rejudged)
	if len(rec.Breaches)+len(rec.Sent)+len(rec.Settled)+len(rec.Announced)+len(rec.Rejudged) == 0 {
		return res, nil
	}
	if _, err := r.db.RecordSweep(ctx, rec); err != nil {
		return res, err
	}
	return res, nil
}

// Alert enqueues a notification that is not about an incident (an SLO
// burn-rate alert) to the routes of an incident of the given severity of
// team (a paging alert as 1, a ticket as 2), and returns the routes. It is
// delivered by the outbox like any other; the message's DedupKey ties its
// updates together.
func (r *Responder) Alert(ctx context.Context, severity int, team string, m notify.Message) ([]string, error) {
	now := r.now()
	if m.At.IsZero() {
		m.At = now
	}
	var rows []notify.Row
	var routes []string
	for _, t := range r.s.Routing.ForAlert(severity, team) {
		row, err := notify.NewRow(t.Name, m, now)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
		routes = append(routes, t.Name)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if _, err := r.db.Enqueue(ctx, rows...); err != nil {
		return nil, err
	}
	return routes, nil
}

// DeliverResult says what one outbox run did.
type DeliverResult struct {
	Attempted, Delivered, Retrying, GaveUp int
}

// DeliverDue attempts each notification due now once, and stores each
// outcome. A row is leased while it is attempted, so a crash mid-attempt
// makes it due again once the lease ends; a row delivered but not yet
// recorded when Stride dies is delivered twice, which the receivers absorb
// by the dedup key (at least once, never lost).
func (r *Responder) DeliverDue(ctx context.Context) (DeliverResult, error) {
	var res DeliverResult
	batch := r.s.Batch
	if batch <= 0 {
		batch = 100
	}
	timeout := r.s.Outbox.Policy.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	rows, err := r.db.ClaimNotifications(ctx, r.now(), 2*timeout+5*time.Second, batch)
	if err != nil {
		return res, err
	}
	for _, row := range rows {
		out := r.s.Outbox.Deliver(ctx, row, r.now())
		if out.Attempts == row.Attempts {
			// Cut short by shutdown: the lease makes it due again.
			continue
		}
		res.Attempted++
		if err := r.db.SaveNotification(context.WithoutCancel(ctx), out); err != nil {
			return res, err
		}
		switch {
		case !out.DeliveredAt.IsZero():
			res.Delivered++
		case !out.GaveUpAt.IsZero():
			res.GaveUp++
			r.logger().Error("notification given up", "id", out.ID, "route", out.Route, "attempts", out.Attempts, "err", out.LastError)
		default:
			res.Retrying++
			r.logger().Warn("notification failed, will retry", "id", out.ID, "route", out.Route, "attempts", out.Attempts,
				"next_attempt_at", out.NextAttemptAt, "err", out.LastError)
		}
	}
	return res, nil
}

// BreachTask is the breach-and-escalation sweep as a job of the runner.
func (r *Responder) BreachTask(every time.Duration) jobs.Task {
	return jobs.Task{Name: "incident-sla", Every: every, Share: 0.1, Run: func(ctx context.Context) error {
		_, err := r.Sweep(ctx)
		return err
	}}
}

// OutboxTask is the outbox delivery as a job of the runner.
func (r *Responder) OutboxTask(every time.Duration) jobs.Task {
	return jobs.Task{Name: "notify-outbox", Every: every, Run: func(ctx context.Context) error {
		_, err := r.DeliverDue(ctx)
		return err
	}}
}
