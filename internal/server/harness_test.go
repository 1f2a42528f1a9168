package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/alertmanager"
	"github.com/stride-oss/stride/internal/ingest/argocd"
	"github.com/stride-oss/stride/internal/ingest/cdevents"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// The secrets and tokens every test server is configured with.
const (
	githubSecret      = "github-test-secret"
	gitlabToken       = "gitlab-test-token"
	jiraSecret        = "jira-test-secret"
	pagerdutySecret   = "pagerduty-test-secret"
	alertmanagerToken = "alertmanager-test-token"
	argocdToken       = "argocd-test-token"
	cdeventsToken     = "cdevents-test-token"
)

// The project's own GitHub and GitLab payloads, kept with their connectors.
var (
	githubPayloads = filepath.Join("..", "ingest", "github", "testdata", "payloads")
	gitlabPayloads = filepath.Join("..", "ingest", "gitlab", "testdata", "payloads")
)

// pagerdutyShopService is the PagerDuty service id the history's incident
// is raised on; the mapping sends it to the service "shop".
const pagerdutyShopService = "PSHOP01"

// testMapping maps the history's repository to the service "shop" of the
// team "payments"; every other repository falls back to its own name.
func testMapping() delivery.Mapping {
	return delivery.Mapping{Services: []delivery.ServiceMapping{
		{Name: "shop", Team: "payments", Repositories: []string{"acme/shop"}},
	}}
}

// allSources configures every connector Stride has, as one server would
// with all of them enabled in stride.yaml.
func allSources(t testing.TB) map[string]ingest.Source {
	t.Helper()
	m := testMapping()
	pd, err := pagerduty.New(pagerduty.Config{Secrets: []string{pagerdutySecret}, Mapping: m,
		Services: map[string]string{pagerdutyShopService: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	am, err := alertmanager.New(alertmanager.Config{Token: alertmanagerToken, Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]ingest.Source{
		"github":       github.New(github.Config{Secret: githubSecret, Mapping: m}),
		"gitlab":       gitlab.New(gitlab.Config{Token: gitlabToken, Mapping: m}),
		"jira":         jira.New(jira.Config{Secret: jiraSecret, Mapping: m}),
		"pagerduty":    pd,
		"alertmanager": am,
		"argocd":       argocd.New(argocd.Config{Token: argocdToken, Mapping: m}),
		"cdevents":     cdevents.New(cdevents.Config{Token: cdeventsToken, Mapping: m}),
	}
}

// harness is one Stride server over a fresh store, served over real HTTP,
// with a second connection to the same database for counting rows.
type harness struct {
	db    *store.DB
	raw   *sql.DB
	srv   *server.Server
	http  *httptest.Server
	token string // an admin bearer token for the native API
	url   string // the store's URL (a SQLite file's path)
}

// forEachDB runs fn once per configured database (SQLite always, PostgreSQL
// when STRIDE_TEST_POSTGRES is set), as storetest.ForEach does, but hands
// out a harness factory so a test can open several fresh stores.
func forEachDB(t *testing.T, fn func(t *testing.T, open func(t *testing.T) *harness)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t *testing.T) *harness { return newHarness(t, "sqlite") })
	})
	if storetest.PostgresURL() != "" {
		t.Run("postgres", func(t *testing.T) {
			fn(t, func(t *testing.T) *harness { return newHarness(t, "postgres") })
		})
	}
}

// newHarness opens a fresh, migrated store of kind ("sqlite" or "postgres")
// and serves Stride over it with every source configured.
func newHarness(t testing.TB, kind string) *harness {
	t.Helper()
	ctx := context.Background()
	var url, driver string
	switch kind {
	case "sqlite":
		url, driver = filepath.Join(t.TempDir(), "stride.db"), "sqlite"
	case "postgres":
		tt, ok := t.(*testing.T)
		if !ok {
			t.Fatal("postgres stores are for tests only")
		}
		url, driver = storetest.PostgresSchemaURL(tt), "pgx"
	default:
		t.Fatalf("unknown store kind %q", kind)
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open %s store: %v", kind, err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open(driver, url)
	if err != nil {
		t.Fatalf("open %s for counting: %v", kind, err)
	}
	t.Cleanup(func() { raw.Close() })
	_, secret, err := db.CreateToken(ctx, "test", "admin")
	if err != nil {
		t.Fatal(err)
	}
	sources := allSources(t)
	srv := &server.Server{DB: db, Reports: reader(db), Sources: sources, Intake: intake.New(db, sources)}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &harness{db: db, raw: raw, srv: srv, http: hs, token: secret, url: url}
}

// response is what the server answered.
type response struct {
	status int
	body   map[string]any
	text   string
}

// post sends body to path with the headers h.
func (h *harness) post(t testing.TB, path string, hdr http.Header, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.http.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, text: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

// get fetches path with the admin token.
func (h *harness) get(t testing.TB, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := h.http.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// metrics reads GET /metrics into sample → value, the sample written as in
// the exposition (name{labels}, labels sorted by name); a histogram gives
// its name_count and name_sum. The exposition is parsed with Prometheus's
// own parser, so a body it would refuse fails the test.
func (h *harness) metrics(t testing.TB) map[string]float64 {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(h.get(t, "/metrics")))
	if err != nil {
		t.Fatalf("/metrics is not in the exposition format: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			pairs := m.GetLabel()
			slices.SortFunc(pairs, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
			var labels []string
			for _, p := range pairs {
				labels = append(labels, p.GetName()+"="+strconv.Quote(p.GetValue()))
			}
			key := func(name string) string {
				if len(labels) == 0 {
					return name
				}
				return name + "{" + strings.Join(labels, ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key(name)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key(name)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key(name+"_count")] = float64(m.GetHistogram().GetSampleCount())
				out[key(name+"_sum")] = m.GetHistogram().GetSampleSum()
			default:
				out[key(name)] = m.GetUntyped().GetValue()
			}
		}
	}
	return out
}

// deliveryMetric names the webhook delivery counter of source and outcome.
func deliveryMetric(source, outcome string) string {
	return `stride_webhook_deliveries_total{outcome="` + outcome + `",source="` + source + `"}`
}

// tables are the tables a delivery can write to.
var tables = []string{"raw_deliveries", "events", "changes", "deployments", "incidents", "pull_requests", "work_items", "builds", "services"}

// counts returns the number of rows of each table.
func (h *harness) counts(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range tables {
		var n int
		if err := h.raw.QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

// rawDelivery returns the stored outcome of a delivery, and whether it is
// stored at all.
func (h *harness) rawDelivery(t testing.TB, source, id string) (string, bool) {
	t.Helper()
	var outcome string
	err := h.raw.QueryRow(rebind(h, "SELECT outcome FROM raw_deliveries WHERE source = ? AND delivery_id = ?"), source, id).Scan(&outcome)
	if err == sql.ErrNoRows {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return outcome, true
}

func rebind(h *harness, q string) string {
	if h.db.Dialect() != store.Postgres {
		return q
	}
	n := 0
	var b strings.Builder
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// readFile reads a test file or fails.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readHTTPDelivery reads a connector's testdata .http file: headers, a
// blank line, the body.
func readHTTPDelivery(t testing.TB, path string) (http.Header, []byte) {
	t.Helper()
	head, body, ok := bytes.Cut(readFile(t, path), []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no blank line after the headers", path)
	}
	h := http.Header{}
	for _, line := range strings.Split(string(head), "\n") {
		k, v, _ := strings.Cut(line, ":")
		h.Add(k, strings.TrimSpace(v))
	}
	return h, body
}

// hmacHex is the hex HMAC-SHA256 of body under secret.
func hmacHex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// headers builds a header from key, value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// merge returns a copy of a with b's values added.
func mergeHeaders(a, b http.Header) http.Header {
	out := a.Clone()
	if out == nil {
		out = http.Header{}
	}
	for k, vs := range b {
		for _, v := range vs {
			out.Set(k, v)
		}
	}
	return out
}
