// Package intake is Stride's one write path. Every writer goes through it:
// the native events API, every webhook, `stride reprocess`, the git importer
// and the API collectors to come. It validates once, stamps each event's
// source once, records raw webhook deliveries, and stores through the store
// in one transaction (the store marks derived data stale in that same
// transaction). After a commit that stored something it calls OnCommit.
//
// A webhook delivery gets one verdict, whether it arrives live or is
// replayed by Reprocess, from one function (judge):
//
//   - accepted: it translates to valid events, which are stored;
//   - ignored: the source says it carries nothing Stride uses
//     (ingest.ErrIgnored); it is kept raw, so a later mapping may use it;
//   - malformed: it cannot be read, or translates to an event that fails
//     validation. Live, it is answered 400 and nothing is stored, raw or
//     not. Replayed, a stored delivery that now reads as malformed records
//     the outcome "malformed: <reason>", is counted apart from the ignored,
//     and derives nothing, so the entities it once fed are not rebuilt
//     from it;
//   - unauthorized: its signature or token fails. Only a live delivery is
//     checked: a stored one passed when it arrived, and secrets rotate.
package intake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/sources"
	"github.com/stride-oss/stride/internal/store"
)

// Intake writes events and deliveries to a store.
type Intake struct {
	db      *store.DB
	sources map[string]ingest.Source

	// Mapping is the configuration's vocabulary; intake applies its
	// production environments to every deployment, whatever path it came
	// by, so "prod" and "PRODUCTION" count as production once, here. The
	// zero value applies the defaults (production, prod, live).
	Mapping delivery.Mapping

	// ApdexT is each service's Apdex threshold T, as stride.yaml's
	// apdex_t says: a push that names another T is refused, and one that
	// names none takes it.
	ApdexT map[string]time.Duration
	// Policies are the acknowledgement SLAs an incident's opening notice
	// states its due time by (the breach job's, so both say the same);
	// the zero value means incident.DefaultPolicies.
	Policies incident.Policies

	// OnCommit, when set, is called after each commit that added events or
	// reprocessed a source, so derived data (shipments) can be refreshed in
	// the background. It must not block.
	OnCommit func()
}

// New returns the write path to db for the configured webhook sources by
// name (nil when there are none, as for the events API alone).
func New(db *store.DB, sources map[string]ingest.Source) *Intake {
	return &Intake{db: db, sources: sources}
}

// Knows reports whether source is a configured webhook source, so a caller
// can refuse a delivery to an unknown one before reading its body.
func (in *Intake) Knows(source string) bool {
	_, ok := in.sources[source]
	return ok
}

// Result says what a batch of events did.
type Result struct {
	Events     int // events in the batch
	Added      int // of which new
	Duplicates int // of which seen before, or twice in the batch
}

// Events validates a batch of events from source, stamps each with source,
// and stores them in one transaction: all or nothing. Validation normalises
// the events in place. A failing event gives an *delivery.Error with code
// EINVALID naming its index and field.
func (in *Intake) Events(ctx context.Context, source string, events []delivery.Event) (Result, error) {
	if err := in.prepare(ctx, source, events); err != nil {
		return Result{}, err
	}
	res, err := in.db.Ingest(ctx, events)
	if err != nil {
		return Result{}, err
	}
	in.committed(res.Added)
	return Result{Events: len(events), Added: res.Added, Duplicates: res.Duplicates}, nil
}

// Import validates and stamps events as Events does and stores them for a
// source that reads its facts again whole from where they live, such as
// `stride import git` (see store.DB.IngestImport): its commits are
// recognised by their own key, without an events row each.
func (in *Intake) Import(ctx context.Context, source string, events []delivery.Event) (Result, error) {
	if err := in.prepare(ctx, source, events); err != nil {
		return Result{}, err
	}
	res, err := in.db.IngestImport(ctx, events)
	if err != nil {
		return Result{}, err
	}
	in.committed(res.Added)
	return Result{Events: len(events), Added: res.Added, Duplicates: res.Duplicates}, nil
}

// ReplaceDeployments validates and stamps events as Events does, then makes
// them the complete set of production deployments source reports for
// service (see store.DB.ReplaceDeployments): for a source, such as `stride
// import git`, that reads its facts whole from a place that is their source
// of truth, so what that place no longer holds is withdrawn.
func (in *Intake) ReplaceDeployments(ctx context.Context, source, service string, events []delivery.Event) (store.ReconcileResult, error) {
	if err := in.prepare(ctx, source, events); err != nil {
		return store.ReconcileResult{}, err
	}
	res, err := in.db.ReplaceDeployments(ctx, source, service, events)
	if err != nil {
		return res, err
	}
	in.committed(len(res.Added) + len(res.Moved) + len(res.Removed))
	return res, nil
}

// prepare is the one validation of what is written: the batch bound, the
// source stamp, the production aliases, what is already known of the
// entities reported in part, and each event's own rules.
func (in *Intake) prepare(ctx context.Context, source string, events []delivery.Event) error {
	if source == "" {
		return fmt.Errorf("intake: events need a source")
	}
	if len(events) > delivery.MaxBatch {
		return delivery.Errorf(delivery.EINVALID, "a batch holds at most %d events, got %d", delivery.MaxBatch, len(events))
	}
	for i := range events {
		events[i].Source = source
		// An incident remembers which source reported it, so it is not
		// paged back to the pager it came from.
		if inc := events[i].Incident; inc != nil && inc.Source == "" {
			inc.Source = source
		}
		if d := events[i].Deployment; d != nil {
			d.Environment = in.environment(d.Environment)
		}
	}
	if err := in.markKnown(ctx, events); err != nil {
		return err
	}
	for i := range events {
		if err := events[i].Validate(); err != nil {
			var e *delivery.Error
			if errors.As(err, &e) {
				e.Index = i
			}
			return err
		}
	}
	return nil
}

// markKnown sets Known on the incident and deployment reports that leave
// out a field a new entity must give, when the entity is known with it:
// given by another report of the batch, or stored. The store is read once
// per kind for the whole batch, and only when some report is partial.
func (in *Intake) markKnown(ctx context.Context, events []delivery.Event) error {
	type depKey = delivery.DeploymentKey
	opened := map[store.IncidentRef]bool{}
	finished, sha := map[depKey]bool{}, map[depKey]bool{}
	var partialInc []int
	var partialDep []int
	for i := range events {
		if inc := events[i].Incident; inc != nil && events[i].Kind == delivery.KindIncident {
			r := store.IncidentRef{Service: inc.Service, ID: inc.ID}
			if inc.OpenedAt.IsZero() {
				partialInc = append(partialInc, i)
			} else {
				opened[r] = true
			}
		}
		if d := events[i].Deployment; d != nil && events[i].Kind == delivery.KindDeployment {
			k := depKey{Service: d.Service, Environment: cmp.Or(d.Environment, delivery.EnvironmentProduction), ID: d.ID}
			if !d.FinishedAt.IsZero() {
				finished[k] = true
			}
			if d.SHA != "" {
				sha[k] = true
			}
			if (d.Status.Terminal() && d.FinishedAt.IsZero()) || (d.Status == delivery.DeploymentSuccess && d.SHA == "") {
				partialDep = append(partialDep, i)
			}
		}
	}
	var askInc []store.IncidentRef
	for _, i := range partialInc {
		if r := (store.IncidentRef{Service: events[i].Incident.Service, ID: events[i].Incident.ID}); !opened[r] {
			askInc = append(askInc, r)
		}
	}
	var askDep []depKey
	for _, i := range partialDep {
		d := events[i].Deployment
		if k := (depKey{Service: d.Service, Environment: cmp.Or(d.Environment, delivery.EnvironmentProduction), ID: d.ID}); !finished[k] || !sha[k] {
			askDep = append(askDep, k)
		}
	}
	if len(askInc) > 0 || len(askDep) > 0 {
		storedInc, storedDep, err := in.db.Known(ctx, askInc, askDep)
		if err != nil {
			return &readError{err}
		}
		for r := range storedInc {
			opened[r] = true
		}
		for k, s := range storedDep {
			finished[k] = finished[k] || s.FinishedAt
			sha[k] = sha[k] || s.SHA
		}
	}
	for _, i := range partialInc {
		inc := events[i].Incident
		events[i].Known.OpenedAt = opened[store.IncidentRef{Service: inc.Service, ID: inc.ID}]
	}
	for _, i := range partialDep {
		d := events[i].Deployment
		k := depKey{Service: d.Service, Environment: cmp.Or(d.Environment, delivery.EnvironmentProduction), ID: d.ID}
		events[i].Known.FinishedAt = d.FinishedAt.IsZero() && finished[k]
		events[i].Known.SHA = d.SHA == "" && sha[k]
	}
	return nil
}

// environment is the stored name of a deployment's environment: production
// for any production alias of the mapping and for "production" in any case;
// an empty name stays empty, which validation reads as production (a
// deployment that names no environment is taken to be to production, as
// docs/metrics.md says).
func (in *Intake) environment(name string) string {
	if name == "" {
		return ""
	}
	if env := in.Mapping.Environment(name); env == delivery.EnvironmentProduction || strings.EqualFold(env, delivery.EnvironmentProduction) {
		return delivery.EnvironmentProduction
	}
	return name
}

func (in *Intake) committed(added int) {
	if added > 0 && in.OnCommit != nil {
		in.OnCommit()
	}
}

// Outcome is the kind of verdict on a webhook delivery.
type Outcome string

// The verdicts, as in the package comment.
const (
	Accepted     Outcome = "accepted"
	Ignored      Outcome = "ignored"
	Malformed    Outcome = "malformed"
	Unauthorized Outcome = "unauthorized"
)

// Verdict is what became of one webhook delivery.
type Verdict struct {
	Outcome Outcome
	// Reason says why a delivery is not accepted.
	Reason string
	// Err is the domain error to answer a malformed (EINVALID) or
	// unauthorized (EUNAUTHORIZED) delivery with; nil otherwise.
	Err error
	// Events counts the events translated; Added and Duplicates what
	// storing them did.
	Events, Added, Duplicates int
}

// Recorded is the verdict as stored on the raw delivery: "accepted",
// "ignored: <reason>" or "malformed: <reason>".
func (v Verdict) Recorded() string {
	if v.Outcome == Accepted {
		return string(Accepted)
	}
	return string(v.Outcome) + ": " + v.Reason
}

// Delivery takes one webhook delivery to source: it checks its authenticity,
// judges it, and stores an accepted or ignored delivery raw together with
// its events in one transaction. The error is for a source that is not
// configured (ENOTFOUND) or a failing store; every verdict on the delivery
// itself, unauthorized and malformed included, comes back as a Verdict.
func (in *Intake) Delivery(ctx context.Context, source string, h http.Header, body []byte) (Verdict, error) {
	src, ok := in.sources[source]
	if !ok {
		return Verdict{}, delivery.Errorf(delivery.ENOTFOUND, "no webhook source %q is configured", source)
	}
	if err := src.Verify(h, body); err != nil {
		if delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
			err = delivery.Errorf(delivery.EUNAUTHORIZED, "%s", delivery.ErrorMessage(err))
		}
		return Verdict{Outcome: Unauthorized, Reason: delivery.ErrorMessage(err), Err: err}, nil
	}
	events, v, err := in.judge(ctx, src, source, h, body)
	if err != nil {
		return Verdict{}, err
	}
	if v.Outcome == Malformed {
		return v, nil
	}
	raw := store.RawDelivery{Source: source, DeliveryID: src.DeliveryID(h, body), EventType: eventType(source, h),
		Headers: keptHeaders(source, h), Body: body, Outcome: v.Recorded()}
	if gs, ok := src.(ingest.GateSource); ok && v.Outcome == Accepted {
		return in.gateDelivery(ctx, gs, raw, h, body, v)
	}
	res, err := in.db.IngestDelivery(ctx, raw, events)
	if err != nil {
		return Verdict{}, err
	}
	v.Added, v.Duplicates = res.Added, res.Duplicates
	in.committed(res.Added)
	return v, nil
}

// judge is the one verdict function on a delivery's content, for live and
// replayed deliveries alike. It returns the validated events, stamped with
// source, of an accepted delivery.
func (in *Intake) judge(ctx context.Context, src ingest.Source, source string, h http.Header, body []byte) ([]delivery.Event, Verdict, error) {
	events, err := src.Translate(h, body)
	if errors.Is(err, ingest.ErrIgnored) {
		return nil, Verdict{Outcome: Ignored, Reason: err.Error()}, nil
	}
	if err == nil {
		err = in.prepare(ctx, source, events)
	}
	// A failing store is not a verdict on the delivery.
	var read *readError
	if errors.As(err, &read) {
		return nil, Verdict{}, read.err
	}
	if err != nil {
		if delivery.ErrorCode(err) == delivery.EINTERNAL {
			err = delivery.Errorf(delivery.EINVALID, "malformed %s delivery: %v", source, err)
		}
		return nil, Verdict{Outcome: Malformed, Reason: delivery.ErrorMessage(err), Err: err}, nil
	}
	return events, Verdict{Outcome: Accepted, Events: len(events)}, nil
}

// readError is a failure to read what the store knows while preparing a
// batch: an error of the store, not of the events.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// keptHeaders are the headers of h stored with the raw delivery: those its
// connector declares (the common ones alone for a source the registry does
// not list).
func keptHeaders(source string, h http.Header) map[string][]string {
	c, _ := sources.Lookup(source)
	return c.KeptHeaders(h)
}

// eventType is what the delivery says it reports, from the header its
// connector names.
func eventType(source string, h http.Header) string {
	c, ok := sources.Lookup(source)
	if !ok || c.EventType == "" {
		return ""
	}
	return h.Get(c.EventType)
}

// ReprocessResult says what reprocessing a source did.
type ReprocessResult struct {
	Deliveries int // stored deliveries read
	Accepted   int // of which accepted now
	Ignored    int // of which the source now ignores
	Malformed  int // of which the source now cannot read
	Events     int // events derived from the accepted
	Rebuilt    int // entities only this source reported, removed and derived again
	Kept       int // entities other sources reported too, merged into as before
}

// Reprocess judges again every stored delivery of source, with the source's
// current configuration, in one transaction (see store.DB.Reprocess for
// what is rebuilt), recording each delivery's new verdict.
func (in *Intake) Reprocess(ctx context.Context, source string) (ReprocessResult, error) {
	src, ok := in.sources[source]
	if !ok {
		return ReprocessResult{}, delivery.Errorf(delivery.ENOTFOUND, "source %q is not configured", source)
	}
	var res ReprocessResult
	// A replay cannot return an error, so a store that cannot be read while
	// judging cancels the reprocessing's context: its transaction is rolled
	// back, and nothing of it is kept.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readErr error
	sr, err := in.db.Reprocess(rctx, source, func(d store.RawDelivery) store.Replay {
		events, v, err := in.judge(rctx, src, source, http.Header(d.Headers), d.Body)
		if err != nil {
			if readErr == nil {
				readErr = err
			}
			cancel()
			return store.Replay{Outcome: string(Malformed) + ": " + err.Error()}
		}
		switch v.Outcome {
		case Accepted:
			res.Accepted++
		case Ignored:
			res.Ignored++
		case Malformed:
			res.Malformed++
		}
		return store.Replay{Outcome: v.Recorded(), Events: events}
	})
	if readErr != nil {
		return ReprocessResult{}, fmt.Errorf("reprocess %s: %w", source, readErr)
	}
	if err != nil {
		return ReprocessResult{}, err
	}
	res.Deliveries, res.Events, res.Rebuilt, res.Kept = sr.Deliveries, sr.Events, sr.Rebuilt, sr.Kept
	if in.OnCommit != nil {
		in.OnCommit()
	}
	return res, nil
}
