// Package pagerduty collects a PagerDuty service's incidents with their log
// entries (triggered, acknowledged, resolved) through the REST API v2,
// mapped by the webhook connector (internal/ingest/pagerduty): each log
// entry is wrapped in the v3 webhook event that reports the same moment, so
// a collected incident and the webhook's are one incident, with the
// severity its priority or urgency gives.
//
// The cursor of a service is the creation time from which incidents must
// be read again: that of the oldest incident still open at the end of the
// last run, else of the newest incident read. It is saved once the run's
// events are committed.
package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	pdingest "github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// Source is what collected events are stamped with.
const Source = "pagerduty-api"

// DefaultAPIURL is PagerDuty's REST API.
const DefaultAPIURL = "https://api.pagerduty.com"

// window is the longest since–until range PagerDuty lists at once.
const window = 180 * 24 * time.Hour

// Writer commits events: *intake.Intake.
type Writer interface {
	Events(ctx context.Context, source string, events []delivery.Event) (intake.Result, error)
}

// Cursors keeps where each service stopped: *store.DB.
type Cursors interface {
	Cursor(ctx context.Context, source, scope, resource string) (store.Cursor, error)
	SaveCursor(ctx context.Context, c store.Cursor) error
}

// Config says what to collect.
type Config struct {
	APIURL string
	// Services are PagerDuty service ids.
	Services []string
	// Since bounds what a first run reads (default: 180 days back).
	Since time.Time
	// Webhook is the connector's configuration (service and severity
	// mapping); its secrets are not needed.
	Webhook pdingest.Config
	Logger  *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Progress, when set, is told after each page, each write and each
	// service finished (a scope of collect.Progress).
	Progress func(collect.Progress)
}

// Token returns the Auth of a PagerDuty REST API key.
func Token(key string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Authorization", "Token token="+key)
		r.Header.Set("Accept", "application/json")
	}
}

// ServiceResult is what a run did for one service.
type ServiceResult struct {
	Service       string
	Incidents     int
	Events, Added int
	Skipped       int
	Err           error
}

// Collector reads PagerDuty into Stride.
type Collector struct {
	cfg     Config
	client  *collect.Client
	out     Writer
	cursors Cursors
	mapper  *pdingest.Source
	tracker *collect.Tracker
}

// New returns a collector; the connector's configuration must build.
func New(cfg Config, client *collect.Client, out Writer, cursors Cursors) (*Collector, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The connector refuses to build without a secret, which only
	// webhooks need.
	wc := cfg.Webhook
	wc.Secrets = []string{"unused by the collector"}
	m, err := pdingest.New(wc)
	if err != nil {
		return nil, err
	}
	return &Collector{cfg: cfg, client: client, out: out, cursors: cursors, mapper: m, tracker: collect.NewTracker(client, cfg.Progress)}, nil
}

// Run collects each service; one that fails does not stop the others.
func (c *Collector) Run(ctx context.Context) ([]ServiceResult, error) {
	var out []ServiceResult
	c.tracker.Start(len(c.cfg.Services))
	for _, svc := range c.cfg.Services {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		res := ServiceResult{Service: svc}
		if err := c.service(ctx, svc, &res); err != nil {
			res.Err = err
			c.cfg.Logger.Warn("collect: service stopped", "service", svc, "err", err)
		}
		out = append(out, res)
		c.tracker.Done(svc, res.Err)
	}
	return out, ctx.Err()
}

type apiIncident struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

type logEntry struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
}

// entryEvents are the log entry types that report a moment of an incident,
// as the webhook event type that reports it.
var entryEvents = map[string]string{
	"trigger_log_entry":     "incident.triggered",
	"acknowledge_log_entry": "incident.acknowledged",
	"resolve_log_entry":     "incident.resolved",
	"reopen_log_entry":      "incident.reopened",
}

func (c *Collector) get(ctx context.Context, u string) ([]byte, error) {
	resp, err := c.client.Do(ctx, collect.Request{URL: u})
	if err != nil {
		return nil, err
	}
	c.tracker.Page()
	return resp.Body, nil
}

func (c *Collector) service(ctx context.Context, svc string, res *ServiceResult) error {
	cur, err := c.cursors.Cursor(ctx, Source, svc, "incidents")
	if err != nil {
		return err
	}
	now := c.cfg.Now().UTC()
	since := cur.Since
	if since.IsZero() {
		since = c.cfg.Since
	}
	if since.IsZero() || now.Sub(since) > window {
		since = now.Add(-window)
	}
	var events []delivery.Event
	resume, newest := time.Time{}, since
	for offset, more := 0, true; more; {
		q := url.Values{"service_ids[]": {svc}, "since": {since.Format(time.RFC3339)}, "until": {now.Format(time.RFC3339)},
			"limit": {"100"}, "offset": {strconv.Itoa(offset)}, "sort_by": {"created_at:asc"}}
		body, err := c.get(ctx, c.cfg.APIURL+"/incidents?"+q.Encode())
		if err != nil {
			return err
		}
		var page struct {
			Incidents []json.RawMessage `json:"incidents"`
			More      bool              `json:"more"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return fmt.Errorf("incidents of %s: %w", svc, err)
		}
		for _, raw := range page.Incidents {
			var in apiIncident
			if err := json.Unmarshal(raw, &in); err != nil {
				return fmt.Errorf("incidents of %s: %w", svc, err)
			}
			res.Incidents++
			if in.Status != "resolved" && (resume.IsZero() || in.CreatedAt.Before(resume)) {
				resume = in.CreatedAt
			}
			if in.CreatedAt.After(newest) {
				newest = in.CreatedAt
			}
			ev, err := c.entries(ctx, in.ID, raw, res)
			if err != nil {
				return err
			}
			events = append(events, ev...)
		}
		offset += len(page.Incidents)
		more = page.More && len(page.Incidents) > 0
	}
	for len(events) > 0 {
		n := min(len(events), delivery.MaxBatch)
		r, err := c.out.Events(ctx, Source, events[:n])
		if err != nil {
			return fmt.Errorf("write %d events of %s: %w", n, svc, err)
		}
		res.Events += r.Events
		res.Added += r.Added
		c.tracker.Wrote(r.Events, r.Added)
		events = events[n:]
	}
	if resume.IsZero() {
		resume = newest
	}
	cur.Since = resume
	return c.cursors.SaveCursor(ctx, cur)
}

// entries maps an incident's log entries, each as the webhook event of the
// same moment, keyed by the log entry's id.
func (c *Collector) entries(ctx context.Context, id string, incident json.RawMessage, res *ServiceResult) ([]delivery.Event, error) {
	var events []delivery.Event
	for offset, more := 0, true; more; {
		q := url.Values{"is_overview": {"true"}, "limit": {"100"}, "offset": {strconv.Itoa(offset)}}
		body, err := c.get(ctx, c.cfg.APIURL+"/incidents/"+url.PathEscape(id)+"/log_entries?"+q.Encode())
		if err != nil {
			return nil, err
		}
		var page struct {
			LogEntries []logEntry `json:"log_entries"`
			More       bool       `json:"more"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, fmt.Errorf("log entries of %s: %w", id, err)
		}
		for _, le := range page.LogEntries {
			kind, ok := entryEvents[le.Type]
			if !ok {
				continue
			}
			body, err := json.Marshal(map[string]any{"event": map[string]any{"id": "log-" + le.ID, "event_type": kind,
				"resource_type": "incident", "occurred_at": le.CreatedAt, "data": incident}})
			if err != nil {
				return nil, err
			}
			ev, err := c.mapper.Translate(http.Header{}, body)
			switch {
			case errors.Is(err, ingest.ErrIgnored):
			case err != nil:
				res.Skipped++
				c.cfg.Logger.Warn("collect: a log entry the connector cannot read is left out", "incident", id, "err", err)
			default:
				events = append(events, ev...)
			}
		}
		offset += len(page.LogEntries)
		more = page.More && len(page.LogEntries) > 0
	}
	return events, nil
}
