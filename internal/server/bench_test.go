package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// The benchmarks here report each figure beside a reference measured in the
// same run, alternating with it, because the machines they run on are
// shared and absolute times there are noise: ns/op is the measured path,
// <ref>-ns/op the reference, and the ratio is what the README lists.

// pair accumulates the time of a measured path and of its reference over
// the rounds of one benchmark.
type pair struct {
	measured, reference time.Duration
	rounds              int
}

// time adds one round of fn to d.
func (p *pair) time(d *time.Duration, fn func()) {
	start := time.Now()
	fn()
	*d += time.Since(start)
}

// report publishes the reference's time per round and the ratio, named
// unit: throughput ratios (reference time over measured time, so 1 is as
// fast as the reference and more is better) when higher is true, time
// ratios (measured over reference) otherwise.
func (p *pair) report(b *testing.B, ref, unit string, throughput bool) {
	if p.rounds == 0 || p.measured == 0 || p.reference == 0 {
		return
	}
	b.ReportMetric(float64(p.reference.Nanoseconds())/float64(p.rounds), ref+"-ns/op")
	r := float64(p.measured) / float64(p.reference)
	if throughput {
		r = 1 / r
	}
	b.ReportMetric(r, unit)
}

// benchStore is a migrated store of the named kind and, beside it, a plain
// database/sql handle on the same database with the store's durability
// (SQLite in WAL with synchronous FULL, PostgreSQL with its default
// synchronous commit), for references that bypass the store.
func benchStore(b *testing.B, kind string) (*store.DB, *sql.DB) {
	b.Helper()
	var url, driver, rawURL string
	switch kind {
	case "sqlite":
		path := filepath.Join(b.TempDir(), "stride.db")
		url, driver = path, "sqlite"
		rawURL = "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	case "postgres":
		url, driver = storetest.PostgresSchemaURL(b), "pgx"
		rawURL = url
	}
	db, err := store.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	raw, err := sql.Open(driver, rawURL)
	if err != nil {
		b.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	b.Cleanup(func() { raw.Close() })
	return db, raw
}

// benchKinds are the databases the storage benchmarks run on: SQLite, and
// PostgreSQL when STRIDE_TEST_POSTGRES is set.
func benchKinds() []string {
	if storetest.PostgresURL() != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// numbered rewrites ? placeholders as $1, $2…, which both drivers read.
func numbered(q string) string {
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// ingestRow is one event of a benchmark batch: a commit, or every 20th a
// deployment of the commit before.
type ingestRow struct {
	i  int
	at time.Time
}

func (r ingestRow) deployment() bool { return r.i%20 == 19 }

func (r ingestRow) json() string {
	at := r.at.Format(time.RFC3339)
	if r.deployment() {
		return fmt.Sprintf(`{"key":"d%d","kind":"deployment","deployment":{"service":"svc","id":"%d","sha":"c%d","status":"success","finished_at":%q}}`, r.i, r.i, r.i-1, at)
	}
	return fmt.Sprintf(`{"key":"c%d","kind":"change","change":{"repository":"svc","sha":"c%d","parents":["c%d"],"author":"dev%d","commit_time":%q}}`, r.i, r.i, r.i-1, r.i%7, at)
}

// rawInsert writes rows as a plain database/sql loop would: one prepared
// INSERT per table, a row at a time, in one transaction, committed (and so
// fsynced) before it returns. It writes what the store keeps of them: the
// event's key row, and the commit or the deployment.
func rawInsert(ctx context.Context, raw *sql.DB, rows []ingestRow) error {
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ev, err := tx.PrepareContext(ctx, numbered(`INSERT INTO events (key, kind, source, received_at, entity) VALUES (?, ?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	ch, err := tx.PrepareContext(ctx, numbered(`INSERT INTO changes (repository, sha, parents, author, author_time, commit_time, title, incident, paths) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	dep, err := tx.PrepareContext(ctx, numbered(`INSERT INTO deployments (service, environment, id, status, started_at, finished_at, sha, repository, ring, hotfix, rollback, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	now := time.Now().UnixMicro()
	for _, r := range rows {
		id := strconv.Itoa(r.i)
		if r.deployment() {
			if _, err := ev.ExecContext(ctx, "rd"+id, "deployment", "api", now, "deployment\x1fsvc\x1fproduction\x1f"+id); err != nil {
				return err
			}
			if _, err := dep.ExecContext(ctx, "svc", "production", id, "success", nil, r.at.UnixMicro(), "c"+strconv.Itoa(r.i-1), "svc", "", 0, 0, r.at.UnixMicro()); err != nil {
				return err
			}
			continue
		}
		if _, err := ev.ExecContext(ctx, "rc"+id, "change", "api", now, "change\x1fraw\x1fc"+id); err != nil {
			return err
		}
		if _, err := ch.ExecContext(ctx, "raw", "c"+id, "c"+strconv.Itoa(r.i-1), "dev"+strconv.Itoa(r.i%7), nil, r.at.UnixMicro(), "", "", nil); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// BenchmarkIngestHTTP sends batches of 1,000 native events (a deployment
// every 20 commits) through the real handler, with token checking; each
// request is answered only after its batch is committed. The reference,
// run alternately, writes the same rows into the same tables with a raw
// insert loop of the same durability (rawInsert): of-raw-insert is the
// handler's throughput as a fraction of it.
func BenchmarkIngestHTTP(b *testing.B) {
	for _, kind := range benchKinds() {
		b.Run(kind, func(b *testing.B) { benchIngestHTTP(b, kind) })
	}
}

func benchIngestHTTP(b *testing.B, kind string) {
	const batch = 1000
	db, raw := benchStore(b, kind)
	_, token, err := db.CreateToken(ctx, "bench", delivery.ScopeIngest)
	if err != nil {
		b.Fatal(err)
	}
	h := (&server.Server{DB: db, Reports: reader(db)}).Handler()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rowsOf := func(n int) []ingestRow {
		rows := make([]ingestRow, batch)
		for j := range rows {
			i := n*batch + j
			rows[j] = ingestRow{i: i, at: t0.Add(time.Duration(i) * time.Minute)}
		}
		return rows
	}
	var p pair
	n := 0
	for b.Loop() {
		b.StopTimer()
		rows := rowsOf(n)
		n++
		var buf bytes.Buffer
		buf.WriteByte('[')
		for j, r := range rows {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(r.json())
		}
		buf.WriteByte(']')
		p.time(&p.reference, func() {
			if err := rawInsert(ctx, raw, rows); err != nil {
				b.Fatal(err)
			}
		})
		b.StartTimer()
		p.time(&p.measured, func() {
			req := httptest.NewRequest("POST", "/api/v1/events", bytes.NewReader(buf.Bytes()))
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		})
		p.rounds++
	}
	b.ReportMetric(float64(n*batch)/p.measured.Seconds(), "events/s")
	p.report(b, "raw-insert", "of-raw-insert", true)
}
