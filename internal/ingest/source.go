// Package ingest holds what every source connector shares: the Source
// interface that the HTTP layer drives, and the errors a connector returns.
// Each connector lives in its own sub-package (github, gitlab, pagerduty, ...)
// and translates a foreign payload into domain events; it does no I/O.
package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/stride-oss/stride/internal/delivery"
)

// Source is one webhook connector. The HTTP layer reads the body (bounded)
// and hands it to internal/intake, which calls Verify, then Translate, and
// stores the raw delivery with its events through the same path as the
// native API. Reprocessing calls Translate again on stored deliveries, so
// Translate must depend only on its arguments and the connector's
// configuration. Intake stamps every event with the source's name.
type Source interface {
	// Name is the source's name, as in the endpoint /webhooks/<name>.
	Name() string
	// Verify checks the delivery's authenticity (signature, token). It
	// returns a *delivery.Error with code EUNAUTHORIZED when it fails.
	Verify(h http.Header, body []byte) error
	// DeliveryID returns the source's own id for the delivery (such as
	// X-GitHub-Delivery), or a digest of the body when the source has none,
	// so a redelivery is recognised.
	DeliveryID(h http.Header, body []byte) string
	// Translate maps the delivery to domain events, each with a stable
	// idempotency key derived from the payload (never from the time of
	// receipt). It returns an error wrapping ErrIgnored for an event type
	// or action Stride does not use, and a *delivery.Error with code
	// EINVALID for a malformed body.
	Translate(h http.Header, body []byte) ([]delivery.Event, error)
}

// HeadersKept are the request headers stored with a raw delivery: those a
// connector reads, so reprocessing sees what the first translation saw.
// (Until each connector declares its own, the list of all of them.)
var HeadersKept = []string{
	"Content-Type", "User-Agent",
	"X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID",
	"X-Gitlab-Event", "X-Gitlab-Event-UUID", "Idempotency-Key",
	"X-Atlassian-Webhook-Identifier",
	"Ce-Id", "Ce-Type", "Ce-Source", "Ce-Specversion", "Ce-Time", "Ce-Subject",
}

// EventTypeHeaders are the headers in which a source names what a delivery
// reports (GitHub's "push", a CloudEvent's type); the first one present is
// the raw delivery's event type, which lets a person find deliveries by it.
var EventTypeHeaders = []string{"X-GitHub-Event", "X-Gitlab-Event", "Ce-Type"}

// ErrIgnored marks a delivery that is valid but carries nothing Stride uses;
// it is stored raw and answered with 202.
var ErrIgnored = errors.New("event ignored")

// Ignored returns an error wrapping ErrIgnored with the reason.
func Ignored(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIgnored, fmt.Sprintf(format, args...))
}

// Malformed returns an EINVALID error for a body that cannot be read.
func Malformed(format string, args ...any) error {
	return delivery.Errorf(delivery.EINVALID, format, args...)
}

// Unauthorized returns an EUNAUTHORIZED error for a failed check.
func Unauthorized(format string, args ...any) error {
	return delivery.Errorf(delivery.EUNAUTHORIZED, format, args...)
}

// TouchedPaths joins the added, modified and removed files a push payload
// lists for one commit into delivery.Change.Paths: nil when the payload has
// none of the three lists (the files are unknown), so a change is not taken
// for one that touched nothing.
func TouchedPaths(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		if l != nil && out == nil {
			out = []string{}
		}
		out = append(out, l...)
	}
	return out
}

// BodyDigest is the delivery id of a source that sends none: a digest of
// the body, so the same delivery sent twice has the same id.
func BodyDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}
