package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// Shipments are derived data: which deployment shipped which change. Ingest
// only marks a service stale (cheap, in the request path); the assignment is
// recomputed from the whole commit graph before the next read, or by the
// server's background refresher. A full recomputation is simple and exact
// whatever order commits and deployments arrived in.
//
// shipping_state.dirty is a generation counter: ingest increments it, and a
// refresh clears it only if it did not move meanwhile, so a batch committed
// by another replica during a refresh is never lost.

// RefreshShipments recomputes the shipments of every stale service among
// services (all stale services when services is empty) and returns how many
// it recomputed.
func (db *DB) RefreshShipments(ctx context.Context, services ...string) (int, error) {
	q := `SELECT service, dirty FROM shipping_state WHERE dirty > 0`
	var args []any
	if len(services) > 0 {
		q += ` AND service IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(services)), ", ") + `)`
		for _, s := range services {
			args = append(args, s)
		}
	}
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return 0, fmt.Errorf("find stale services: %w", err)
	}
	stale := map[string]int64{}
	for rows.Next() {
		var s string
		var gen int64
		if err := rows.Scan(&s, &gen); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find stale services: %w", err)
		}
		stale[s] = gen
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("find stale services: %w", err)
	}
	for s, gen := range stale {
		if err := db.ship(ctx, s, gen); err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// ship recomputes one service's shipments.
func (db *DB) ship(ctx context.Context, service string, gen int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		deployments, err := db.successfulDeployments(ctx, tx, service)
		if err != nil {
			return err
		}
		var base string
		err = tx.QueryRowContext(ctx, db.q(`SELECT base FROM services WHERE name = ?`), service).Scan(&base)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read service %s: %w", service, err)
		}
		byRepo := map[string][]delivery.Deployment{}
		for _, d := range deployments {
			byRepo[d.Repository] = append(byRepo[d.Repository], d)
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM shipments WHERE service = ?`), service); err != nil {
			return fmt.Errorf("clear shipments of %s: %w", service, err)
		}
		missing := 0
		for repo, ds := range byRepo {
			graph, err := db.graph(ctx, tx, repo)
			if err != nil {
				return err
			}
			shipping := delivery.ShipChanges(graph.parents, ds, strings.Fields(base))
			missing += len(shipping.Missing)
			finished := make(map[delivery.DeploymentKey]int64, len(ds))
			for _, d := range ds {
				finished[d.Key()] = d.FinishedAt.UnixMicro()
			}
			const cols = 8
			var args []any
			flush := func() error {
				if len(args) == 0 {
					return nil
				}
				_, err := tx.ExecContext(ctx, db.q(`INSERT INTO shipments (service, environment, deployment_id, repository, sha, commit_time, finished_at, incident) VALUES `+
					placeholders(len(args)/cols, cols)), args...)
				args = args[:0]
				if err != nil {
					return fmt.Errorf("write shipments of %s: %w", service, err)
				}
				return nil
			}
			for key, shas := range shipping.Changes {
				for _, sha := range shas {
					c := graph.info[sha]
					args = append(args, service, key.Environment, key.ID, repo, sha, c.commitTime, finished[key], c.incident)
					if len(args) >= 500*cols {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			}
			if err := flush(); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, db.q(`UPDATE shipping_state SET dirty = 0, computed_at = ?, missing = ? WHERE service = ? AND dirty = ?`),
			db.Now().UnixMicro(), missing, service, gen)
		if err != nil {
			return fmt.Errorf("mark %s fresh: %w", service, err)
		}
		return nil
	})
}

func (db *DB) successfulDeployments(ctx context.Context, q querier, service string) ([]delivery.Deployment, error) {
	rows, err := q.QueryContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments
		WHERE service = ? AND environment = ? AND status = ?`), service, delivery.EnvironmentProduction, string(delivery.DeploymentSuccess))
	if err != nil {
		return nil, fmt.Errorf("read deployments of %s: %w", service, err)
	}
	defer rows.Close()
	var out []delivery.Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("read deployments of %s: %w", service, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

type commitInfo struct {
	commitTime int64
	incident   string
}

type commitGraph struct {
	parents map[string][]string
	info    map[string]commitInfo
}

func (db *DB) graph(ctx context.Context, q querier, repository string) (commitGraph, error) {
	g := commitGraph{parents: map[string][]string{}, info: map[string]commitInfo{}}
	rows, err := q.QueryContext(ctx, db.q(`SELECT sha, parents, commit_time, incident FROM changes WHERE repository = ?`), repository)
	if err != nil {
		return g, fmt.Errorf("read commit graph of %s: %w", repository, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sha, parents, incident string
		var ct int64
		if err := rows.Scan(&sha, &parents, &ct, &incident); err != nil {
			return g, fmt.Errorf("read commit graph of %s: %w", repository, err)
		}
		g.parents[sha] = strings.Fields(parents)
		g.info[sha] = commitInfo{commitTime: ct, incident: incident}
	}
	return g, rows.Err()
}
