package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/stride-oss/stride/internal/dora"
)

// chromium finds a Chromium binary; without one the browser test skips,
// unless STRIDE_BROWSER=require says the machine must have it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("STRIDE_BROWSER") == "require" {
		t.Fatal("no chromium binary found and STRIDE_BROWSER=require")
	}
	t.Skip("no chromium binary found (install Debian's chromium, or set STRIDE_BROWSER=require to fail instead)")
	return ""
}

// artifacts is where screenshots go: $STRIDE_ARTIFACTS, else a temp dir.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STRIDE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser drives the pages in headless Chromium: signs in (refused
// without the right token), reads the figures off each page and compares
// them with the reports, sorts, changes the period, follows an explain
// link, checks every chart's text alternative and saves a screenshot of
// every page.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := chromium(t)
	srv := authServer(t)
	h := fixture()
	dir := artifacts(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// Every console error and uncaught exception of every page is kept,
	// and the test fails on any: a page blocked by its own CSP, a script
	// that throws or a missing asset shows up here.
	var (
		consoleMu sync.Mutex
		console   []string
	)
	if err := chromedp.Listen(bctx, func(ev any) {
		consoleMu.Lock()
		defer consoleMu.Unlock()
		switch e := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.ConsoleAPICalledTypeError {
				console = append(console, "console.error")
			}
		case *cdpruntime.EventExceptionThrown:
			console = append(console, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			// The one error the test causes: the sign-in refused with a
			// wrong token answers 401.
			if e.Entry.Level == cdplog.EntryLevelError && !(strings.HasSuffix(e.Entry.URL, "/login") && strings.Contains(e.Entry.Text, "401")) {
				console = append(console, "log: "+e.Entry.Text+" ("+e.Entry.URL+")")
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		consoleMu.Lock()
		defer consoleMu.Unlock()
		if len(console) > 0 {
			t.Errorf("console errors: %s", strings.Join(console, "; "))
		}
	}()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	read := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(bctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	// navigate runs an action that loads a new page (a click on a link or
	// a submit) and waits for the page's response.
	navigate := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(bctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.Status != 200 {
			t.Fatalf("%s: status %d", what, resp.Status)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
	}

	// Sign in: a page without a session leads to the login form, which
	// refuses a wrong token and accepts the right one.
	do("open team page", chromedp.Navigate(srv.URL+"/teams/payments?"+period4w), chromedp.WaitVisible(`input[name=token]`))
	if loc := read("location", chromedp.Location()); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("without a session the page is at %s, want the login", loc)
	}
	shot("login")
	do("wrong token", chromedp.SendKeys(`input[name=token]`, "guess"), chromedp.Submit(`form.login`), chromedp.WaitVisible(`p.error`))
	if body := read("refusal", chromedp.Text(`p.error`)); !strings.Contains(body, "That token was refused") {
		t.Fatalf("wrong token: %q", body)
	}
	do("right token", chromedp.SendKeys(`input[name=token]`, "s3cret"), chromedp.Submit(`form.login`), chromedp.WaitVisible(`#targets-h`))
	if loc := read("location", chromedp.Location()); !strings.Contains(loc, "/teams/payments?") {
		t.Fatalf("after sign-in at %s, want the team page", loc)
	}
	team := dora.Compute(h.input(Scope{Team: "payments", From: t0, To: t0.Add(4 * week)}))
	targets := read("targets", chromedp.Text(`#t-targets`))
	for _, res := range dora.JudgeTargets(team, h.catalog.Teams[0].Targets) {
		if !strings.Contains(targets, res.Sentence) {
			t.Errorf("team page targets %q lack %q", targets, res.Sentence)
		}
	}
	// The health panels render with their figures, and the deploy-hours
	// grid is drawn, not an empty box.
	for sel, wants := range map[string][]string{
		"#sprint-health":      {"Throughput\n\n3 items done", "S1\tclosed\t2026-03-09 00:00\t3 items, 10 points\t0 items\t2 items, 8 points\t1 item, 2 points\t33.3 %"},
		"#ci-health":          {"Commit to production within target\n\n44.4 %", "api · ci\t4\t1\t20m 0s\t30m 0s"},
		"#deploy-hours-panel": {"Deployments outside working hours\n\n23.8 %"},
	} {
		body := read(sel, chromedp.Text(sel))
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s reads %q, want %q", sel, body, w)
			}
		}
	}
	grid, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector("svg#deploy-hours").getBoundingClientRect(); return [r.width, r.height, document.querySelectorAll("svg#deploy-hours rect.heat").length]; })()`))
	if err != nil || len(grid) != 3 || grid[0] < 100 || grid[1] < 100 || grid[2] != 7*24 {
		t.Errorf("deploy-hours grid: %v %v, want a drawn 7×24 grid", grid, err)
	}
	checkChartAlternatives(t, bctx)
	shot("team")

	// The organisation: each team's figures are its report's.
	do("organisation", chromedp.Navigate(srv.URL+"/?"+period4w), chromedp.WaitVisible(`#t-teams`))
	leadTime := read("lead time", chromedp.Text(`//div[@id="t-teams"]//tr[th/a[text()="payments"]]/td[2]/a`))
	cfr := read("change failure rate", chromedp.Text(`//div[@id="t-teams"]//tr[th/a[text()="payments"]]/td[3]/a`))
	if want := "median " + dur(*team.LeadTime.MedianSeconds); leadTime != want {
		t.Errorf("payments lead time shows %q, the report says %q", leadTime, want)
	}
	if want := pct(team.ChangeFailureRate.Ratio); cfr != want {
		t.Errorf("payments change failure rate shows %q, the report says %q", cfr, want)
	}
	checkChartAlternatives(t, bctx)
	shot("organisation")

	// Sort by lead time by choosing its heading.
	navigate("sort", chromedp.Click(`//div[@id="t-teams"]//thead//a[contains(., "Lead time")]`))
	do("sorted page", chromedp.WaitVisible(`#t-teams`))
	order, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#t-teams tbody th")].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "search,payments,onboarding" {
		t.Errorf("sorted by lead time: %v, want search, payments, onboarding", order)
	}

	// Change the period with the filter form: the first week only.
	do("period", chromedp.SetValue(`input[name=from]`, "2026-03-02"), chromedp.SetValue(`input[name=to]`, "2026-03-09"))
	navigate("period", chromedp.Click(`form.period button[type=submit]`))
	do("filtered page", chromedp.WaitVisible(`form.period .now`))
	if body, loc := read("period", chromedp.Text(`form.period .now`)), read("location", chromedp.Location()); body != "2 Mar 2026 – 8 Mar 2026" || !strings.Contains(loc, "sort=lead_time") {
		t.Errorf("after the period filter: %q at %s (the sort should be kept)", body, loc)
	}

	// The service page, then the records behind its lead time.
	svc := dora.Compute(h.input(Scope{Service: "api", From: t0, To: t0.Add(4 * week)}))
	do("service", chromedp.Navigate(srv.URL+"/services/api?"+period4w), chromedp.WaitVisible(`#fig-lead_time`))
	if body, want := read("lead time", chromedp.Text(`#fig-lead_time .value a`)), "median "+dur(*svc.LeadTime.MedianSeconds); body != want {
		t.Errorf("api lead time shows %q, the report says %q", body, want)
	}
	// The impact beside the deployments: a16 flagged in red with its
	// reason, a14 not assessed, and the Apdex figure.
	if body := read("a16", chromedp.Text(`//div[@id="t-impact"]//tr[th[text()="a16"]]`)); !strings.Contains(body, "0.5 % → 4.0 %") || !strings.Contains(body, "flagged: error rate rose") {
		t.Errorf("a16 impact row reads %q", body)
	}
	if body := read("a14", chromedp.Text(`//div[@id="t-impact"]//tr[th[text()="a14"]]`)); !strings.Contains(body, "not assessed") {
		t.Errorf("a14 impact row reads %q", body)
	}
	if bg := read("flag colour", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#t-impact tr.flagged td")).backgroundColor`)); bg != "rgb(253, 232, 230)" {
		t.Errorf("flagged row background %q, want the red of tr.flagged", bg)
	}
	if body := read("apdex", chromedp.Text(`#fig-apdex`)); !strings.Contains(body, "0.93") || !strings.Contains(body, "good") {
		t.Errorf("Apdex reads %q", body)
	}
	checkChartAlternatives(t, bctx)
	shot("service")
	navigate("explain", chromedp.Click(`#fig-lead_time a[data-figure=lead_time]`))
	do("explain page", chromedp.WaitVisible(`#t-changes`))
	if body := read("heading", chromedp.Text(`h1`)); !strings.Contains(body, "Lead time for changes") {
		t.Errorf("explain page heading %q", body)
	}
	shot("explain")

	// The remaining pages, each with its charts' alternatives.
	for _, p := range []struct{ name, path string }{{"team-search", "/teams/search?" + period4w}, {"service-empty", "/services/fresh?" + period4w}} {
		do(p.name, chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(`main`))
		checkChartAlternatives(t, bctx)
		shot(p.name)
	}
}

// checkChartAlternatives asserts that every chart on the page has a title,
// a description and a table next to it.
func checkChartAlternatives(t *testing.T, ctx context.Context) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('svg[role="img"]')].filter(s =>
		!s.querySelector(":scope > title") || !s.querySelector(":scope > desc") ||
		!(s.closest("figure.chart-box")?.querySelector("table, p.empty") || s.closest("td, th")?.querySelector(".sr-only"))
	).map(s => s.id)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("charts without a text alternative: %v", bad)
	}
}
