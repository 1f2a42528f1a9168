package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// IncidentRef names one incident.
type IncidentRef struct{ Service, ID string }

// StoredDeployment says which of the fields a new deployment report must
// give a stored deployment already has.
type StoredDeployment struct {
	FinishedAt bool // it has a finish time
	SHA        bool // it names its commit
}

// Known reads, in one query per kind, which of incidents and deployments
// are stored: incidents (always stored with their opening time) and
// deployments with the required fields they hold. A later report of a
// stored entity may then carry only what changed.
func (db *DB) Known(ctx context.Context, incidents []IncidentRef, deployments []delivery.DeploymentKey) (map[IncidentRef]bool, map[delivery.DeploymentKey]StoredDeployment, error) {
	inc := map[IncidentRef]bool{}
	dep := map[delivery.DeploymentKey]StoredDeployment{}
	if len(incidents) > 0 {
		args := make([]any, 0, 2*len(incidents))
		for _, r := range incidents {
			args = append(args, r.Service, r.ID)
		}
		rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, id FROM incidents WHERE opened_at IS NOT NULL AND (service, id) IN (VALUES `+
			placeholders(len(incidents), 2)+`)`), args...)
		if err != nil {
			return nil, nil, fmt.Errorf("read known incidents: %w", err)
		}
		refs, err := collect(rows, func(s interface{ Scan(...any) error }) (IncidentRef, error) {
			var r IncidentRef
			return r, s.Scan(&r.Service, &r.ID)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("read known incidents: %w", err)
		}
		for _, r := range refs {
			inc[r] = true
		}
	}
	if len(deployments) > 0 {
		args := make([]any, 0, 3*len(deployments))
		for _, k := range deployments {
			args = append(args, k.Service, k.Environment, k.ID)
		}
		rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, environment, id, finished_at IS NOT NULL, sha FROM deployments WHERE (service, environment, id) IN (VALUES `+
			placeholders(len(deployments), 3)+`)`), args...)
		if err != nil {
			return nil, nil, fmt.Errorf("read known deployments: %w", err)
		}
		type row struct {
			k delivery.DeploymentKey
			s StoredDeployment
		}
		found, err := collect(rows, func(s interface{ Scan(...any) error }) (row, error) {
			var r row
			var sha string
			err := s.Scan(&r.k.Service, &r.k.Environment, &r.k.ID, &r.s.FinishedAt, &sha)
			r.s.SHA = strings.TrimSpace(sha) != ""
			return r, err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("read known deployments: %w", err)
		}
		for _, r := range found {
			dep[r.k] = r.s
		}
	}
	return inc, dep, nil
}
