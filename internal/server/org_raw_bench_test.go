package server_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// orgRawScan reads, for each service, the rows a DORA report of it over
// [from, to) reads (its deployments' summaries, its terminal production
// deployments, its incidents) with the columns the report reads, scanned
// into nothing, through statements prepared once: the floor an
// organisation page of those services is compared with. It returns how
// many rows it read.
func orgRawScan(b *testing.B, raw *sql.DB, services []string, from, to time.Time) int {
	b.Helper()
	f, t := from.UnixMicro(), to.UnixMicro()
	queries := []string{
		`SELECT deployment_id, commit_times FROM deployment_changes WHERE service = ? AND finished_at >= ? AND finished_at < ?`,
		`SELECT id, status, finished_at, hotfix, rollback FROM deployments WHERE service = ? AND environment = ? AND finished_at >= ? AND finished_at < ?`,
		`SELECT service, id, title, severity, opened_at, acknowledged_at, resolved_at, cause_deployment, updated_at, status, status_at, severity_at FROM incidents WHERE service = ? AND (opened_at >= ? OR resolved_at >= ?)`,
	}
	stmts := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		s, err := raw.Prepare(numbered(q))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		stmts[i] = s
	}
	n := 0
	for _, service := range services {
		for i, s := range stmts {
			args := [][]any{{service, f, t}, {service, delivery.EnvironmentProduction, f, t}, {service, f, f}}[i]
			rows, err := s.Query(args...)
			if err != nil {
				b.Fatal(err)
			}
			cols, _ := rows.Columns()
			dest := make([]any, len(cols))
			for j := range dest {
				dest[j] = new(sql.RawBytes)
			}
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return n
}
