package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
)

// preparedData answers from reports computed once, as the weekly roll-up
// job would keep them, so the benchmark measures the page alone.
type preparedData struct {
	catalog Catalog
	reports map[string]dora.Report
	weeks   map[string][]Week
}

func (p *preparedData) Catalog(context.Context) (Catalog, error) { return p.catalog, nil }
func (p *preparedData) DORA(_ context.Context, s Scope) (dora.Report, error) {
	return p.reports[s.Team], nil
}
func (p *preparedData) Weekly(_ context.Context, s Scope, _ int) ([]Week, error) {
	return p.weeks[s.Team], nil
}
func (p *preparedData) DORAExplain(context.Context, Scope, string) (dora.Explanation, error) {
	return dora.Explanation{}, nil
}
func (p *preparedData) Flow(context.Context, Scope) (flow.Report, error) { return flow.Report{}, nil }
func (p *preparedData) FlowExplain(context.Context, Scope, string) (flow.Explanation, error) {
	return flow.Explanation{}, nil
}
func (p *preparedData) Planning(context.Context, Scope) (flow.PlanningReport, error) {
	return flow.PlanningReport{}, nil
}
func (p *preparedData) Deployments(context.Context, Scope) ([]delivery.Deployment, error) {
	return nil, nil
}
func (p *preparedData) Incidents(context.Context, Scope) ([]delivery.Incident, error) {
	return nil, nil
}
func (p *preparedData) Rollouts(context.Context, string, int) ([]Rollout, error) { return nil, nil }

// prepare builds 50 teams of 10 services, each team with a year of daily
// deployments (its report over the year) and 12 weekly reports.
func prepare() *preparedData {
	p := &preparedData{reports: map[string]dora.Report{}, weeks: map[string][]Week{}, catalog: Catalog{Thresholds: dora.DefaultThresholds()}}
	from := t0.AddDate(-1, 0, 0)
	for ti := range 50 {
		team := Team{Name: fmt.Sprintf("team-%02d", ti)}
		in := dora.Input{Period: delivery.Period{From: from, To: t0}}
		for si := range 10 {
			svc := fmt.Sprintf("svc-%02d-%d", ti, si)
			team.Services = append(team.Services, Service{Name: svc, Team: team.Name, IncidentSource: si%2 == 0})
			for d := 0; d < 365; d += 1 + (ti+si)%4 {
				status := delivery.DeploymentSuccess
				if (d+si)%17 == 0 {
					status = delivery.DeploymentFailure
				}
				dep := delivery.Deployment{Service: svc, Environment: delivery.EnvironmentProduction, ID: fmt.Sprint(d), Status: status,
					FinishedAt: from.Add(time.Duration(d)*day + 10*hour)}
				in.Deployments = append(in.Deployments, dep)
				in.Shipments = append(in.Shipments, dora.Shipment{Deployment: dep.Key(), Repository: svc, SHA: fmt.Sprint(svc, d),
					CommitTime: dep.FinishedAt.Add(-time.Duration(1+(d+ti)%48) * hour)})
			}
		}
		p.catalog.Teams = append(p.catalog.Teams, team)
		p.reports[team.Name] = dora.Compute(in)
		for w := range 12 {
			start := t0.AddDate(0, 0, -7*(12-w))
			wi := in
			wi.Period = delivery.Period{From: start, To: start.AddDate(0, 0, 7)}
			p.weeks[team.Name] = append(p.weeks[team.Name], Week{Start: start, DORA: dora.Compute(wi)})
		}
	}
	return p
}

// BenchmarkOrgPage renders the organisation page for 50 teams and 500
// services from prepared reports, and reports its time against the
// reference of JSON-encoding the same reports (what GET /api/v1/dora would
// add over the data for the same scope): x-json is page time ÷ JSON time.
func BenchmarkOrgPage(b *testing.B) {
	p := prepare()
	h, err := New(p, Options{Dev: true, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/?from=2025-03-02&to=2026-03-02", nil)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
	page := time.Since(start)
	b.StopTimer()

	type teamJSON struct {
		Report dora.Report   `json:"report"`
		Weeks  []dora.Report `json:"weeks"`
	}
	start = time.Now()
	for range b.N {
		out := make([]teamJSON, 0, len(p.catalog.Teams))
		for _, t := range p.catalog.Teams {
			tj := teamJSON{Report: p.reports[t.Name]}
			for _, w := range p.weeks[t.Name] {
				tj.Weeks = append(tj.Weeks, w.DORA)
			}
			out = append(out, tj)
		}
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
	ref := time.Since(start)
	b.ReportMetric(float64(ref.Nanoseconds())/float64(b.N), "json-ns/op")
	b.ReportMetric(float64(page)/float64(ref), "x-json")
}

// BenchmarkHealthPanels builds and renders the team page's sprint, CI and
// deploy-hours panels from prepared reports (the fixture's payments over
// its four weeks), and reports the time against the reference of
// JSON-encoding the same three reports, what their APIs answer:
// x-json is panel time ÷ JSON time.
func BenchmarkHealthPanels(b *testing.B) {
	f := fakeData{fixture()}
	s := Scope{Team: "payments", From: t0, To: t0.Add(4 * week)}
	ctx := context.Background()
	sr, _ := f.Sprint(ctx, s)
	cr, _ := f.CI(ctx, s)
	hr, _ := f.DeployHours(ctx, s)
	h, err := New(f, Options{Dev: true, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	tmpl := h.pages["team"]
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		v := &view{query: url.Values{}, path: "/teams/payments", tables: map[string]Table{}}
		var out bytes.Buffer
		for _, p := range []panelView{v.P(sprintPanel("payments", s, sr), "sprints"), v.P(ciPanel(s, cr), "ci"), v.P(hoursPanel(s, hr), "deploy-hours")} {
			if err := tmpl.ExecuteTemplate(&out, "panel", p); err != nil {
				b.Fatal(err)
			}
		}
	}
	panels := time.Since(start)
	b.StopTimer()
	start = time.Now()
	for range b.N {
		for _, r := range []any{sr, cr, hr} {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	ref := time.Since(start)
	b.ReportMetric(float64(panels.Nanoseconds())/float64(b.N), "panels-ns/op")
	b.ReportMetric(float64(ref.Nanoseconds())/float64(b.N), "json-ns/op")
	b.ReportMetric(float64(panels)/float64(ref), "x-json")
}
