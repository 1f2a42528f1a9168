package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
)

// GateName names the gate a result belongs to: the criteria it judged
// (those not skipped), sorted and joined with "+", or "gate" when it
// judged none. A gate result carries no name of its own, yet one commit is
// often judged by several gates (unit tests in one job, a load test in
// another); naming a run by what it judged makes a re-run of the same gate
// supersede the earlier result, while a passing load test cannot hide a
// failed unit-test gate. Dropping a report to get past a failure changes
// the name, so the failure still counts.
func GateName(r gate.Result) string {
	var names []string
	seen := map[string]bool{}
	for _, c := range r.Criteria {
		if c.Status != gate.Skipped && !seen[c.Name] {
			seen[c.Name] = true
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return "gate"
	}
	sort.Strings(names)
	return strings.Join(names, "+")
}

// RecordGate stores a gate result as CI posted it and returns its id. The
// result must name its service and carry a pass or fail verdict.
func (db *DB) RecordGate(ctx context.Context, r gate.Result) (string, error) {
	if err := requiredField("service", r.Service); err != nil {
		return "", err
	}
	if len(r.SHA) > delivery.MaxKeyLength {
		return "", delivery.FieldError("sha", "is longer than %d bytes", delivery.MaxKeyLength)
	}
	if r.Verdict != gate.Pass && r.Verdict != gate.Fail {
		return "", delivery.FieldError("verdict", "must be pass or fail, got %q", r.Verdict)
	}
	criteria := r.Criteria
	if criteria == nil {
		criteria = []gate.Criterion{}
	}
	data, err := json.Marshal(criteria)
	if err != nil {
		return "", fmt.Errorf("record gate of %s: encode criteria: %w", r.Service, err)
	}
	var id int64
	err = db.write.QueryRowContext(ctx, db.q(`INSERT INTO gate_results (service, sha, name, verdict, fix, criteria, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Service, r.SHA, GateName(r), string(r.Verdict), boolInt(r.Fix), string(data), db.Now().UnixMicro()).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("record gate of %s @ %s: %w", r.Service, r.SHA, err)
	}
	return strconv.FormatInt(id, 10), nil
}

// GateRuns returns the latest result of each gate of a commit, by gate
// name, which is what a promotion judges: a gate re-run after a fix
// replaces its failed run. Latest means last received, so two results
// within one clock tick still have an order.
func (db *DB) GateRuns(ctx context.Context, service, sha string) ([]rings.GateRun, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT name, verdict, recorded_at FROM gate_results
		WHERE service = ? AND sha = ? ORDER BY id`), service, sha)
	if err != nil {
		return nil, fmt.Errorf("read gates of %s @ %s: %w", service, sha, err)
	}
	runs, err := collect(rows, func(s interface{ Scan(...any) error }) (rings.GateRun, error) {
		var g rings.GateRun
		var verdict string
		var at int64
		err := s.Scan(&g.Name, &verdict, &at)
		g.Passed = verdict == string(gate.Pass)
		g.At = fromMicros(sql.NullInt64{Int64: at, Valid: true})
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("read gates of %s @ %s: %w", service, sha, err)
	}
	index := map[string]int{}
	var latest []rings.GateRun
	for _, g := range runs {
		if i, ok := index[g.Name]; ok {
			latest[i] = g
			continue
		}
		index[g.Name] = len(latest)
		latest = append(latest, g)
	}
	return latest, nil
}

// Promotion is one recorded promotion decision, allowed or refused.
// RequestedBy is the name of the token that asked ("" in development mode).
type Promotion struct {
	ID          string
	Decision    rings.Decision
	Fix         bool
	RequestedBy string
	DecidedAt   time.Time
}

// RecordPromotion stores a decision and returns its id. Dry runs are not
// recorded: the caller decides whether to call this.
func (db *DB) RecordPromotion(ctx context.Context, p Promotion) (string, error) {
	d := p.Decision
	if err := requiredField("service", d.Service); err != nil {
		return "", err
	}
	if err := requiredField("sha", d.SHA); err != nil {
		return "", err
	}
	if err := requiredField("to", d.To); err != nil {
		return "", err
	}
	conditions := d.Conditions
	if conditions == nil {
		conditions = []rings.Condition{}
	}
	data, err := json.Marshal(conditions)
	if err != nil {
		return "", fmt.Errorf("record promotion of %s @ %s: encode conditions: %w", d.Service, d.SHA, err)
	}
	at := p.DecidedAt
	if at.IsZero() {
		at = db.Now()
	}
	var id int64
	err = db.write.QueryRowContext(ctx, db.q(`INSERT INTO promotions (service, sha, from_ring, to_ring, allowed, fix, conditions, requested_by, decided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		d.Service, d.SHA, d.From, d.To, boolInt(d.Allowed), boolInt(p.Fix), string(data), p.RequestedBy, at.UnixMicro()).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("record promotion of %s @ %s to %s: %w", d.Service, d.SHA, d.To, err)
	}
	return strconv.FormatInt(id, 10), nil
}

// Promotions returns a service's recorded promotion decisions, newest
// first: those of one commit when sha is given, else of every commit. At
// most limit are returned (limit <= 0 means no limit).
func (db *DB) Promotions(ctx context.Context, service, sha string, limit int) ([]Promotion, error) {
	query := `SELECT id, service, sha, from_ring, to_ring, allowed, fix, conditions, requested_by, decided_at
		FROM promotions WHERE service = ?`
	args := []any{service}
	if sha != "" {
		query += ` AND sha = ?`
		args = append(args, sha)
	}
	query += ` ORDER BY id DESC`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := db.read.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read promotions of %s: %w", service, err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (Promotion, error) {
		var p Promotion
		var id, at int64
		var allowed, fix int
		var conditions string
		err := s.Scan(&id, &p.Decision.Service, &p.Decision.SHA, &p.Decision.From, &p.Decision.To, &allowed, &fix, &conditions, &p.RequestedBy, &at)
		if err != nil {
			return p, err
		}
		p.ID = strconv.FormatInt(id, 10)
		p.Decision.Allowed, p.Fix = allowed != 0, fix != 0
		p.DecidedAt = fromMicros(sql.NullInt64{Int64: at, Valid: true})
		if err := json.Unmarshal([]byte(conditions), &p.Decision.Conditions); err != nil {
			return p, fmt.Errorf("promotion %s: decode conditions: %w", p.ID, err)
		}
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read promotions of %s: %w", service, err)
	}
	return out, nil
}

// CommitDeployments returns every deployment of a service's commit, in any
// environment, ring and status, oldest first: what a promotion and a
// commit's ring position are computed from.
func (db *DB) CommitDeployments(ctx context.Context, service, sha string) ([]delivery.Deployment, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments
		WHERE service = ? AND sha = ? ORDER BY finished_at, environment, id`), service, sha)
	if err != nil {
		return nil, fmt.Errorf("read deployments of %s @ %s: %w", service, sha, err)
	}
	deps, err := collect(rows, scanDeployment)
	if err != nil {
		return nil, fmt.Errorf("read deployments of %s @ %s: %w", service, sha, err)
	}
	return deps, nil
}

// OpenIncidents returns a service's unresolved incidents of every
// severity, oldest first; a promotion is refused while a severe one is open.
func (db *DB) OpenIncidents(ctx context.Context, service string) ([]delivery.Incident, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+incidentColumns+` FROM incidents
		WHERE service = ? AND resolved_at IS NULL ORDER BY opened_at, id`), service)
	if err != nil {
		return nil, fmt.Errorf("read open incidents of %s: %w", service, err)
	}
	incidents, err := collect(rows, scanIncident)
	if err != nil {
		return nil, fmt.Errorf("read open incidents of %s: %w", service, err)
	}
	return incidents, nil
}

// requiredField checks a required text field as events do: present and of
// bounded length.
func requiredField(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return delivery.FieldError(field, "is required")
	}
	if len(v) > delivery.MaxKeyLength {
		return delivery.FieldError(field, "is longer than %d bytes", delivery.MaxKeyLength)
	}
	return nil
}
