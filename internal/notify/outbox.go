package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Policy is how the outbox retries: at least three attempts in all, with
// exponential backoff and jitter between them, a Retry-After answer obeyed,
// a bound on each attempt, and no retry of a permanent refusal.
type Policy struct {
	// Attempts is the most attempts a notification gets; below 3 means 3.
	Attempts int
	// Backoff is the wait after the first failure; it doubles after each
	// further one, up to MaxBackoff. Zero means 30 s and 30 min.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Timeout bounds one attempt; zero means 10 s.
	Timeout time.Duration
	// Jitter returns a number in [0, 1); nil means math/rand/v2. The wait
	// is d/2 + Jitter()·d/2, so that retries of many rows that failed
	// together spread out, and still grow.
	Jitter func() float64
}

// DefaultPolicy is five attempts over about eight minutes.
func DefaultPolicy() Policy {
	return Policy{Attempts: 5, Backoff: 30 * time.Second, MaxBackoff: 30 * time.Minute, Timeout: 10 * time.Second}
}

func (p Policy) attempts() int { return max(p.Attempts, 3) }

func (p Policy) timeout() time.Duration {
	if p.Timeout <= 0 {
		return 10 * time.Second
	}
	return p.Timeout
}

// Delay is the wait before the next attempt after the given number of
// failed attempts (1 after the first) that ended with err, as of now.
func (p Policy) Delay(failed int, err error, now time.Time) time.Duration {
	if d, ok := retryAfter(err, now); ok {
		return d
	}
	base, most := p.Backoff, p.MaxBackoff
	if base <= 0 {
		base = 30 * time.Second
	}
	if most <= 0 {
		most = 30 * time.Minute
	}
	d := base
	for i := 1; i < failed && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	j := rand.Float64
	if p.Jitter != nil {
		j = p.Jitter
	}
	return d/2 + time.Duration(j()*float64(d/2))
}

// Attempt is one delivery attempt of an outbox row, kept with its error.
type Attempt = delivery.DeliveryAttempt

// Row is a notification in the durable outbox (a domain value, so the store
// keeps it): written in the same transaction as the change that causes it,
// picked by a job when Due, attempted with Deliver, stored again, so that a
// crash between commit and delivery only delays it.
type Row = delivery.Notification

// NewRow is the outbox row of a message to route, due at once.
func NewRow(route string, m Message, now time.Time) (Row, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return Row{}, fmt.Errorf("outbox row for %s: %w", route, err)
	}
	return Row{Route: route, Payload: b, NextAttemptAt: now}, nil
}

// Outbox delivers outbox rows through the sender of each route.
type Outbox struct {
	Routes map[string]Sender
	Policy Policy
}

// Deliver performs one attempt of row at now and returns the row's next
// state: delivered; or failed and due again after the policy's delay; or
// given up, after the last attempt or a permanent error, with the error
// kept. A row that is not pending is returned as it is, and so is a row
// whose attempt was cut short by ctx ending (a shutdown). Deliver does no
// other I/O than the attempt, so the caller stores the result.
func (o *Outbox) Deliver(ctx context.Context, row Row, now time.Time) Row {
	if !row.Pending() {
		return row
	}
	before := row
	row.History = append([]Attempt(nil), row.History...)
	err := o.attempt(ctx, row)
	if err != nil && ctx.Err() != nil {
		// Stride is stopping: the attempt was cut short by us, not refused
		// by the receiver, so it does not count; the row stays due. (A send
		// that succeeded as the context ended is recorded as delivered.)
		return before
	}
	row.Attempts++
	row.History = append(row.History, Attempt{At: now, Error: errString(err)})
	if err == nil {
		row.DeliveredAt, row.LastError = now, ""
		return row
	}
	row.LastError = err.Error()
	if IsPermanent(err) || row.Attempts >= o.Policy.attempts() {
		row.GaveUpAt = now
		return row
	}
	row.NextAttemptAt = now.Add(o.Policy.Delay(row.Attempts, err, now))
	return row
}

func (o *Outbox) attempt(ctx context.Context, row Row) error {
	s, ok := o.Routes[row.Route]
	if !ok {
		return Permanent(fmt.Errorf("no sender for route %q", row.Route))
	}
	var m Message
	if err := json.Unmarshal(row.Payload, &m); err != nil {
		return Permanent(fmt.Errorf("payload of row %d: %w", row.ID, err))
	}
	ctx, cancel := context.WithTimeout(ctx, o.Policy.timeout())
	defer cancel()
	err := s.Send(ctx, m)
	// The connection's own deadline (set from ctx) may fire a moment before
	// ctx itself reports it; either is this attempt running out of time.
	if err != nil && (errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)) {
		return fmt.Errorf("attempt timed out after %s: %w", o.Policy.timeout(), err)
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
