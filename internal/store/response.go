package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// This file keeps the response side of incidents: the transitions made
// through the CLI and the API, the state of the breach-and-escalation job,
// RCA follow-ups and reviews, and the durable outbox of notifications. A
// notification is always written in the transaction of the change that
// causes it (ChangeIncident, RecordSweep), so a crash can delay it but
// never lose it.

// IncidentChange is one transition of an incident made through the CLI or
// the API: the incident event it amounts to (merged with the connectors'
// reports as any other), the transition kept with who and when, and the
// notifications it causes.
type IncidentChange struct {
	Event      delivery.Event
	Transition delivery.IncidentTransition
	Notify     []delivery.Notification
}

// Incident returns one stored incident, or a not-found error.
func (db *DB) Incident(ctx context.Context, service, id string) (delivery.Incident, error) {
	in, err := scanIncident(db.read.QueryRowContext(ctx, db.q(`SELECT `+incidentColumns+` FROM incidents WHERE service = ? AND id = ?`), service, id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, notFound("no incident %s/%s", service, id)
	}
	if err != nil {
		return in, fmt.Errorf("read incident %s/%s: %w", service, id, err)
	}
	return in, nil
}

// ChangeIncident stores an incident change in one transaction: the event,
// the transition and the outbox rows. It returns the stored incident after
// the merge and the ids of the rows enqueued. An event whose key was seen
// before (a retried request) changes nothing and enqueues nothing.
func (db *DB) ChangeIncident(ctx context.Context, c IncidentChange) (delivery.Incident, []int64, error) {
	if c.Event.Incident == nil {
		return delivery.Incident{}, nil, fmt.Errorf("change incident: the event carries no incident")
	}
	key := c.Event.Incident
	var ids []int64
	var stored delivery.Incident
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.ingestTx(ctx, tx, []delivery.Event{c.Event})
		if err != nil {
			return err
		}
		if res.Added == 1 {
			t := c.Transition
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO incident_transitions (service, incident, action, at, by_whom, severity, note)
				VALUES (?, ?, ?, ?, ?, ?, ?)`), key.Service, key.ID, string(t.Action), t.At.UnixMicro(), t.By, t.Severity, t.Note); err != nil {
				return fmt.Errorf("record transition: %w", err)
			}
			if ids, err = db.enqueue(ctx, tx, c.Notify); err != nil {
				return err
			}
			if t.Action == delivery.ActionOpen || t.Action == delivery.ActionReopen {
				if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO incident_sla (service, incident, announced) VALUES (?, ?, 1)
					ON CONFLICT (service, incident) DO UPDATE SET announced = 1`), key.Service, key.ID); err != nil {
					return fmt.Errorf("record announcement: %w", err)
				}
			}
		}
		stored, err = scanIncident(tx.QueryRowContext(ctx, db.q(`SELECT `+incidentColumns+` FROM incidents WHERE service = ? AND id = ?`), key.Service, key.ID))
		return err
	})
	if err != nil {
		return delivery.Incident{}, nil, fmt.Errorf("change incident %s/%s: %w", key.Service, key.ID, err)
	}
	return stored, ids, nil
}

// Transitions returns the transitions of an incident, oldest first.
func (db *DB) Transitions(ctx context.Context, service, id string) ([]delivery.IncidentTransition, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT action, at, by_whom, severity, note FROM incident_transitions
		WHERE service = ? AND incident = ? ORDER BY at, seq`), service, id)
	if err != nil {
		return nil, fmt.Errorf("read transitions of %s/%s: %w", service, id, err)
	}
	defer rows.Close()
	var out []delivery.IncidentTransition
	for rows.Next() {
		var t delivery.IncidentTransition
		var action string
		var at int64
		if err := rows.Scan(&action, &at, &t.By, &t.Severity, &t.Note); err != nil {
			return nil, fmt.Errorf("read transitions of %s/%s: %w", service, id, err)
		}
		t.Action, t.At = delivery.IncidentAction(action), time.UnixMicro(at).UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// SLAWork is what the breach-and-escalation job has to look at.
type SLAWork struct {
	// Open are the incidents not settled (answered within their SLA) that
	// are unanswered or not yet marked breached, ordered by service.
	Open []delivery.Incident
	// State is the job's state of each that has one.
	State map[delivery.IncidentKey]delivery.ResponseState
	// Announced are those whose opening was notified.
	Announced map[delivery.IncidentKey]bool
	// Changed are those whose SLA facts changed since the job judged them
	// (settled or breached ones included), with the number of changes read
	// and the breach marked before, to judge again on the merged facts.
	Changed map[delivery.IncidentKey]SLAChange
}

// SLAChange is an incident to judge again: Changes is how many changes of
// its facts are not judged yet, BreachedAt its breach marked before (zero:
// none).
type SLAChange struct {
	Changes    int
	BreachedAt time.Time
}

// SLAWork returns what the breach-and-escalation job has to look at. An
// incident answered in time is read until one run settles it. A breached,
// unanswered incident is read while it may be owed an escalation step:
// while fewer steps were sent to it than steps, the most any policy has
// (0 when no policy escalates: once breached, such an incident is owed
// nothing until a report changes it).
func (db *DB) SLAWork(ctx context.Context, steps int) (SLAWork, error) {
	work := SLAWork{State: map[delivery.IncidentKey]delivery.ResponseState{}, Announced: map[delivery.IncidentKey]bool{},
		Changed: map[delivery.IncidentKey]SLAChange{}}
	cols := "i." + strings.ReplaceAll(incidentColumns, ", ", ", i.")
	rows, err := db.read.QueryContext(ctx, `SELECT `+cols+`, s.breached_at, COALESCE(s.sent, 0), COALESCE(s.announced, 0), COALESCE(s.changes, 0)
		FROM incidents i LEFT JOIN incident_sla s ON s.service = i.service AND s.incident = i.id
		WHERE (COALESCE(s.settled, 0) = 0
		  AND (s.breached_at IS NULL OR (i.acknowledged_at IS NULL AND i.resolved_at IS NULL AND s.sent < `+strconv.Itoa(steps)+`)))
		  OR s.changes > 0
		ORDER BY i.service, i.id`)
	if err != nil {
		return work, fmt.Errorf("read incidents for the SLA: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var breached sql.NullInt64
		var sent, announced, changes int
		in, err := scanIncident(scanTail{rows, []any{&breached, &sent, &announced, &changes}})
		if err != nil {
			return work, fmt.Errorf("read incidents for the SLA: %w", err)
		}
		work.Open = append(work.Open, in)
		k := delivery.IncidentKey{Service: in.Service, ID: in.ID}
		if breached.Valid || sent > 0 {
			work.State[k] = delivery.ResponseState{Breached: breached.Valid, Sent: sent}
		}
		if announced != 0 {
			work.Announced[k] = true
		}
		if changes > 0 {
			work.Changed[k] = SLAChange{Changes: changes, BreachedAt: fromMicros(breached)}
		}
	}
	if err := rows.Err(); err != nil {
		return work, fmt.Errorf("read incidents for the SLA: %w", err)
	}
	return work, nil
}

// scanTail scans a row of incidentColumns followed by more columns.
type scanTail struct {
	s    interface{ Scan(...any) error }
	more []any
}

func (t scanTail) Scan(dest ...any) error { return t.s.Scan(append(dest, t.more...)...) }

// SweepRecord is what one run of the breach-and-escalation job writes.
type SweepRecord struct {
	// Breaches are marked breached at their At (the due time).
	Breaches []delivery.Breach
	// Sent is the new count of escalation steps sent, per incident.
	Sent map[delivery.IncidentKey]int
	// Settled are incidents answered within their SLA: never breached,
	// nothing more to escalate.
	Settled []delivery.IncidentKey
	// Announced are incidents whose opening is notified (or, seen first
	// when already answered or overdue, will never be).
	Announced []delivery.IncidentKey
	// Due is the acknowledgement due time of each incident written.
	Due map[delivery.IncidentKey]time.Time
	// Rejudged are incidents judged again on changed facts (SLAWork's
	// Changed): their breach becomes exactly BreachedAt (zero: none), they
	// are settled or not, and the changes judged are taken off. They are
	// written after everything above.
	Rejudged map[delivery.IncidentKey]Rejudged
	// Notify are the breach and escalation notifications.
	Notify []delivery.Notification
}

// Rejudged is the new judgement of an incident whose facts changed.
type Rejudged struct {
	BreachedAt time.Time
	Settled    bool
	Changes    int // the changes read, as SLAWork returned them
}

// RecordSweep writes a sweep in one transaction: the breaches, the new
// state and the notifications, so a crash repeats nothing and loses
// nothing. It returns the ids of the rows enqueued.
func (db *DB) RecordSweep(ctx context.Context, r SweepRecord) ([]int64, error) {
	var ids []int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		upsert := func(k delivery.IncidentKey, set string, args ...any) error {
			due := micros(r.Due[k])
			a := append([]any{k.Service, k.ID, due}, args...)
			_, err := tx.ExecContext(ctx, db.q(`INSERT INTO incident_sla (service, incident, due_at, breached_at, sent, settled, announced)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (service, incident) DO UPDATE SET due_at = COALESCE(excluded.due_at, incident_sla.due_at), `+set), a...)
			if err != nil {
				return fmt.Errorf("record SLA state of %s/%s: %w", k.Service, k.ID, err)
			}
			return nil
		}
		for _, b := range r.Breaches {
			k := delivery.IncidentKey{Service: b.Service, ID: b.Incident}
			if err := upsert(k, "breached_at = COALESCE(incident_sla.breached_at, excluded.breached_at)", b.At.UnixMicro(), 0, 0, 0); err != nil {
				return err
			}
		}
		for k, n := range r.Sent {
			if err := upsert(k, "sent = excluded.sent", nil, n, 0, 0); err != nil {
				return err
			}
		}
		for _, k := range r.Settled {
			if err := upsert(k, "settled = 1", nil, 0, 1, 0); err != nil {
				return err
			}
		}
		for _, k := range r.Announced {
			if err := upsert(k, "announced = 1", nil, 0, 0, 1); err != nil {
				return err
			}
		}
		for k, j := range r.Rejudged {
			settled := 0
			if j.Settled {
				settled = 1
			}
			if err := upsert(k, "breached_at = excluded.breached_at, settled = excluded.settled, changes = incident_sla.changes - ?",
				micros(j.BreachedAt), 0, settled, 0, j.Changes); err != nil {
				return err
			}
		}
		var err error
		ids, err = db.enqueue(ctx, tx, r.Notify)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record SLA sweep: %w", err)
	}
	return ids, nil
}

// SLAState is the stored SLA state of one incident.
type SLAState struct {
	Due        time.Time
	BreachedAt time.Time
	Sent       int
}

// SLAState returns the SLA state of an incident; the zero state when the
// job never looked at it.
func (db *DB) SLAState(ctx context.Context, service, id string) (SLAState, error) {
	var due, breached sql.NullInt64
	var st SLAState
	err := db.read.QueryRowContext(ctx, db.q(`SELECT due_at, breached_at, sent FROM incident_sla WHERE service = ? AND incident = ?`), service, id).
		Scan(&due, &breached, &st.Sent)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read SLA state of %s/%s: %w", service, id, err)
	}
	st.Due, st.BreachedAt = fromMicros(due), fromMicros(breached)
	return st, nil
}

const followUpColumns = "id, service, incident, title, tracker, issue_key, created_at, due_at, done_at"

func scanFollowUp(s interface{ Scan(...any) error }) (delivery.FollowUp, error) {
	var f delivery.FollowUp
	var id, created int64
	var due, done sql.NullInt64
	err := s.Scan(&id, &f.Service, &f.Incident, &f.Title, &f.Tracker, &f.IssueKey, &created, &due, &done)
	f.ID = strconv.FormatInt(id, 10)
	f.CreatedAt, f.Due, f.DoneAt = time.UnixMicro(created).UTC(), fromMicros(due), fromMicros(done)
	return f, err
}

// AddFollowUp stores a follow-up of a stored incident and returns it with
// its id. A follow-up of an unknown incident is a not-found error.
func (db *DB) AddFollowUp(ctx context.Context, f delivery.FollowUp) (delivery.FollowUp, error) {
	if err := f.Validate(); err != nil {
		return f, err
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM incidents WHERE service = ? AND id = ?`), f.Service, f.Incident).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("no incident %s/%s", f.Service, f.Incident)
		}
		var id int64
		if err := tx.QueryRowContext(ctx, db.q(`INSERT INTO incident_followups (service, incident, title, tracker, issue_key, created_at, due_at, done_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), f.Service, f.Incident, f.Title, f.Tracker, f.IssueKey,
			f.CreatedAt.UnixMicro(), micros(f.Due), micros(f.DoneAt)).Scan(&id); err != nil {
			return err
		}
		f.ID = strconv.FormatInt(id, 10)
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("add follow-up of %s/%s: %w", f.Service, f.Incident, err)
	}
	return f, nil
}

// FinishFollowUp marks a follow-up of an incident done at at and returns
// it. A follow-up done before keeps its first done time.
func (db *DB) FinishFollowUp(ctx context.Context, service, incidentID, id string, at time.Time) (delivery.FollowUp, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return delivery.FollowUp{}, delivery.FieldError("followup", "want a follow-up id (a number), got %q", id)
	}
	var f delivery.FollowUp
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE incident_followups SET done_at = COALESCE(done_at, ?)
			WHERE id = ? AND service = ? AND incident = ?`), at.UnixMicro(), n, service, incidentID); err != nil {
			return err
		}
		f, err = scanFollowUp(tx.QueryRowContext(ctx, db.q(`SELECT `+followUpColumns+` FROM incident_followups
			WHERE id = ? AND service = ? AND incident = ?`), n, service, incidentID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("no follow-up %s of incident %s/%s", id, service, incidentID)
		}
		return err
	})
	if err != nil {
		return f, fmt.Errorf("finish follow-up %s: %w", id, err)
	}
	return f, nil
}

// CloseTrackedFollowUps marks done every open follow-up whose issue-tracker
// item is stored as resolved (its webhook reported it done), at the item's
// resolution time, and returns how many it closed. A GitHub or GitLab key
// owner/repo#42 is matched against the work item key as the tracker stores
// it.
func (db *DB) CloseTrackedFollowUps(ctx context.Context) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE incident_followups SET done_at = (
				SELECT w.resolved_at FROM work_items w WHERE w.tracker = incident_followups.tracker AND w.key = incident_followups.issue_key)
			WHERE done_at IS NULL AND issue_key <> '' AND EXISTS (
				SELECT 1 FROM work_items w WHERE w.tracker = incident_followups.tracker AND w.key = incident_followups.issue_key
				AND w.resolved_at IS NOT NULL)`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("close tracked follow-ups: %w", err)
	}
	return int(n), nil
}

// FollowUps returns the follow-ups of the incidents of the given services
// (every service when none is given), oldest first.
func (db *DB) FollowUps(ctx context.Context, services ...string) ([]delivery.FollowUp, error) {
	where, args := serviceFilter("service", services)
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+followUpColumns+` FROM incident_followups`+where+` ORDER BY created_at, id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read follow-ups: %w", err)
	}
	out, err := collect(rows, scanFollowUp)
	if err != nil {
		return nil, fmt.Errorf("read follow-ups: %w", err)
	}
	return out, nil
}

func serviceFilter(col string, services []string) (string, []any) {
	if len(services) == 0 {
		return "", nil
	}
	args := make([]any, len(services))
	for i, s := range services {
		args[i] = s
	}
	return " WHERE " + col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(services)), ", ") + ")", args
}

// PutReview stores the review of a stored incident, replacing an earlier one.
func (db *DB) PutReview(ctx context.Context, r delivery.Review) error {
	factors, err := json.Marshal(r.ContributingFactors)
	if err != nil {
		return fmt.Errorf("put review: %w", err)
	}
	if r.ContributingFactors == nil {
		factors = []byte("[]")
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM incidents WHERE service = ? AND id = ?`), r.Service, r.Incident).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("no incident %s/%s", r.Service, r.Incident)
		}
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO incident_reviews (service, incident, held_at, document, summary, factors)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (service, incident) DO UPDATE SET held_at = excluded.held_at,
			document = excluded.document, summary = excluded.summary, factors = excluded.factors`),
			r.Service, r.Incident, r.HeldAt.UnixMicro(), r.Document, r.Summary, string(factors))
		return err
	})
	if err != nil {
		return fmt.Errorf("put review of %s/%s: %w", r.Service, r.Incident, err)
	}
	return nil
}

// Reviews returns the reviews of the incidents of the given services (every
// service when none is given).
func (db *DB) Reviews(ctx context.Context, services ...string) ([]delivery.Review, error) {
	where, args := serviceFilter("service", services)
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, incident, held_at, document, summary, factors FROM incident_reviews`+where+` ORDER BY service, incident`), args...)
	if err != nil {
		return nil, fmt.Errorf("read reviews: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (delivery.Review, error) {
		var r delivery.Review
		var held int64
		var factors string
		if err := s.Scan(&r.Service, &r.Incident, &held, &r.Document, &r.Summary, &factors); err != nil {
			return r, err
		}
		r.HeldAt = time.UnixMicro(held).UTC()
		return r, json.Unmarshal([]byte(factors), &r.ContributingFactors)
	})
}

// IncidentFacts are the stored records an incident report is computed
// from.
type IncidentFacts struct {
	Incidents []delivery.Incident
	Services  []delivery.Service
	FollowUps []delivery.FollowUp
	Reviews   []delivery.Review
}

// IncidentReportInput loads what the incident report of a scope and period
// is computed from: the incidents that opened or resolved from the period's
// start on, the services with their teams, and the follow-ups and reviews
// of those services. The caller adds the period, the clock, the policies
// and the rules.
func (db *DB) IncidentReportInput(ctx context.Context, scope Scope, period delivery.Period) (IncidentFacts, error) {
	var in IncidentFacts
	names, err := db.ScopeServices(ctx, scope)
	if err != nil {
		return in, err
	}
	if len(names) == 0 {
		return in, nil
	}
	where, args := serviceFilter("service", names)
	from := period.From.UnixMicro()
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+incidentColumns+` FROM incidents`+where+
		` AND (opened_at >= ? OR resolved_at >= ? OR resolved_at IS NULL) ORDER BY opened_at, service, id`), append(args, from, from)...)
	if err != nil {
		return in, fmt.Errorf("read incidents: %w", err)
	}
	if in.Incidents, err = collect(rows, scanIncident); err != nil {
		return in, fmt.Errorf("read incidents: %w", err)
	}
	services, err := db.ServiceTeams(ctx)
	if err != nil {
		return in, err
	}
	teamOf := TeamOf(services)
	for _, n := range names {
		in.Services = append(in.Services, delivery.Service{Name: n, Team: teamOf[n]})
	}
	if in.FollowUps, err = db.FollowUps(ctx, names...); err != nil {
		return in, err
	}
	if in.Reviews, err = db.Reviews(ctx, names...); err != nil {
		return in, err
	}
	return in, nil
}

const outboxColumns = "id, route, payload, attempts, next_attempt_at, last_error, delivered_at, gave_up_at, history"

func scanRow(s interface{ Scan(...any) error }) (delivery.Notification, error) {
	var r delivery.Notification
	var payload, history string
	var next int64
	var delivered, gaveUp sql.NullInt64
	if err := s.Scan(&r.ID, &r.Route, &payload, &r.Attempts, &next, &r.LastError, &delivered, &gaveUp, &history); err != nil {
		return r, err
	}
	r.Payload = json.RawMessage(payload)
	r.NextAttemptAt, r.DeliveredAt, r.GaveUpAt = time.UnixMicro(next).UTC(), fromMicros(delivered), fromMicros(gaveUp)
	if err := json.Unmarshal([]byte(history), &r.History); err != nil {
		return r, fmt.Errorf("history of outbox row %d: %w", r.ID, err)
	}
	return r, nil
}

// enqueue writes outbox rows inside tx and returns their ids.
func (db *DB) enqueue(ctx context.Context, tx *sql.Tx, rows []delivery.Notification) ([]int64, error) {
	ids := make([]int64, 0, len(rows))
	now := db.Now().UnixMicro()
	for _, r := range rows {
		var id int64
		if err := tx.QueryRowContext(ctx, db.q(`INSERT INTO outbox (route, payload, attempts, next_attempt_at, last_error, history, created_at)
			VALUES (?, ?, 0, ?, '', '[]', ?) RETURNING id`), r.Route, string(r.Payload), r.NextAttemptAt.UnixMicro(), now).Scan(&id); err != nil {
			return nil, fmt.Errorf("enqueue notification to %s: %w", r.Route, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Enqueue writes outbox rows on their own, for a notification whose cause
// is not stored here (an SLO burn-rate alert).
func (db *DB) Enqueue(ctx context.Context, rows ...delivery.Notification) ([]int64, error) {
	var ids []int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = db.enqueue(ctx, tx, rows)
		return err
	})
	return ids, err
}

// ClaimNotifications returns up to limit outbox rows due at now, oldest due
// first, and pushes their next attempt lease past now in the same
// transaction, so another replica does not deliver them meanwhile. A row
// whose delivery was cut short by a crash is due again once its lease ends.
func (db *DB) ClaimNotifications(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]delivery.Notification, error) {
	var out []delivery.Notification
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.q(`SELECT `+outboxColumns+` FROM outbox
			WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+lock), now.UnixMicro(), limit)
		if err != nil {
			return err
		}
		if out, err = collect(rows, scanRow); err != nil {
			return err
		}
		for _, r := range out {
			if _, err := tx.ExecContext(ctx, db.q(`UPDATE outbox SET next_attempt_at = ? WHERE id = ?`), now.Add(lease).UnixMicro(), r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	return out, nil
}

// SaveNotification stores the state an outbox row reached (notify's Deliver
// returns it).
func (db *DB) SaveNotification(ctx context.Context, r delivery.Notification) error {
	history, err := json.Marshal(r.History)
	if err != nil {
		return fmt.Errorf("save notification %d: %w", r.ID, err)
	}
	if r.History == nil {
		history = []byte("[]")
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, delivered_at = ?,
			gave_up_at = ?, history = ? WHERE id = ?`), r.Attempts, r.NextAttemptAt.UnixMicro(), r.LastError, micros(r.DeliveredAt),
			micros(r.GaveUpAt), string(history), r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("no notification %d", r.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save notification %d: %w", r.ID, err)
	}
	return nil
}

// Notifications lists outbox rows, newest first: every row, or with
// undelivered only those not delivered (pending or given up), each with its
// last error.
func (db *DB) Notifications(ctx context.Context, undelivered bool, limit int) ([]delivery.Notification, error) {
	where := ""
	if undelivered {
		where = " WHERE delivered_at IS NULL"
	}
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+outboxColumns+` FROM outbox`+where+` ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	out, err := collect(rows, scanRow)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// UndeliveredCounts counts the outbox rows not delivered: pending (still to
// be attempted) and given up, for /metrics.
func (db *DB) UndeliveredCounts(ctx context.Context) (pending, gaveUp int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN gave_up_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END), 0)
		FROM outbox WHERE delivered_at IS NULL`).Scan(&pending, &gaveUp)
	if err != nil {
		return 0, 0, fmt.Errorf("count undelivered notifications: %w", err)
	}
	return pending, gaveUp, nil
}
