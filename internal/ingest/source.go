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

// Connector declares one source once: its name, its section of
// stride.yaml, its credential, the request headers its deliveries need and
// how to build it. Every list of sources (the configuration's known names,
// the server's endpoints, "stride source add", the headers a raw delivery
// keeps) is derived from the registry of Connectors, so adding a source
// touches its own package and one line of that registry.
type Connector struct {
	// Name is the source's name: its key under sources: in stride.yaml and
	// the last element of its endpoint /webhooks/<name>.
	Name string
	// Credential says which setting authenticates deliveries.
	Credential Credential
	// Headers are the request headers, beside CommonHeaders, that the
	// connector reads: a raw delivery keeps them so that reprocessing sees
	// what the first translation saw.
	Headers []string
	// EventType is the header in which the source names what a delivery
	// reports (GitHub's "push", a CloudEvent's type), stored as the raw
	// delivery's event type so a person can find deliveries by it; empty
	// when the source has none.
	EventType string
	// Config returns a pointer to a new, zero configuration struct with yaml
	// tags, into which the source's section of stride.yaml is decoded
	// strictly (an unknown key is an error).
	Config func() any
	// New builds the source from the configuration that Config returned,
	// once decoded, and the mapping rules shared by every source. It
	// returns an error for settings that cannot work (a malformed pattern,
	// a severity out of range), so they are refused when the file is loaded.
	New func(cfg any, m delivery.Mapping) (Source, error)
}

// Credential names the setting of a source that authenticates its
// deliveries.
type Credential struct {
	// Field is its key in the source's section: "secret", "token" or
	// "secrets".
	Field string
	// Flag is the flag of "stride source add" that sets it, in the words
	// of the vendor's own documentation: "secret" for a signing secret,
	// "token" for a shared token.
	Flag string
	// List is true when the field holds several values (PagerDuty keeps
	// every secret of a subscription while one is rotated).
	List bool
	// Required is true when a source without it rejects every delivery,
	// so it must be given for the source to be of any use.
	Required bool
}

// CommonHeaders are the request headers every raw delivery keeps, whatever
// its source.
var CommonHeaders = []string{"Content-Type", "User-Agent"}

// KeptHeaders returns the headers of h that a raw delivery of this source
// keeps: CommonHeaders and the connector's Headers, those present only.
func (c Connector) KeptHeaders(h http.Header) http.Header {
	out := http.Header{}
	for _, list := range [][]string{CommonHeaders, c.Headers} {
		for _, k := range list {
			if v := h.Get(k); v != "" {
				out.Set(k, v)
			}
		}
	}
	return out
}

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
