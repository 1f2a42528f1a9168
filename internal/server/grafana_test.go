package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/stride-oss/stride/internal/store/storetest"
)

var grafanaDir = filepath.Join("..", "..", "deploy", "grafana")

// promQLWords are the words of PromQL that are not metric names.
var promQLWords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless",
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}

// metricNames returns the metric names a PromQL expression reads: the
// identifiers outside label matchers, ranges and strings that do not call
// a function and are not PromQL's own words, and the metric of a Grafana
// label_values(metric, label) query.
func metricNames(expr string) []string {
	if m := regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`).FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	for _, re := range []string{`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`, `"(\\.|[^"])*"`, `\{[^}]*\}`, `\[[^\]]*\]`} {
		expr = regexp.MustCompile(re).ReplaceAllString(expr, " ")
	}
	var out []string
	ident := regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	for _, loc := range ident.FindAllStringIndex(expr, -1) {
		word := expr[loc[0]:loc[1]]
		rest := strings.TrimLeft(expr[loc[1]:], " ")
		if strings.HasPrefix(rest, "(") || slices.Contains(promQLWords, word) || loc[0] > 0 && strings.ContainsAny(expr[loc[0]-1:loc[0]], "0123456789.$") {
			continue
		}
		out = append(out, word)
	}
	return out
}

func TestMetricNamesOfPromQL(t *testing.T) {
	for expr, want := range map[string][]string{
		`stride_dora_lead_time_seconds{service=~"$service",quantile="0.5"}`:                    {"stride_dora_lead_time_seconds"},
		`time() - max(stride_dora_report_timestamp_seconds)`:                                   {"stride_dora_report_timestamp_seconds"},
		`sum by (service) (rate(stride_http_requests_total{code="500"}[5m])) / on(service) up`: {"stride_http_requests_total", "up"},
		`label_values(stride_dora_deployments, service)`:                                       {"stride_dora_deployments"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", expr, got, want)
		}
	}
}

// TestGrafanaDashboardReadsOnlyExportedMetrics reads the dashboard's
// queries and checks every metric they name is one /metrics exports once
// the trend job has run over a real history.
func TestGrafanaDashboardReadsOnlyExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(grafanaDir, "stride-dora.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("stride-dora.json: %v", err)
	}
	used := map[string][]string{} // metric → where
	hasService := false
	for _, v := range dash.Templating.List {
		if v.Name == "service" && v.Type == "query" {
			hasService = true
		}
		for _, m := range metricNames(v.Definition) {
			used[m] = append(used[m], "variable "+v.Name)
		}
	}
	if !hasService {
		t.Error("the dashboard has no $service query variable")
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names := metricNames(tg.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, tg.Expr)
			}
			for _, m := range names {
				used[m] = append(used[m], "panel "+p.Title)
			}
			if !strings.Contains(tg.Expr, "$service") && !strings.Contains(tg.Expr, "timestamp") {
				t.Errorf("panel %q: query %q does not filter by $service", p.Title, tg.Expr)
			}
		}
	}
	db := storetest.SQLite(t)
	ts, srv := pagesServer(t, db)
	if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
		t.Fatalf("ingest: %d %v", code, body)
	}
	if err := srv.Trends.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for k := range scrape(t, ts) {
		name, _, _ := strings.Cut(k, "{")
		exported[name] = true
	}
	var names []string
	for m := range used {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		if !exported[m] {
			t.Errorf("the dashboard reads %s (%s), which /metrics does not export", m, strings.Join(used[m], ", "))
		}
	}
	if len(names) < 5 {
		t.Errorf("the dashboard reads only %v", names)
	}
}

// TestGrafanaProvisioningFiles checks the provider file is one Grafana
// takes as is: a file provider with a path, and the data source example a
// Prometheus one.
func TestGrafanaProvisioningFiles(t *testing.T) {
	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	raw, err := os.ReadFile(filepath.Join(grafanaDir, "provisioning.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &prov); err != nil {
		t.Fatalf("provisioning.yaml: %v", err)
	}
	if prov.APIVersion != 1 || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path == "" {
		t.Errorf("provisioning.yaml: %+v, want apiVersion 1 and one file provider with a path", prov)
	}
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	raw, err = os.ReadFile(filepath.Join(grafanaDir, "datasource.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &ds); err != nil {
		t.Fatalf("datasource.yaml: %v", err)
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL == "" {
		t.Errorf("datasource.yaml: %+v, want one prometheus data source with a url", ds)
	}
}
