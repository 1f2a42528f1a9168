// Package server is Stride's HTTP layer: the native ingest API, webhooks,
// the report API, health checks and metrics. It maps domain errors to HTTP
// statuses in one place (writeError) and holds no domain logic of its own.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/digest"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
)

// Limits of request bodies. Webhook sources send up to 25 MB (GitHub's cap).
const (
	MaxEventsBody  = 10 << 20
	MaxWebhookBody = 25 << 20
)

// Server serves Stride's HTTP API.
type Server struct {
	DB *store.DB
	// Reports computes every report the API serves; the binary builds it
	// on DB, with the hook that brings stale shipments up to date.
	Reports *report.Reader
	Logger  *slog.Logger
	// Sources are the configured webhook connectors by name.
	Sources map[string]ingest.Source
	// Intake is the write path every ingest endpoint goes through; nil
	// means intake.New(DB, Sources), with no OnCommit hook.
	Intake *intake.Intake
	// Dev turns authentication off. Run refuses it unless the listener is
	// on a loopback address.
	Dev bool
	// MetricsPublic serves /metrics without a token (stride.yaml's
	// metrics.public), for a Prometheus that cannot send one; otherwise
	// it needs a read token, as the reports do: its labels name sources.
	MetricsPublic bool
	// Now is the clock for default report periods.
	Now func() time.Time
	// Thresholds are the DORA tier boundaries (nil: docs/metrics.md's).
	Thresholds *dora.Thresholds
	// Rings returns a service's rollout rings (stride.yaml); nil means
	// rings.DefaultConfig for every service.
	Rings func(service string) rings.Config
	// Responder holds the incident policies and routes (incidents.go); nil
	// means the default policies and no routes.
	Responder *respond.Responder

	// Catalog is what stride.yaml says of teams, services and sources, for
	// the dashboard and the targets of the DORA answer (pages.go).
	Catalog Catalog
	// Trends are the weekly roll-ups the trend job keeps, which the
	// dashboard's trends and the /metrics DORA gauges read; nil shows no
	// trend and exports no DORA gauge.
	Trends *Trends
	// BaseURL is how users reach Stride, for the webhook URLs the
	// dashboard's empty states show; empty takes the request's.
	BaseURL string
	// Digests builds the weekly team digests of GET /api/v1/digest and the
	// dashboard (digest.go); nil builds them with the default policies.
	Digests *digest.Reader
	// DigestSchedules are the teams' digest schedules, whose keys the
	// answers carry.
	DigestSchedules []digest.Schedule

	metrics metrics
	outbox  outboxGauge
	mux     *routeMux
	once    sync.Once
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	s.once.Do(func() {
		if s.Intake == nil {
			s.Intake = intake.New(s.DB, s.Sources)
		}
		mux := &routeMux{ServeMux: http.NewServeMux()}
		mux.HandleFunc("GET /healthz", s.healthz)
		mux.HandleFunc("GET /readyz", s.readyz)
		if s.MetricsPublic {
			mux.HandleFunc("GET /metrics", s.serveMetrics)
		} else {
			mux.Handle("GET /metrics", s.auth(delivery.ScopeRead, s.serveMetrics))
		}
		mux.Handle("POST /api/v1/events", s.auth(delivery.ScopeIngest, s.postEvents))
		mux.Handle("GET /api/v1/dora", s.auth(delivery.ScopeRead, s.getDORA))
		mux.Handle("GET /api/v1/dora/explain", s.auth(delivery.ScopeRead, s.getDORAExplain))
		mux.Handle("GET /api/v1/dora/thresholds", s.auth(delivery.ScopeRead, s.getThresholds))
		mux.HandleFunc("POST /webhooks/{source}", s.postWebhook)
		s.routes(mux)
		s.mountPages(mux)
		s.mux = mux
	})
	return s.logRequests(s.mux)
}

// routes is where later features add their endpoints.
func (s *Server) routes(mux *routeMux) {
	mux.Handle("GET /api/v1/flow", s.auth(delivery.ScopeRead, s.getFlow))
	mux.Handle("GET /api/v1/flow/explain", s.auth(delivery.ScopeRead, s.getFlowExplain))
	mux.Handle("GET /api/v1/planning", s.auth(delivery.ScopeRead, s.getPlanning))
	mux.Handle("GET /api/v1/planning/explain", s.auth(delivery.ScopeRead, s.getPlanningExplain))
	mux.Handle("GET /api/v1/ci", s.auth(delivery.ScopeRead, s.getCI))
	mux.Handle("GET /api/v1/ci/explain", s.auth(delivery.ScopeRead, s.getCIExplain))
	mux.Handle("GET /api/v1/deploy-hours", s.auth(delivery.ScopeRead, s.getDeployHours))
	mux.Handle("GET /api/v1/deploy-hours/explain", s.auth(delivery.ScopeRead, s.getDeployHoursExplain))
	mux.Handle("GET /api/v1/sprints", s.auth(delivery.ScopeRead, s.getSprints))
	mux.Handle("POST /api/v1/gates", s.auth(delivery.ScopeIngest, s.postGate))
	mux.Handle("POST /api/v1/promotions", s.auth(delivery.ScopeIngest, s.postPromotion))
	mux.Handle("GET /api/v1/promotions", s.auth(delivery.ScopeRead, s.getPromotions))
	mux.Handle("GET /api/v1/rings", s.auth(delivery.ScopeRead, s.getRings))
	mux.Handle("GET /api/v1/digest", s.auth(delivery.ScopeRead, s.getDigest))
	mux.Handle("POST /api/v1/approvals", s.auth(delivery.ScopeIngest, s.postApproval))
	mux.Handle("GET /api/v1/approvals", s.auth(delivery.ScopeRead, s.getApprovals))
	s.incidentRoutes(mux)
	s.sloRoutes(mux)
	s.impactRoutes(mux)
}

// Run serves on l until ctx is cancelled, then stops accepting, waits for
// in-flight requests (an acknowledged event is committed before its
// response, so none is lost). Background work is not the server's: it is
// the job runner's, which main starts and waits for.
func (s *Server) Run(ctx context.Context, l net.Listener) error {
	if s.Dev {
		if !isLoopback(l.Addr()) {
			return fmt.Errorf("--dev turns authentication off and is only allowed on a loopback address, not %s", l.Addr())
		}
		s.logger().Warn("DEVELOPMENT MODE: authentication is OFF; anyone on this machine can read and write", "addr", l.Addr().String())
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	s.logger().Info("stride serving", "addr", l.Addr().String(), "db", string(s.DB.Dialect()))

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.logger().Info("shutting down: draining in-flight requests")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when a write can succeed (store.Ready writes a
// probe row), so a load balancer stops sending events to a replica whose
// disk is full or whose file is corrupt; the reason is in the body and
// stride_ready is 0 until a probe passes again.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ready(ctx); err != nil {
		reason := store.Unavailable(err)
		var e *delivery.Error
		if errors.As(err, &e) && e.Code == delivery.EUNAVAILABLE {
			reason = e.Message
		}
		if reason == "" {
			reason = "the write probe failed"
		}
		s.logger().Error("readyz", "err", err)
		s.metrics.setReady(false)
		w.Header().Set("Retry-After", retryAfter)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": reason})
		return
	}
	s.metrics.setReady(true)
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// retryAfter is the Retry-After of a 503, in seconds: long enough for a
// deadlock or a restart to clear, short enough not to pile up events.
const retryAfter = "5"

// postEvents is the native ingest API. It answers only after the batch is
// committed.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxEventsBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	events, err := decodeEvents(body, delivery.MaxBatch)
	if err != nil {
		s.metrics.add("stride_events_rejected_total", "api", 1)
		s.writeError(w, r, err)
		return
	}
	res, err := s.Intake.Events(r.Context(), "api", events)
	if err != nil {
		if delivery.ErrorCode(err) == delivery.EINVALID {
			s.metrics.add("stride_events_rejected_total", "api", 1)
		}
		s.writeError(w, r, err)
		return
	}
	s.metrics.add("stride_events_ingested_total", "api", res.Added)
	s.metrics.add("stride_events_duplicate_total", "api", res.Duplicates)
	writeJSON(w, http.StatusOK, map[string]int{"accepted": len(events), "added": res.Added, "duplicates": res.Duplicates})
}

// errBodyTooLarge is answered with 413.
var errBodyTooLarge = errors.New("body too large")

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%w: the limit is %d bytes", errBodyTooLarge, limit)
	}
	if err != nil {
		return nil, delivery.Errorf(delivery.EINVALID, "read body: %v", err)
	}
	return body, nil
}

// writeError is the one place that maps errors to statuses. A database
// that cannot serve now (EUNAVAILABLE, or a read that failed the same way)
// is 503 with Retry-After: the client should send again, and nothing of
// the request was stored.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if delivery.ErrorCode(err) == delivery.EINTERNAL {
		if reason := store.Unavailable(err); reason != "" {
			err = fmt.Errorf("%w: %w", delivery.Errorf(delivery.EUNAVAILABLE, "the database is unavailable (%s); retry later", reason), err)
		}
	}
	status := http.StatusInternalServerError
	body := map[string]any{}
	switch {
	case errors.Is(err, errBodyTooLarge):
		status = http.StatusRequestEntityTooLarge
		body["error"] = err.Error()
	default:
		switch delivery.ErrorCode(err) {
		case delivery.EINVALID:
			status = http.StatusBadRequest
		case delivery.ENOTFOUND:
			status = http.StatusNotFound
		case delivery.ECONFLICT:
			status = http.StatusConflict
		case delivery.EUNAUTHORIZED:
			status = http.StatusUnauthorized
		case delivery.EFORBIDDEN:
			status = http.StatusForbidden
		case delivery.EUNAVAILABLE:
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", retryAfter)
		}
		body["error"] = delivery.ErrorMessage(err)
		var e *delivery.Error
		if errors.As(err, &e) {
			if e.Index >= 0 {
				body["index"] = e.Index
			}
			if e.Field != "" {
				body["field"] = e.Field
			}
		}
	}
	if status >= http.StatusInternalServerError {
		s.logger().Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stride"`)
	}
	writeJSON(w, status, body)
}

// writeJSON encodes v into a buffer first and sends it with status only
// when that succeeded: a value that does not encode (a NaN or an infinity
// from a report) is a 500, never a 2xx with an empty or truncated body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote <token> and the like
	if err := enc.Encode(v); err != nil {
		slog.Error("encode response", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "{\n  \"error\": \"internal error: the answer could not be encoded\"\n}\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type ctxKey int

const tokenKey ctxKey = 0

// auth requires a bearer token with scope (admin covers all). In dev mode
// every request passes.
func (s *Server) auth(scope delivery.Scope, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Dev {
			h(w, r)
			return
		}
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(secret) == "" {
			s.writeError(w, r, delivery.Errorf(delivery.EUNAUTHORIZED, "a bearer token is required (Authorization: Bearer <token>; create one with 'stride token create')"))
			return
		}
		tok, err := s.DB.Authenticate(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !tok.Scope.Allows(scope) {
			s.writeError(w, r, delivery.Errorf(delivery.EFORBIDDEN, "token %q has scope %s; this endpoint needs %s", tok.Name, tok.Scope, scope))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey, tok)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.metrics.add("stride_http_requests_total", fmt.Sprintf("%d", rec.status), 1)
		// The mux has set r.Pattern by now: it routes the request it is given.
		s.metrics.observe(r.Pattern, r.Method, rec.status, time.Since(start))
		s.logger().Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	})
}
