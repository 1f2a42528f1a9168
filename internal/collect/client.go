// Package collect reads vendor APIs (GitHub first) to backfill and catch up
// what webhooks missed. Its Client is the one HTTP client of every
// collector: it keeps within the vendor's rate limits, retries what may
// succeed later, and tells a permanent failure (a repository that does not
// exist, a token that is refused) apart so that one scope stops and the
// others go on. Collectors turn what they read into the same
// delivery.Events the webhooks produce and write them through intake.
package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client sends API requests within a vendor's rate limits. Its zero value
// is not usable; NewClient fills the defaults.
type Client struct {
	// HTTP sends the requests; its Timeout bounds one attempt.
	HTTP *http.Client
	// Auth sets the credential on each request (a bearer token for
	// GitHub, a PRIVATE-TOKEN header for GitLab).
	Auth func(*http.Request)
	// Now and Sleep are the clock; tests replace them so backoff and
	// waiting for a rate-limit reset take no real time. Sleep returns
	// ctx's error when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random extra wait of up to d, so clients that
	// were limited together do not come back together.
	Jitter func(d time.Duration) time.Duration
	// Retries is how many times a 5xx answer or a failed attempt (a
	// timeout, a reset connection) is tried again, with exponential
	// backoff from Backoff.
	Retries int
	Backoff time.Duration
	// RateRetries bounds the waits on secondary rate limits of one
	// request, so a misbehaving server cannot hold a scope for ever.
	RateRetries int
	// Reserve is the budget left untouched: when the primary limit's
	// remaining requests fall to Reserve, requests wait for the reset.
	Reserve int

	sem chan struct{}

	mu     sync.Mutex
	stats  Stats
	limits map[string]*budget
}

type budget struct {
	remaining, limit int
	reset            time.Time
}

// Stats counts what a client did, for progress and the benchmark.
type Stats struct {
	// Requests is every request answered by the server, retries and
	// 304s included; NotModified of them were 304 (free on GitHub).
	Requests    int
	NotModified int
	Retries     int
	// Waited is the total time spent waiting for rate limits and
	// backoff.
	Waited time.Duration
	// Remaining and Limit are the primary budget last reported (of the
	// "core" resource on GitHub), -1 when unknown.
	Remaining, Limit int
	Reset            time.Time
}

// NewClient returns a client allowing concurrency requests in flight.
func NewClient(concurrency int, auth func(*http.Request)) *Client {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Client{
		HTTP:        &http.Client{Timeout: 30 * time.Second},
		Auth:        auth,
		Now:         time.Now,
		Sleep:       sleep,
		Jitter:      func(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(d) + 1)) },
		Retries:     3,
		Backoff:     time.Second,
		RateRetries: 8,
		Reserve:     50,
		sem:         make(chan struct{}, concurrency),
		limits:      map[string]*budget{},
	}
}

// Bearer returns an Auth that sends token as a bearer token (GitHub's
// personal, fine-grained and App installation tokens alike).
func Bearer(token string) func(*http.Request) {
	return func(r *http.Request) {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Request is one API call.
type Request struct {
	Method string // GET when empty
	URL    string
	Body   []byte
	// ETag, when set, is sent as If-None-Match.
	ETag   string
	Header http.Header
}

// Response is a successful answer (2xx or 304).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// NotModified is a 304 to a conditional request: nothing changed
	// since the ETag was given.
	NotModified bool
	ETag        string
	// Next is the URL of the next page (Link rel="next"), "" on the last.
	Next string
}

// PermanentError is an answer that trying again will not change: the scope
// it belongs to stops with this message and the others go on.
type PermanentError struct {
	Status  int
	URL     string
	Message string
}

func (e *PermanentError) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (the token is missing, expired or revoked)"
	case http.StatusNotFound:
		hint = " (it does not exist, or the token cannot see it)"
	case http.StatusForbidden:
		hint = " (the token lacks a permission)"
	}
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	return fmt.Sprintf("%s answered %d%s%s", e.URL, e.Status, hint, msg)
}

// IsPermanent reports whether err stops its scope for good.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Stats returns what the client did so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Remaining, s.Limit = -1, -1
	if b := c.limits["core"]; b != nil {
		s.Remaining, s.Limit, s.Reset = b.remaining, b.limit, b.reset
	}
	return s
}

// Do sends req, waiting for the rate limit, retrying 5xx answers, failed
// attempts and secondary rate limits, and returns the answer or an error:
// a *PermanentError for a 4xx that retrying cannot mend.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	failures, limited := 0, 0
	for {
		if err := c.waitBudget(ctx, resourceOf(req.URL)); err != nil {
			return nil, err
		}
		resp, body, err := c.send(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if failures >= c.Retries {
				return nil, fmt.Errorf("%s: %w (after %d retries)", req.URL, err, failures)
			}
			if err := c.backoff(ctx, failures); err != nil {
				return nil, err
			}
			failures++
			continue
		}
		if resp.Header.Get("Retry-After") == "" {
			// A rate-limited answer with Retry-After says when to come
			// back; the budget it reports would make the wait longer.
			c.note(resp.Header)
		}
		switch {
		case resp.StatusCode == http.StatusNotModified:
			c.count(func(s *Stats) { s.NotModified++ })
			return &Response{Status: resp.StatusCode, Header: resp.Header, NotModified: true, ETag: req.ETag}, nil
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body,
				ETag: resp.Header.Get("ETag"), Next: NextLink(resp.Header.Get("Link"))}, nil
		case resp.StatusCode >= 500:
			if failures >= c.Retries {
				return nil, fmt.Errorf("%s answered %d after %d retries", req.URL, resp.StatusCode, failures)
			}
			if err := c.backoff(ctx, failures); err != nil {
				return nil, err
			}
			failures++
			continue
		}
		if wait, ok := c.rateLimited(resp, body, limited); ok {
			if limited >= c.RateRetries {
				return nil, fmt.Errorf("%s: still rate limited after %d waits", req.URL, limited)
			}
			limited++
			c.count(func(s *Stats) { s.Retries++ })
			if err := c.wait(ctx, wait+c.Jitter(wait/10+time.Second)); err != nil {
				return nil, err
			}
			continue
		}
		return nil, &PermanentError{Status: resp.StatusCode, URL: req.URL, Message: apiMessage(body)}
	}
}

// send makes one attempt, holding one of the concurrency slots.
func (c *Client) send(ctx context.Context, req Request) (*http.Response, []byte, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-c.sem }()
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var rd io.Reader
	if req.Body != nil {
		rd = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("request %s: %w", req.URL, err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if req.ETag != "" {
		hr.Header.Set("If-None-Match", req.ETag)
	}
	if req.Body != nil && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if c.Auth != nil {
		c.Auth(hr)
	}
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	c.count(func(s *Stats) { s.Requests++ })
	return resp, body, nil
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// backoff waits Backoff·2^n plus jitter before retry n+1.
func (c *Client) backoff(ctx context.Context, n int) error {
	c.count(func(s *Stats) { s.Retries++ })
	d := c.Backoff << n
	return c.wait(ctx, d+c.Jitter(d/2))
}

func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if d < time.Millisecond {
		d = time.Millisecond // never spin
	}
	c.count(func(s *Stats) { s.Waited += d })
	return c.Sleep(ctx, d)
}

// resourceOf names the rate-limit budget a URL draws on: GitHub counts
// GraphQL and search apart from the REST core.
func resourceOf(url string) string {
	switch {
	case strings.HasSuffix(url, "/graphql"):
		return "graphql"
	case strings.Contains(url, "/search/"):
		return "search"
	}
	return "core"
}

// note reads the primary limit headers: GitHub's and Jira's X-RateLimit-*
// (with GitHub's X-RateLimit-Resource naming the budget), or GitLab's and
// PagerDuty's RateLimit-* (PagerDuty writes them in lower case).
func (c *Client) note(h http.Header) {
	rem, lim, reset := h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Reset")
	if rem == "" {
		rem, lim, reset = h.Get("RateLimit-Remaining"), h.Get("RateLimit-Limit"), h.Get("RateLimit-Reset")
	}
	n, err := strconv.Atoi(rem)
	if err != nil {
		return
	}
	res := h.Get("X-RateLimit-Resource")
	if res == "" {
		res = "core"
	}
	b := &budget{remaining: n, limit: -1}
	if l, err := strconv.Atoi(lim); err == nil {
		b.limit = l
	}
	b.reset = c.resetTime(reset)
	c.mu.Lock()
	c.limits[res] = b
	c.mu.Unlock()
}

// resetTime reads a rate-limit reset header: GitHub's and GitLab's Unix
// time, PagerDuty's seconds from now (ratelimit-reset: 12) or Jira's ISO
// 8601 time; zero when it is none of these.
func (c *Client) resetTime(v string) time.Time {
	if r, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && r >= 0 {
		// No Unix time of a reset is before 2001; a smaller number is
		// a number of seconds.
		if r < 1_000_000_000 {
			return c.Now().Add(time.Duration(r) * time.Second).UTC()
		}
		return time.Unix(r, 0).UTC()
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// waitBudget slows down before the limit: once the budget is down to the
// reserve, requests wait until it resets.
func (c *Client) waitBudget(ctx context.Context, resource string) error {
	c.mu.Lock()
	b := c.limits[resource]
	var d time.Duration
	if b != nil && b.remaining <= c.Reserve && !b.reset.IsZero() {
		// Every request waits for the same reset, side by side; the
		// first answer after it reports the new budget.
		d = b.reset.Sub(c.Now()) + time.Second
	}
	c.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return c.wait(ctx, d)
}

// rateLimited tells a secondary (or exhausted primary) rate limit from a
// refusal, and how long to wait: Retry-After when given, else until
// X-RateLimit-Reset when the budget is spent, else (GitHub's secondary
// limit without a header) a minute doubling with each wait, as GitHub
// asks.
func (c *Client) rateLimited(resp *http.Response, body []byte, n int) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if t, err := http.ParseTime(ra); err == nil {
			return max(t.Sub(c.Now()), time.Second), true
		}
	}
	rem := firstHeader(resp.Header, "X-RateLimit-Remaining", "RateLimit-Remaining")
	reset := firstHeader(resp.Header, "X-RateLimit-Reset", "RateLimit-Reset")
	if rem == "0" {
		if r := c.resetTime(reset); !r.IsZero() {
			return max(r.Sub(c.Now())+time.Second, time.Second), true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || secondaryLimit(body) {
		return time.Minute << min(n, 4), true
	}
	return 0, false
}

// secondaryLimit reports whether a 403's body is GitHub's answer to too
// many requests at once: "You have exceeded a secondary rate limit", or
// the older "abuse detection mechanism".
func secondaryLimit(body []byte) bool {
	b := strings.ToLower(string(body))
	return strings.Contains(b, "secondary rate limit") || strings.Contains(b, "abuse detection")
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// apiMessage is the message of a JSON error answer: GitHub's and GitLab's
// "message", GitLab's "error" string or PagerDuty's "error.message"; else
// the start of the body.
func apiMessage(body []byte) string {
	var m struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &m) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var text string
		switch {
		case m.Message != "":
			return m.Message
		case json.Unmarshal(m.Error, &text) == nil && text != "":
			return text
		case json.Unmarshal(m.Error, &inner) == nil && inner.Message != "":
			return inner.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// NextLink returns the rel="next" URL of a Link header, "" when there is
// none (the last page).
func NextLink(link string) string { return LinkRel(link, "next") }

// LinkRel returns the URL of a Link header with relation rel ("next",
// "last"), "" when there is none.
func LinkRel(link, rel string) string {
	for part := range strings.SplitSeq(link, ",") {
		url, params, ok := strings.Cut(part, ";")
		if !ok {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if k == "rel" && slicesHas(strings.Fields(strings.Trim(v, `"`)), rel) {
				return strings.Trim(strings.TrimSpace(url), "<>")
			}
		}
	}
	return ""
}

func slicesHas(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// GraphQL posts query with variables to url and decodes the answer's data
// into out. An answer with errors is an error; a NOT_FOUND error (a
// repository that does not exist) is permanent.
func (c *Client) GraphQL(ctx context.Context, url, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodPost, URL: url, Body: body})
	if err != nil {
		return err
	}
	var ans struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil {
		return fmt.Errorf("graphql %s: the answer is not JSON: %w", url, err)
	}
	if len(ans.Errors) > 0 {
		e := ans.Errors[0]
		if e.Type == "NOT_FOUND" || e.Type == "FORBIDDEN" {
			return &PermanentError{Status: http.StatusNotFound, URL: url, Message: e.Message}
		}
		return fmt.Errorf("graphql %s: %s", url, e.Message)
	}
	if err := json.Unmarshal(ans.Data, out); err != nil {
		return fmt.Errorf("graphql %s: %w", url, err)
	}
	return nil
}
