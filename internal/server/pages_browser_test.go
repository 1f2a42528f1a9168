package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestBrowserAgainstTheServer signs in to the real server in headless
// Chromium with a read token and reads the organisation and service pages'
// figures, which must be the API's. It skips without Chromium unless
// STRIDE_BROWSER=require, as internal/web's browser test does.
func TestBrowserAgainstTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("STRIDE_BROWSER") == "require" {
			t.Fatal("no chromium binary found and STRIDE_BROWSER=require")
		}
		t.Skip("no chromium binary found")
	}
	dir := os.Getenv("STRIDE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	ts, srv := pagesServer(t, db)
	if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
		t.Fatalf("ingest: %d %v", code, body)
	}
	if err := srv.Trends.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	code, rep := ts.do(t, "GET", "/api/v1/dora?service=app&"+pagesPeriod, ts.read, nil)
	if code != 200 || rep["lead_time"].(map[string]any)["median_seconds"] != 16200.0 {
		t.Fatalf("API: %d %v", code, rep)
	}

	bctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(bctx, chromedp.ExecPath(bin), chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	defer cancelAlloc()
	cctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(cctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(what, sel string) string {
		t.Helper()
		v, err := chromedp.Run(cctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(cctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "server-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	do("open the organisation", chromedp.Navigate(ts.URL+"/?"+pagesPeriod), chromedp.WaitVisible(`input[name=token]`))
	do("sign in", chromedp.SendKeys(`input[name=token]`, ts.read), chromedp.Submit(`form.login`), chromedp.WaitVisible(`#t-teams`))
	// 16200 s is 4 h 30 m; 1 of 2 deployments failed.
	if got := text("lead time", `//div[@id="t-teams"]//tr[th/a[text()="payments"]]/td[2]/a`); got != "median 4h 30m" {
		t.Errorf("payments lead time shows %q, the API says 16200 s", got)
	}
	if got := text("change failure rate", `//div[@id="t-teams"]//tr[th/a[text()="payments"]]/td[3]/a`); got != "50.0 %" {
		t.Errorf("payments change failure rate shows %q, the API says 0.5", got)
	}
	shot("organisation")
	do("service", chromedp.Navigate(ts.URL+"/services/app?"+pagesPeriod), chromedp.WaitVisible(`#fig-lead_time`))
	if got := text("service lead time", `#fig-lead_time .value a`); got != "median 4h 30m" {
		t.Errorf("app lead time shows %q", got)
	}
	if page := text("service page", `main`); !strings.Contains(page, "v2") {
		t.Error("the service page does not show deployment v2")
	}
	shot("service")
}
