package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// GateRecord is a gate result as stored: the gate's name (package gate
// names it by what it judged), its verdict and the criteria it judged, as
// JSON the caller encoded. The store keeps them as given.
type GateRecord struct {
	Service  string
	SHA      string
	Name     string
	Verdict  string
	Fix      bool
	Criteria []byte
}

// RecordGate stores a gate result as CI posted it and returns its id. It
// must name its service, gate and verdict; the caller has checked the
// verdict means something.
func (db *DB) RecordGate(ctx context.Context, g GateRecord) (string, error) {
	if err := checkGate(g); err != nil {
		return "", err
	}
	return db.insertGate(ctx, db.write, g)
}

func checkGate(g GateRecord) error {
	if err := requiredField("service", g.Service); err != nil {
		return err
	}
	if len(g.SHA) > delivery.MaxKeyLength {
		return delivery.FieldError("sha", "is longer than %d bytes", delivery.MaxKeyLength)
	}
	if err := requiredField("verdict", g.Verdict); err != nil {
		return err
	}
	return requiredField("name", g.Name)
}

// insertGate writes one checked gate result, on the database or in a
// transaction.
func (db *DB) insertGate(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, g GateRecord) (string, error) {
	criteria := g.Criteria
	if len(criteria) == 0 {
		criteria = []byte("[]")
	}
	var id int64
	err := q.QueryRowContext(ctx, db.q(`INSERT INTO gate_results (service, sha, name, verdict, fix, criteria, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		g.Service, g.SHA, g.Name, g.Verdict, boolInt(g.Fix), string(criteria), db.Now().UnixMicro()).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("record gate of %s @ %s: %w", g.Service, g.SHA, err)
	}
	return strconv.FormatInt(id, 10), nil
}

// GateResult is one stored gate result of a commit.
type GateResult struct {
	Name       string
	Verdict    string
	RecordedAt time.Time
}

// GateResults returns every gate result of a service's commit in the order
// they were received (which of them counts is the promotion rules' call).
func (db *DB) GateResults(ctx context.Context, service, sha string) ([]GateResult, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT name, verdict, recorded_at FROM gate_results
		WHERE service = ? AND sha = ? ORDER BY id`), service, sha)
	if err != nil {
		return nil, fmt.Errorf("read gates of %s @ %s: %w", service, sha, err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (GateResult, error) {
		var g GateResult
		var at int64
		err := s.Scan(&g.Name, &g.Verdict, &at)
		g.RecordedAt = fromMicros(sql.NullInt64{Int64: at, Valid: true})
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("read gates of %s @ %s: %w", service, sha, err)
	}
	return out, nil
}

// Promotion is one recorded promotion decision, allowed or refused.
// RequestedBy is the name of the token that asked ("" in development mode).
type Promotion struct {
	ID          string
	Decision    PromotionDecision
	Fix         bool
	RequestedBy string
	DecidedAt   time.Time
}

// PromotionDecision is what was decided: whether the service's commit may
// move from one ring to another, and the conditions judged, as JSON the
// caller encoded.
type PromotionDecision struct {
	Service    string
	SHA        string
	From       string
	To         string
	Allowed    bool
	Conditions []byte
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
	if len(conditions) == 0 {
		conditions = []byte("[]")
	}
	at := p.DecidedAt
	if at.IsZero() {
		at = db.Now()
	}
	var id int64
	err := db.write.QueryRowContext(ctx, db.q(`INSERT INTO promotions (service, sha, from_ring, to_ring, allowed, fix, conditions, requested_by, decided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		d.Service, d.SHA, d.From, d.To, boolInt(d.Allowed), boolInt(p.Fix), string(conditions), p.RequestedBy, at.UnixMicro()).Scan(&id)
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
		p.Decision.Conditions = []byte(conditions)
		p.DecidedAt = fromMicros(sql.NullInt64{Int64: at, Valid: true})
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
