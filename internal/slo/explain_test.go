package slo

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestExplainListsTheCostliestMinutesFirst(t *testing.T) {
	// A day of 1,000 calls a minute at 99 %: 14,400 bad calls allowed.
	s := rolling("e", Fraction{99, 100}, day)
	data := minutes(now.Add(-day), 1440, 1000, func(i int) int64 {
		return map[int]int64{10: 144, 700: 720, 1439: 144}[i]
	})
	spends := Explain(mustSeries(t, s, data, nil), now, 2)
	if len(spends) != 2 {
		t.Fatalf("got %d spends, want 2", len(spends))
	}
	// 720 of 14,400 is 5 %; the two 144s tie at 1 % and the earlier wins.
	if spends[0].Bad != 720 || spends[0].BudgetSpent != 0.05 || !spends[0].Start.Equal(now.Add(-day+700*time.Minute)) {
		t.Errorf("first = %+v", spends[0])
	}
	if spends[1].Bad != 144 || spends[1].BudgetSpent != 0.01 || !spends[1].Start.Equal(now.Add(-day+10*time.Minute)) {
		t.Errorf("second = %+v", spends[1])
	}
	var buf bytes.Buffer
	if err := WriteExplain(&buf, spends); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain.txt", buf.Bytes())
}

func TestComplianceByMonth(t *testing.T) {
	// Data from 10 February to 1 April at 1,000 calls a minute, 99.9 %:
	// February holds 19 days (27,360,000 calls) with 10,000 bad: met, 10,000
	// / 27,360 of the budget spent. March holds 44,640,000 calls with
	// 50,000 bad: not met, 50,000 / 44,640 spent. April has no calls.
	s := rolling("api-availability", Fraction{999, 1000}, 30*day)
	feb10 := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	mar1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	n := int(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Sub(feb10) / time.Minute)
	data := minutes(feb10, n, 1000, func(i int) int64 {
		switch {
		case i < 10:
			return 1000
		case i >= int(mar1.Sub(feb10)/time.Minute) && i < int(mar1.Sub(feb10)/time.Minute)+50:
			return 1000
		}
		return 0
	})
	rows := Compliance(mustSeries(t, s, data, nil), Month, time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC))
	if len(rows) != 3 || rows[0].Period != "2026-02" || rows[1].Period != "2026-03" || rows[2].Period != "2026-04" {
		t.Fatalf("rows = %+v", rows)
	}
	feb, mar, apr := rows[0], rows[1], rows[2]
	if feb.Total != 27_360_000 || !*feb.Met || feb.BudgetSpent != 10000.0/27360 || *feb.SLI != 1-10000.0/27_360_000 {
		t.Errorf("February = %+v", feb)
	}
	if len(feb.Warnings) != 1 || feb.Warnings[0] != "data starts at 2026-02-10T00:00:00Z, 9 days into the period" {
		t.Errorf("February warnings = %q", feb.Warnings)
	}
	if mar.Total != 44_640_000 || *mar.Met || mar.BudgetSpent != 50000.0/44640 || len(mar.Warnings) != 0 {
		t.Errorf("March = %+v", mar)
	}
	if apr.SLI != nil || apr.Met != nil || apr.Warnings[0] != "no calls" {
		t.Errorf("April = %+v", apr)
	}
	var buf bytes.Buffer
	if err := WriteCompliance(&buf, rows); err != nil {
		t.Fatal(err)
	}
	golden(t, "compliance.txt", buf.Bytes())
}

func TestWriteTable(t *testing.T) {
	s := rolling("api-availability", Fraction{999, 1000}, 30*day)
	burst := minutes(now.Add(-30*day), 43200, 1000, func(i int) int64 {
		if i >= 43200-60 {
			return 360
		}
		return 0
	})
	frozen := rolling("api-latency", Fraction{99, 100}, day)
	reports := []Report{
		Assess(mustSeries(t, s, burst, nil), now, Options{}),
		Assess(mustSeries(t, frozen, minutes(now.Add(-day), 1440, 100, func(int) int64 { return 2 }), nil), now, Options{}),
		Assess(mustSeries(t, rolling("web", Fraction{9999, 10000}, 28*day), nil, nil), now, Options{}),
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, reports); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", buf.Bytes())
}

func TestComplianceByWeekStartsOnMonday(t *testing.T) {
	// Two ISO weeks from Monday 2 March at 100 calls a minute: the first
	// loses 1 call a minute (99 %, ten times the 0.1 % budget), the second
	// none.
	s := rolling("api-availability", Fraction{999, 1000}, 30*day)
	mon := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	data := minutes(mon, 2*7*1440, 100, func(i int) int64 {
		if i < 7*1440 {
			return 1
		}
		return 0
	})
	rows := Compliance(mustSeries(t, s, data, nil), Week, mon.Add(36*time.Hour), mon.AddDate(0, 0, 14))
	if len(rows) != 2 || rows[0].Period != "2026-W10" || !rows[0].From.Equal(mon) || rows[1].Period != "2026-W11" {
		t.Fatalf("rows = %+v", rows)
	}
	if *rows[0].Met || rows[0].BudgetSpent != 10 || !*rows[1].Met || rows[1].BudgetSpent != 0 {
		t.Errorf("weeks = %+v / %+v", rows[0], rows[1])
	}
}
