package slo

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestRulesAreSlothCompatible(t *testing.T) {
	f, err := os.Open("testdata/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	slos, err := ParseOpenSLO(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Rules(slos)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "rules.yaml", out)
	if !bytes.Contains(out, []byte("# Left out: api-availability (pushed to Stride), api-minutes (pushed to Stride).\n")) {
		t.Errorf("the rules do not say which SLOs they leave out")
	}

	var file RuleFile
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("the rules do not parse: %v", err)
	}
	// Only api-monthly reads Prometheus; the others are pushed to Stride.
	var names []string
	for _, g := range file.Groups {
		names = append(names, g.Name)
	}
	want := "sloth-slo-sli-recordings-api-api-monthly,sloth-slo-meta-recordings-api-api-monthly,sloth-slo-alerts-api-api-monthly"
	if strings.Join(names, ",") != want {
		t.Fatalf("groups %v, want %s", names, want)
	}
	var records []string
	for _, r := range file.Groups[0].Rules {
		records = append(records, r.Record)
		if r.Labels["sloth_id"] != "api-api-monthly" || r.Labels["sloth_service"] != "api" || r.Labels["sloth_slo"] != "api-monthly" {
			t.Errorf("%s labels = %v", r.Record, r.Labels)
		}
	}
	wantRecords := "slo:sli_error:ratio_rate5m,slo:sli_error:ratio_rate30m,slo:sli_error:ratio_rate1h,slo:sli_error:ratio_rate2h," +
		"slo:sli_error:ratio_rate6h,slo:sli_error:ratio_rate1d,slo:sli_error:ratio_rate3d,slo:sli_error:ratio_rate30d"
	if strings.Join(records, ",") != wantRecords {
		t.Errorf("SLI records %v", records)
	}
	rate5m := "(\n  sum(rate(http_requests_total{job=\"api\",code=~\"5..\"}[5m]))\n)\n/\n(\n  sum(rate(http_requests_total{job=\"api\"}[5m]))\n)"
	if got := file.Groups[0].Rules[0]; got.Expr != rate5m || got.Labels["sloth_window"] != "5m" {
		t.Errorf("5m rule = %+v, want expr %q", got, rate5m)
	}
	meta := map[string]string{}
	for _, r := range file.Groups[1].Rules {
		meta[r.Record] = r.Expr
	}
	sel := `{sloth_id="api-api-monthly", sloth_service="api", sloth_slo="api-monthly"}`
	if meta["slo:objective:ratio"] != "vector(0.9995)" || meta["slo:error_budget:ratio"] != "vector(1-0.9995)" ||
		meta["slo:time_period:days"] != "vector(30)" ||
		meta["slo:current_burn_rate:ratio"] != "slo:sli_error:ratio_rate5m"+sel+"\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio"+sel {
		t.Errorf("meta rules = %q", meta)
	}
	alerts := file.Groups[2].Rules
	if len(alerts) != 2 || alerts[0].Labels["sloth_severity"] != "page" || alerts[1].Labels["sloth_severity"] != "ticket" {
		t.Fatalf("alerts = %+v", alerts)
	}
	for _, part := range []string{
		"max(slo:sli_error:ratio_rate5m" + sel + " > (14.4 * 0.0005)) without (sloth_window)\n  and\n  max(slo:sli_error:ratio_rate1h" + sel + " > (14.4 * 0.0005))",
		"max(slo:sli_error:ratio_rate30m" + sel + " > (6 * 0.0005)) without (sloth_window)\n  and\n  max(slo:sli_error:ratio_rate6h" + sel + " > (6 * 0.0005))",
	} {
		if !strings.Contains(alerts[0].Expr, part) {
			t.Errorf("page expr lacks %q:\n%s", part, alerts[0].Expr)
		}
	}
	for _, part := range []string{"ratio_rate2h" + sel + " > (3 * 0.0005)", "ratio_rate1d" + sel + " > (3 * 0.0005)", "ratio_rate6h" + sel + " > (1 * 0.0005)", "ratio_rate3d" + sel + " > (1 * 0.0005)"} {
		if !strings.Contains(alerts[1].Expr, part) {
			t.Errorf("ticket expr lacks %q", part)
		}
	}
}

func TestRulesNeedAWindowInTheQuery(t *testing.T) {
	s := SLO{Name: "x", Service: "api", Objective: Fraction{99, 100}, Window: Window{Rolling: 28 * day},
		Indicator: Indicator{Good: &Source{Type: SourcePrometheus, Query: "sum(up)"}, Total: Source{Type: SourcePrometheus, Query: "count(up)"}}}
	_, err := Rules([]SLO{s})
	if delivery.ErrorCode(err) != delivery.EINVALID || !strings.Contains(err.Error(), "indicator.good.query") {
		t.Errorf("error = %v", err)
	}
}
