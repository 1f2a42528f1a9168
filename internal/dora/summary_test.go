package dora

import (
	"reflect"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// summarised returns in with every shipment not linked to an incident
// moved into Summaries, one per deployment in the order they first
// appear, as the store's summaries carry them.
func summarised(in Input) Input {
	out := in
	out.Shipments = nil
	pos := map[delivery.DeploymentKey]int{}
	for _, s := range in.Shipments {
		if s.Incident != "" {
			out.Shipments = append(out.Shipments, s)
			continue
		}
		j, ok := pos[s.Deployment]
		if !ok {
			j = len(out.Summaries)
			pos[s.Deployment] = j
			out.Summaries = append(out.Summaries, ShippedTimes{Deployment: s.Deployment})
		}
		out.Summaries[j].CommitMicros = append(out.Summaries[j].CommitMicros, s.CommitTime.UnixMicro())
	}
	return out
}

func TestSummariesCountAsTheShipmentsTheySummarise(t *testing.T) {
	// Every rule of a change's lead time, and times whose difference
	// overflows a Duration, at the microsecond precision the store keeps.
	ancient := time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)
	future := time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
	before := time.Date(1960, 5, 1, 12, 0, 0, 123_456_000, time.UTC) // before 1970: negative microseconds
	in := Input{
		Period: period(0, 4*week),
		Deployments: []delivery.Deployment{
			dep("a", success, day), dep("b", success, 2*day+time.Second+250*time.Microsecond), dep("c", failure, 3*day),
			dep("early", success, -day), dep("later", success, 5*week), dep("fix", success, 10*day),
			dep("odd", success, 6*day+time.Nanosecond), dep("a", success, day), // not a whole microsecond; a duplicate
		},
		Reported: &Reported{Deployments: true, Failures: true},
		Shipments: []Shipment{
			ship("a", "a1", day-time.Hour), ship("a", "a2", day-2*time.Hour-time.Microsecond), ship("a", "a3", day+time.Minute), // negative
			ship("b", "b1", 2*day-time.Hour+time.Microsecond), ship("b", "b2", 0),
			{Deployment: key("b"), Repository: "api", SHA: "zero"},                         // no commit time
			{Deployment: key("b"), Repository: "api", SHA: "ancient", CommitTime: ancient}, // overflows: Sub saturates
			{Deployment: key("b"), Repository: "api", SHA: "future", CommitTime: future},   // negative, overflowing
			{Deployment: key("b"), Repository: "api", SHA: "sixties", CommitTime: before},
			ship("c", "c1", 2*day),                                   // its deployment failed
			ship("early", "e1", -2*day), ship("later", "l1", 4*week), // outside the period
			ship("gone", "g1", day), ship("gone", "g2", day), // its deployment is not in the input
			{Deployment: key("fix"), Repository: "api", SHA: "f1", CommitTime: at(9 * day), Incident: "inc-1"},
			ship("fix", "f2", 8*day),
			ship("odd", "o1", 5*day), ship("odd", "o2", 6*day+2*time.Microsecond),
		},
		Incidents: []IncidentLink{incident("inc-1", 3*day+time.Hour, 3*day+2*time.Hour, "c", false)},
	}
	want := Compute(in)
	got := Compute(summarised(in))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("from summaries:\n%s\nfrom shipments:\n%s", mustJSON(t, got), mustJSON(t, want))
	}
	// One change at a time, its lead time is the median: each is checked,
	// not only those the whole set's median and p90 land on.
	for _, s := range in.Shipments {
		one := in
		one.Shipments = []Shipment{s}
		if got, want := Compute(summarised(one)), Compute(one); !reflect.DeepEqual(got, want) {
			t.Errorf("%s alone, from a summary:\n%s\nfrom a shipment:\n%s", s.SHA, mustJSON(t, got.LeadTime), mustJSON(t, want.LeadTime))
		}
	}
	// The input exercises what it says it does.
	for _, code := range []string{"negative_lead_time", "missing_commit_time", "unknown_deployment", "duplicate_deployment"} {
		if warningCount(want, code) == 0 {
			t.Errorf("no %s warning: the case is missing from the input (warnings %v)", code, codes(want))
		}
	}
	if want.LeadTime.Count != 9 || want.ReworkRate.Unplanned != 1 {
		t.Errorf("lead time over %d changes, %d unplanned: the input is not what the test means", want.LeadTime.Count, want.ReworkRate.Unplanned)
	}

	t.Run("explained, every summarised change is listed as the report counted it", func(t *testing.T) {
		fromShipments, err := Explain(in, FigureLeadTime)
		if err != nil {
			t.Fatal(err)
		}
		fromSummaries, err := Explain(summarised(in), FigureLeadTime)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromSummaries.Value, fromShipments.Value) {
			t.Errorf("value %s, want %s", mustJSON(t, fromSummaries.Value), mustJSON(t, fromShipments.Value))
		}
		type change struct {
			commit  time.Time
			counted bool
			reason  string
		}
		list := func(e Explanation) map[string][]change {
			out := map[string][]change{}
			for _, d := range e.Deployments {
				for _, c := range d.Changes {
					out[d.ID] = append(out[d.ID], change{c.CommitTime, c.Counted, c.Reason})
				}
			}
			for _, c := range e.UnmatchedChanges {
				out[c.Deployment] = append(out[c.Deployment], change{c.CommitTime, c.Counted, c.Reason})
			}
			return out
		}
		if got, want := list(fromSummaries), list(fromShipments); !reflect.DeepEqual(got, want) {
			t.Errorf("changes %v, want %v", got, want)
		}
	})
}
