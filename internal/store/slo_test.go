package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var sloT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func point(slo string, minute int, width time.Duration, good, total int64) store.SLIPoint {
	return store.SLIPoint{SLO: slo, SLIBucket: store.SLIBucket{Start: sloT0.Add(time.Duration(minute) * time.Minute), Width: width, Good: good, Total: total}}
}

func TestPutSLOsReplacesByName(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n, err := db.PutSLOs(ctx, []store.SLODefinition{
			{Name: "api-availability", Service: "api", Source: "stride", Definition: []byte(`{"v":1}`)},
			{Name: "web-latency", Service: "web", Source: "prometheus", Definition: []byte(`{}`), Zone: "Europe/Berlin"},
		})
		if err != nil || n != 2 {
			t.Fatalf("first put: %d created, %v; want 2", n, err)
		}
		n, err = db.PutSLOs(ctx, []store.SLODefinition{{Name: "api-availability", Service: "api", Source: "stride", Definition: []byte(`{"v":2}`)}})
		if err != nil || n != 0 {
			t.Fatalf("second put: %d created, %v; want 0", n, err)
		}
		all, err := db.SLOs(ctx, "")
		if err != nil || len(all) != 2 {
			t.Fatalf("SLOs: %v, %v", all, err)
		}
		if string(all[0].Definition) != `{"v":2}` || all[0].Zone != "UTC" || all[1].Zone != "Europe/Berlin" {
			t.Errorf("stored %q zone %q, %q; want the replaced definition and the zones", all[0].Definition, all[0].Zone, all[1].Zone)
		}
		web, err := db.SLOs(ctx, "web")
		if err != nil || len(web) != 1 || web[0].Name != "web-latency" {
			t.Errorf("SLOs(web) = %v, %v", web, err)
		}
		if _, err := db.SLO(ctx, "missing"); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("SLO(missing): %v, want ENOTFOUND", err)
		}
	})
}

func TestPutSLIIsIdempotentPerStart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// Out of order: minute 2 before minutes 0 and 1.
		res, err := db.PutSLI(ctx, []store.SLIPoint{
			point("api", 2, time.Minute, 90, 100),
			point("api", 0, time.Minute, 100, 100),
			point("api", 1, time.Minute, 99, 100),
		})
		if err != nil || res.Added != 3 || res.Replaced != 0 {
			t.Fatalf("first push: %+v, %v", res, err)
		}
		// The same minute again replaces it, it does not add.
		res, err = db.PutSLI(ctx, []store.SLIPoint{point("api", 1, time.Minute, 50, 100)})
		if err != nil || res.Added != 0 || res.Replaced != 1 {
			t.Fatalf("repeat push: %+v, %v", res, err)
		}
		bs, err := db.SLIBuckets(ctx, "api", sloT0, sloT0.Add(time.Hour))
		if err != nil || len(bs) != 3 {
			t.Fatalf("buckets: %v, %v", bs, err)
		}
		var good, total int64
		for _, b := range bs {
			good += b.Good
			total += b.Total
		}
		if good != 100+50+90 || total != 300 {
			t.Errorf("sum %d/%d, want 240/300", good, total)
		}
		if !bs[0].Start.Equal(sloT0) || bs[2].Width != time.Minute {
			t.Errorf("buckets out of order or wrong width: %+v", bs)
		}
		end, ok, err := db.LastSLIEnd(ctx, "api")
		if err != nil || !ok || !end.Equal(sloT0.Add(3*time.Minute)) {
			t.Errorf("LastSLIEnd = %s %v %v, want %s", end, ok, err, sloT0.Add(3*time.Minute))
		}
		if _, ok, err := db.LastSLIEnd(ctx, "other"); ok || err != nil {
			t.Errorf("LastSLIEnd(other) = %v, %v; want none", ok, err)
		}
	})
}

func TestPutSLIRefusesOverlapAllOrNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		if _, err := db.PutSLI(ctx, []store.SLIPoint{point("api", 0, 5*time.Minute, 500, 500)}); err != nil {
			t.Fatal(err)
		}
		// Index 1 starts inside the stored 5-minute bucket: the batch fails
		// and index 0 is not stored either.
		_, err := db.PutSLI(ctx, []store.SLIPoint{point("api", 10, time.Minute, 1, 1), point("api", 3, time.Minute, 1, 1)})
		var e *delivery.Error
		if delivery.ErrorCode(err) != delivery.EINVALID || !errors.As(err, &e) || e.Index != 1 {
			t.Fatalf("overlap: %v, want EINVALID at index 1", err)
		}
		bs, _ := db.SLIBuckets(ctx, "api", sloT0, sloT0.Add(time.Hour))
		if len(bs) != 1 {
			t.Errorf("after a refused batch %d buckets, want 1", len(bs))
		}
	})
}

func TestRollUpSLI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var ps []store.SLIPoint
		for m := 0; m < 90; m++ { // 10:00 to 11:30
			ps = append(ps, point("api", m, time.Minute, 9, 10))
		}
		if _, err := db.PutSLI(ctx, ps); err != nil {
			t.Fatal(err)
		}
		before := sloT0.Add(time.Hour)
		raw, err := db.RawSLIBefore(ctx, "api", before)
		if err != nil || len(raw) != 60 {
			t.Fatalf("raw before 11:00: %d, %v", len(raw), err)
		}
		hour := store.SLIBucket{Start: sloT0, Width: time.Hour, Good: 540, Total: 600, LeftGood: 0, LeftTotal: 0}
		if err := db.RollUpSLI(ctx, "api", before, []store.SLIBucket{hour}); err != nil {
			t.Fatal(err)
		}
		bs, err := db.SLIBuckets(ctx, "api", sloT0, sloT0.Add(2*time.Hour))
		if err != nil || len(bs) != 31 {
			t.Fatalf("after roll-up %d buckets, %v; want 1 hour + 30 minutes", len(bs), err)
		}
		if bs[0].Width != time.Hour || bs[0].Good != 540 || bs[1].Start != sloT0.Add(time.Hour) {
			t.Errorf("first buckets %+v %+v", bs[0], bs[1])
		}
		// A push into a rolled-up hour would be counted twice: refused.
		if _, err := db.PutSLI(ctx, []store.SLIPoint{point("api", 30, time.Minute, 1, 1)}); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("push into a rolled-up hour: %v, want EINVALID", err)
		}
		if err := db.RollUpSLI(ctx, "api", sloT0.Add(time.Minute), nil); err == nil {
			t.Error("roll-up to a time that is not a whole hour succeeded")
		}
	})
}

func TestMaintenanceIsStampedWithTheServerClock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		announced := time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return announced }
		m, err := db.AddMaintenance(ctx, store.MaintenanceWindow{Service: "api", From: sloT0, To: sloT0.Add(time.Hour), Reason: "db upgrade",
			AnnouncedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}) // the client's word is ignored
		if err != nil || m.ID == "" || !m.AnnouncedAt.Equal(announced) {
			t.Fatalf("AddMaintenance = %+v, %v", m, err)
		}
		if _, err := db.AddMaintenance(ctx, store.MaintenanceWindow{Service: "api", From: sloT0, To: sloT0}); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("empty window: %v, want EINVALID", err)
		}
		tests := []struct {
			service  string
			from, to time.Time
			want     int
		}{
			{"api", sloT0.Add(-time.Hour), sloT0, 0},                          // ends where the window starts
			{"api", sloT0.Add(59 * time.Minute), sloT0.Add(2 * time.Hour), 1}, // overlaps its last minute
			{"", sloT0, sloT0.Add(time.Minute), 1},
			{"web", sloT0, sloT0.Add(time.Hour), 0},
		}
		for _, tt := range tests {
			ms, err := db.Maintenance(ctx, tt.service, tt.from, tt.to)
			if err != nil || len(ms) != tt.want {
				t.Errorf("Maintenance(%q, %s, %s) = %d, %v; want %d", tt.service, tt.from, tt.to, len(ms), err, tt.want)
			}
		}
		ms, _ := db.Maintenance(ctx, "api", sloT0, sloT0.Add(time.Hour))
		if len(ms) == 1 && (ms[0].Reason != "db upgrade" || !ms[0].AnnouncedAt.Equal(announced) || !ms[0].To.Equal(sloT0.Add(time.Hour))) {
			t.Errorf("read back %+v", ms[0])
		}
	})
}

func TestSaveEvaluationAndAlerts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		if _, err := db.PutSLOs(ctx, []store.SLODefinition{{Name: "api-availability", Service: "api", Source: "stride", Definition: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		fired := store.SLOAlert{Service: "api", Alert: "page-1h-5m", Severity: "page", Kind: "fired", Since: sloT0, At: sloT0, Reason: "2 % spent"}
		if err := db.SaveEvaluation(ctx, store.SLOEvaluation{SLO: "api-availability", State: []byte(`{"n":1}`), Report: []byte(`{"r":1}`), At: sloT0,
			Alerts: []store.SLOAlert{fired}}); err != nil {
			t.Fatal(err)
		}
		resolved := fired
		resolved.Kind, resolved.At, resolved.Reason = "resolved", sloT0.Add(time.Hour), "burn below 14.4×"
		if err := db.SaveEvaluation(ctx, store.SLOEvaluation{SLO: "api-availability", State: []byte(`{"n":2}`), Report: []byte(`{"r":2}`), At: sloT0.Add(time.Hour),
			Alerts: []store.SLOAlert{resolved}}); err != nil {
			t.Fatal(err)
		}
		es, err := db.Evaluations(ctx, "api")
		if err != nil || len(es) != 1 || string(es[0].State) != `{"n":2}` || string(es[0].Report) != `{"r":2}` || !es[0].EvaluatedAt.Equal(sloT0.Add(time.Hour)) {
			t.Fatalf("Evaluations = %+v, %v", es, err)
		}
		if es, _ := db.Evaluations(ctx, "web"); len(es) != 0 {
			t.Errorf("Evaluations(web) = %+v", es)
		}
		as, err := db.SLOAlerts(ctx, "", time.Time{}, 10)
		if err != nil || len(as) != 2 || as[0].Kind != "resolved" || as[1].Kind != "fired" || as[1].SLO != "api-availability" || !as[1].Since.Equal(sloT0) {
			t.Fatalf("SLOAlerts = %+v, %v", as, err)
		}
		if as, _ := db.SLOAlerts(ctx, "api", sloT0.Add(time.Minute), 10); len(as) != 1 || as[0].Kind != "resolved" {
			t.Errorf("SLOAlerts since 10:01 = %+v", as)
		}
	})
}

// TestSLOStorageSizePerMonth measures what one SLO-month costs as the job
// keeps it: the last 3 days in minutes and 27 days in hourly roll-ups.
func TestSLOStorageSizePerMonth(t *testing.T) {
	if testing.Short() {
		t.Skip("measures storage")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "size.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size := func() int64 {
		for _, q := range []string{"PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
			if err := db.ExecForTest(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	empty := size()
	const slos = 4
	for s := 0; s < slos; s++ {
		name := "slo-" + string(rune('a'+s))
		var ps []store.SLIPoint
		for m := 0; m < 3*24*60; m++ {
			ps = append(ps, point(name, m+27*24*60, time.Minute, 99_990, 100_000))
		}
		if _, err := db.PutSLI(ctx, ps); err != nil {
			t.Fatal(err)
		}
		var hours []store.SLIBucket
		for h := 0; h < 27*24; h++ {
			hours = append(hours, store.SLIBucket{Start: sloT0.Add(time.Duration(h) * time.Hour), Width: time.Hour, Good: 5_999_400, Total: 6_000_000})
		}
		if err := db.RollUpSLI(ctx, name, sloT0.Add(27*24*time.Hour), hours); err != nil {
			t.Fatal(err)
		}
	}
	per := (size() - empty) / slos
	t.Logf("SQLite: %d bytes (%.0f KiB) per SLO-month (4,320 minutes + 648 hours)", per, float64(per)/1024)
	if per > 1<<20 {
		t.Errorf("%d bytes per SLO-month, want under 1 MiB", per)
	}
}

// TestSLIChanges follows one SLO's rows through pushes, a repeated push of
// an old minute and a roll-up: each batch is one new version, SLIChanges
// after a version returns exactly the rows written since, and a roll-up
// deletes only the minutes before the end of the last hour it writes.
func TestSLIChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		changes := func(after int64) []store.SLIRow {
			t.Helper()
			var rs []store.SLIRow
			if err := db.SLIChanges(ctx, after, func(r store.SLIRow) error { rs = append(rs, r); return nil }); err != nil {
				t.Fatal(err)
			}
			return rs
		}
		v0, err := db.SLIVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ps []store.SLIPoint
		for m := 0; m < 70; m++ { // 10:00 to 11:10
			ps = append(ps, point("api", m, time.Minute, 9, 10))
		}
		if _, err := db.PutSLI(ctx, ps); err != nil {
			t.Fatal(err)
		}
		v1, _ := db.SLIVersion(ctx)
		if v1 != v0+1 || len(changes(v0)) != 70 || len(changes(v1)) != 0 {
			t.Fatalf("after one batch: version %d (want %d), %d rows after %d (want 70), %d after %d (want 0)", v1, v0+1, len(changes(v0)), v0, len(changes(v1)), v1)
		}
		// The minute at 10:05 again, with other counts: only it is new.
		if _, err := db.PutSLI(ctx, []store.SLIPoint{point("api", 5, time.Minute, 1, 10)}); err != nil {
			t.Fatal(err)
		}
		v2, _ := db.SLIVersion(ctx)
		if rs := changes(v1); len(rs) != 1 || rs[0].Hour || rs[0].Good != 1 || rs[0].Version != v2 || !rs[0].Start.Equal(sloT0.Add(5*time.Minute)) {
			t.Fatalf("after a repeated push: %+v, want the minute at 10:05 with good 1, version %d", rs, v2)
		}
		// A roll-up to 12:00 that folded only 10:00-11:00 (as if 11:00-11:10
		// came after it read): the hour is new, and the minutes from 11:00
		// stay for the next roll-up.
		hour := store.SLIBucket{Start: sloT0, Width: time.Hour, Good: 532, Total: 600}
		if err := db.RollUpSLI(ctx, "api", sloT0.Add(2*time.Hour), []store.SLIBucket{hour}); err != nil {
			t.Fatal(err)
		}
		v3, _ := db.SLIVersion(ctx)
		if rs := changes(v2); len(rs) != 1 || !rs[0].Hour || rs[0].Total != 600 || rs[0].Version != v3 {
			t.Fatalf("after the roll-up: %+v, want the hour at version %d", rs, v3)
		}
		bs, err := db.SLIBuckets(ctx, "api", sloT0, sloT0.Add(2*time.Hour))
		if err != nil || len(bs) != 11 || bs[0].Width != time.Hour || !bs[1].Start.Equal(sloT0.Add(time.Hour)) {
			t.Fatalf("after the roll-up %d buckets, %v; want the hour and the 10 minutes from 11:00", len(bs), err)
		}
		var all []store.SLIRow
		if err := db.EachSLI(ctx, func(r store.SLIRow) error { all = append(all, r); return nil }); err != nil {
			t.Fatal(err)
		}
		minutes := 0
		for _, r := range all[1:] {
			if !r.Hour && r.SLO == "api" && !r.Start.Before(sloT0.Add(time.Hour)) {
				minutes++
			}
		}
		if len(all) != 11 || !all[0].Hour || all[0].SLO != "api" || minutes != 10 {
			t.Errorf("EachSLI: %d rows, want the hour then the 10 minutes from 11:00", len(all))
		}
		// The integer readers give the same rows: EachSLIBucket one SLO's
		// in time order (the hour, then 11:00 to 11:10), EachSLICount every
		// SLO's, hours first, one name string for the SLO.
		if _, err := db.PutSLI(ctx, []store.SLIPoint{point("web", 0, time.Minute, 3, 4)}); err != nil {
			t.Fatal(err)
		}
		var got []store.SLICount
		if err := db.EachSLIBucket(ctx, "api", sloT0, sloT0.Add(2*time.Hour), func(c store.SLICount) error { got = append(got, c); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(bs) {
			t.Fatalf("EachSLIBucket: %d buckets, SLIBuckets %d", len(got), len(bs))
		}
		for i, b := range bs {
			want := store.SLICount{Hour: b.Width == time.Hour, Start: b.Start.UnixMicro(), Width: int64(b.Width / time.Second),
				Good: b.Good, Total: b.Total, LeftGood: b.LeftGood, LeftTotal: b.LeftTotal}
			if got[i] != want {
				t.Errorf("EachSLIBucket %d: %+v, want %+v", i, got[i], want)
			}
		}
		perSLO := map[string]int{}
		var first store.SLICount
		if err := db.EachSLICount(ctx, func(name string, c store.SLICount) error {
			if perSLO[name] == 0 && name == "api" {
				first = c
			}
			perSLO[name]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if perSLO["api"] != 11 || perSLO["web"] != 1 || len(perSLO) != 2 || first != (store.SLICount{Hour: true, Start: sloT0.UnixMicro(), Width: 3600, Good: 532, Total: 600}) {
			t.Errorf("EachSLICount: rows per SLO %v (want api 11, web 1), api's first %+v (want the hour)", perSLO, first)
		}
	})
}
