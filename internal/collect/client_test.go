package collect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is the injected clock: Sleep advances it at once and records
// what was asked, so no test waits for real backoff.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}
func (f *fakeClock) Slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func testClient(clock *fakeClock) *Client {
	c := NewClient(4, Bearer("tok"))
	c.Now, c.Sleep = clock.Now, clock.Sleep
	c.Jitter = func(time.Duration) time.Duration { return 0 }
	return c
}

// script answers the n-th request (from 0) with answers[n], the last one
// repeating.
func script(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request without the token: %q", r.Header.Get("Authorization"))
		}
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, headers ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		if code >= 400 {
			w.Write([]byte(`{"message":"` + http.StatusText(code) + `"}`))
		}
	}
}

func body(text string, headers ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Write([]byte(text))
	}
}

func TestRetriesAndWaits(t *testing.T) {
	reset := strconv.FormatInt(t0.Add(10*time.Minute).Unix(), 10)
	secondary := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`))
	}
	tests := []struct {
		name     string
		answers  []func(w http.ResponseWriter, r *http.Request)
		requests int
		slept    []time.Duration
	}{
		{name: "a 5xx burst is retried with exponential backoff",
			answers:  []func(http.ResponseWriter, *http.Request){status(502), status(503), status(500), body(`ok`)},
			requests: 4, slept: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "a secondary limit with Retry-After waits that long",
			answers:  []func(http.ResponseWriter, *http.Request){status(403, "Retry-After", "30"), body(`ok`)},
			requests: 2, slept: []time.Duration{30 * time.Second}},
		{name: "a 429 with Retry-After waits that long",
			answers:  []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "7"), body(`ok`)},
			requests: 2, slept: []time.Duration{7 * time.Second}},
		{name: "a secondary limit without a header waits a minute, then two",
			answers:  []func(http.ResponseWriter, *http.Request){secondary, secondary, body(`ok`)},
			requests: 3, slept: []time.Duration{time.Minute, 2 * time.Minute}},
		{name: "the older abuse-detection answer is a secondary limit too",
			answers: []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"message":"You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."}`))
			}, body(`ok`)},
			requests: 2, slept: []time.Duration{time.Minute}},
		{name: "an exhausted primary limit waits until its reset",
			answers:  []func(http.ResponseWriter, *http.Request){status(403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset), body(`ok`)},
			requests: 2, slept: []time.Duration{10*time.Minute + time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: t0}
			srv, n := script(t, tt.answers...)
			resp, err := testClient(clock).Do(context.Background(), Request{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != "ok" || int(n.Load()) != tt.requests {
				t.Errorf("answer %q after %d requests, want ok after %d", resp.Body, n.Load(), tt.requests)
			}
			if got := clock.Slept(); !equalDurations(got, tt.slept) {
				t.Errorf("slept %v, want %v", got, tt.slept)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(w http.ResponseWriter, r *http.Request)
		permanent bool
		requests  int
	}{
		{name: "a 404 is permanent at once", answer: status(404), permanent: true, requests: 1},
		{name: "a 401 is permanent at once", answer: status(401), permanent: true, requests: 1},
		{name: "a 403 that is no rate limit is permanent", answer: status(403), permanent: true, requests: 1},
		{name: "5xx for ever gives up after three retries", answer: status(502), requests: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := script(t, tt.answer)
			_, err := testClient(&fakeClock{now: t0}).Do(context.Background(), Request{URL: srv.URL + "/repos/acme/gone"})
			if err == nil {
				t.Fatal("no error")
			}
			if IsPermanent(err) != tt.permanent || int(n.Load()) != tt.requests {
				t.Errorf("error %v (permanent %t) after %d requests; want permanent %t after %d", err, IsPermanent(err), n.Load(), tt.permanent, tt.requests)
			}
		})
	}
	srv, _ := script(t, status(404))
	_, err := testClient(&fakeClock{now: t0}).Do(context.Background(), Request{URL: srv.URL + "/repos/acme/gone"})
	if want := srv.URL + "/repos/acme/gone answered 404 (it does not exist, or the token cannot see it): Not Found"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, n := script(t, func(w http.ResponseWriter, r *http.Request) {
		select { // the first attempt hangs past the client's timeout
		case <-r.Context().Done():
		case <-release:
		}
	}, body(`ok`))
	c := testClient(&fakeClock{now: t0})
	c.HTTP.Timeout = 50 * time.Millisecond
	resp, err := c.Do(context.Background(), Request{URL: srv.URL})
	if err != nil || string(resp.Body) != "ok" || n.Load() != 2 {
		t.Fatalf("answer %v, %v after %d requests; want ok after 2", resp, err, n.Load())
	}
}

func TestETag(t *testing.T) {
	srv, _ := script(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(`[1]`))
	})
	c := testClient(&fakeClock{now: t0})
	first, err := c.Do(context.Background(), Request{URL: srv.URL})
	if err != nil || first.NotModified || first.ETag != `"v1"` {
		t.Fatalf("first answer %+v, %v; want a full answer with ETag \"v1\"", first, err)
	}
	again, err := c.Do(context.Background(), Request{URL: srv.URL, ETag: first.ETag})
	if err != nil || !again.NotModified || again.ETag != `"v1"` {
		t.Fatalf("conditional answer %+v, %v; want 304 keeping the ETag", again, err)
	}
	if s := c.Stats(); s.Requests != 2 || s.NotModified != 1 {
		t.Errorf("stats %+v, want 2 requests of which 1 not modified", s)
	}
}

func TestSlowsDownBeforeThePrimaryLimit(t *testing.T) {
	clock := &fakeClock{now: t0}
	reset := t0.Add(20 * time.Minute)
	var seen []time.Time
	srv, _ := script(t, func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, clock.Now())
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "50") // the reserve: the next request waits
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.Write([]byte(`ok`))
	})
	c := testClient(clock)
	for range 2 {
		if _, err := c.Do(context.Background(), Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 2 || !seen[0].Equal(t0) || !seen[1].Equal(reset.Add(time.Second)) {
		t.Errorf("requests at %v, want at %v and just after the reset %v", seen, t0, reset)
	}
	if s := c.Stats(); s.Remaining != 50 || s.Limit != 5000 || !s.Reset.Equal(reset) {
		t.Errorf("stats %+v, want 50 of 5000 left until %v", s, reset)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	var inFlight, most atomic.Int32
	srv, _ := script(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
	})
	c := NewClient(2, Bearer("tok"))
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := c.Do(context.Background(), Request{URL: srv.URL}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() > 2 || most.Load() < 1 {
		t.Errorf("%d requests in flight at most, want at most 2", most.Load())
	}
}

func TestCancelledWaitEnds(t *testing.T) {
	srv, _ := script(t, status(403, "Retry-After", "3600"))
	ctx, cancel := context.WithCancel(context.Background())
	c := testClient(&fakeClock{now: t0})
	c.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return sleep(ctx, d) }
	if _, err := c.Do(ctx, Request{URL: srv.URL}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestNextLink(t *testing.T) {
	tests := []struct{ link, want string }{
		{`<https://api.github.com/repositories/1/pulls?page=2>; rel="next", <https://api.github.com/repositories/1/pulls?page=5>; rel="last"`, "https://api.github.com/repositories/1/pulls?page=2"},
		{`<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first"`, ""},
		{`<https://gitlab.example/api/v4/projects/1/merge_requests?page=3>; rel="next"`, "https://gitlab.example/api/v4/projects/1/merge_requests?page=3"},
		{``, ""},
	}
	for _, tt := range tests {
		if got := NextLink(tt.link); got != tt.want {
			t.Errorf("NextLink(%q) = %q, want %q", tt.link, got, tt.want)
		}
	}
	if got := LinkRel(tests[0].link, "last"); got != "https://api.github.com/repositories/1/pulls?page=5" {
		t.Errorf("LinkRel(last) = %q", got)
	}
}

func TestGraphQLErrors(t *testing.T) {
	srv, _ := script(t, body(`{"data":{"repository":null},"errors":[{"type":"NOT_FOUND","message":"Could not resolve to a Repository with the name 'acme/gone'."}]}`))
	var out struct{}
	err := testClient(&fakeClock{now: t0}).GraphQL(context.Background(), srv.URL+"/graphql", "query{}", nil, &out)
	if !IsPermanent(err) {
		t.Errorf("error %v, want a permanent error", err)
	}
}

// TestGitLabRateLimitHeaders: GitLab's RateLimit-* headers are read as
// GitHub's X-RateLimit-* are, and its 429 with Retry-After is waited for.
func TestGitLabRateLimitHeaders(t *testing.T) {
	clock := &fakeClock{now: t0}
	reset := strconv.FormatInt(t0.Add(time.Minute).Unix(), 10)
	srv, n := script(t,
		status(429, "Retry-After", "5", "RateLimit-Remaining", "0", "RateLimit-Reset", reset),
		body(`ok`, "RateLimit-Limit", "2000", "RateLimit-Remaining", "1999", "RateLimit-Reset", reset))
	c := testClient(clock)
	if _, err := c.Do(context.Background(), Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); n.Load() != 2 || s.Remaining != 1999 || s.Limit != 2000 || !equalDurations(clock.Slept(), []time.Duration{5 * time.Second}) {
		t.Errorf("%d requests, stats %+v, slept %v; want 2, 1999 of 2000 left, 5s", n.Load(), s, clock.Slept())
	}
}

// TestVendorBudgetHeaders: each vendor's primary budget headers are read
// into the stats progress shows: PagerDuty's lower-case ratelimit-* with a
// reset in seconds from now, Jira's X-RateLimit-* with an ISO 8601 reset,
// a vendor that sends none leaves the budget unknown.
func TestVendorBudgetHeaders(t *testing.T) {
	for _, tc := range []struct {
		name            string
		headers         []string
		remaining, limi int
		reset           time.Time
	}{
		{"github", []string{"X-RateLimit-Remaining", "4990", "X-RateLimit-Limit", "5000", "X-RateLimit-Reset", strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)}, 4990, 5000, t0.Add(time.Hour)},
		{"gitlab", []string{"RateLimit-Remaining", "1999", "RateLimit-Limit", "2000", "RateLimit-Reset", strconv.FormatInt(t0.Add(time.Minute).Unix(), 10)}, 1999, 2000, t0.Add(time.Minute)},
		{"pagerduty", []string{"ratelimit-limit", "960", "ratelimit-remaining", "959", "ratelimit-reset", "12"}, 959, 960, t0.Add(12 * time.Second)},
		{"jira", []string{"X-RateLimit-Limit", "350", "X-RateLimit-Remaining", "349", "X-RateLimit-Reset", "2026-03-02T09:01Z"}, 349, 350, t0.Add(time.Minute)},
		{"none", nil, -1, -1, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: t0}
			srv, _ := script(t, body(`ok`, tc.headers...))
			c := testClient(clock)
			if _, err := c.Do(context.Background(), Request{URL: srv.URL}); err != nil {
				t.Fatal(err)
			}
			if s := c.Stats(); s.Remaining != tc.remaining || s.Limit != tc.limi || !s.Reset.Equal(tc.reset) {
				t.Errorf("stats %+v, want %d of %d left until %v", s, tc.remaining, tc.limi, tc.reset)
			}
		})
	}
}

// TestTracker: a run's progress counts pages, events and scopes, carries
// the client's requests and budget, and names a scope only on the report
// of its end.
func TestTracker(t *testing.T) {
	clock := &fakeClock{now: t0}
	srv, _ := script(t, status(429, "Retry-After", "3"), body(`ok`, "RateLimit-Remaining", "7", "RateLimit-Limit", "10"))
	c := testClient(clock)
	var reports []Progress
	tr := NewTracker(c, func(p Progress) { reports = append(reports, p) })
	tr.Start(2)
	if _, err := c.Do(context.Background(), Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	tr.Page()
	tr.Wrote(5, 3)
	tr.Done("acme/api", nil)
	tr.Page()
	tr.Done("acme/web", errors.New("gone"))
	if len(reports) != 6 {
		t.Fatalf("%d reports, want one per call (6)", len(reports))
	}
	want := Progress{Scopes: 2, ScopesDone: 1, Pages: 1, Events: 5, Added: 3, Requests: 2, Remaining: 7, Limit: 10, Waited: 3 * time.Second, Scope: "acme/api"}
	if got := reports[3]; got != want {
		t.Errorf("after the first scope %+v, want %+v", got, want)
	}
	if got := reports[4]; got.Scope != "" || got.Pages != 2 {
		t.Errorf("a page's report %+v names a scope or miscounts pages (want 2)", got)
	}
	if got := tr.Progress(); got.ScopesDone != 2 || got.Scope != "" || got.Err != nil {
		t.Errorf("at the end %+v, want 2 done and no scope named", got)
	}
	if last := reports[5]; last.Scope != "acme/web" || last.Err == nil {
		t.Errorf("the last report %+v, want acme/web stopped", last)
	}
	var none *Tracker
	none.Page() // a collector built without progress reports nothing
}
