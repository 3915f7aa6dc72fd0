package resilience

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Match them with errors.Is; the typed errors below carry
// more detail and match the same sentinels.
var (
	// ErrOpen reports that a circuit breaker refused a call because it is
	// open, or half-open with all its probe slots taken. The concrete error
	// is an *OpenError. Transports map it to 503 Service Unavailable with a
	// Retry-After header.
	ErrOpen = errors.New("resilience: circuit breaker is open")

	// ErrBulkheadFull reports that a bulkhead refused a call: all its slots
	// were taken and its queue was full or the wait limit passed. Transports
	// map it to 503 Service Unavailable.
	ErrBulkheadFull = errors.New("resilience: bulkhead full")

	// ErrRateLimited reports that a rate limiter refused a call. The concrete
	// error is a *RateLimitError. Transports map it to 429 Too Many Requests
	// with a Retry-After header.
	ErrRateLimited = errors.New("resilience: rate limited")

	// ErrBudgetExhausted reports that a retry was due but the retry budget
	// had no room for it. The error returned by the Policy matches both this
	// sentinel and the error of the last attempt.
	ErrBudgetExhausted = errors.New("resilience: retry budget exhausted")
)

// OpenError is returned when a circuit breaker refuses a call. It matches
// ErrOpen with errors.Is.
type OpenError struct {
	// Breaker is the breaker's name.
	Breaker string
	// HalfOpen is true when the breaker was half-open and all its probe
	// slots were taken, false when it was open.
	HalfOpen bool
	// Wait is the time until the breaker lets a probe through: the rest of
	// the open timeout, or the probe timeout when half-open.
	Wait time.Duration
}

// Error implements error.
func (e *OpenError) Error() string {
	state := "open"
	if e.HalfOpen {
		state = "half-open, probes in flight"
	}
	return fmt.Sprintf("resilience: circuit breaker %q is %s (retry after %v)", e.Breaker, state, e.Wait)
}

// Is reports whether target is ErrOpen.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// RetryAfter returns how long to wait before trying again.
func (e *OpenError) RetryAfter() time.Duration { return e.Wait }

// RateLimitError is returned when a rate limiter refuses a call. It matches
// ErrRateLimited with errors.Is.
type RateLimitError struct {
	// Name is the policy's name.
	Name string
	// Wait is when the next token is due.
	Wait time.Duration
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("resilience: %q rate limited (retry after %v)", e.Name, e.Wait)
}

// Is reports whether target is ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfter returns how long to wait before trying again.
func (e *RateLimitError) RetryAfter() time.Duration { return e.Wait }

// RetryAfter reports the wait carried by err or by any error it wraps: an
// *OpenError, a *RateLimitError, a *StatusError from a response with a
// Retry-After header, or any error with a method RetryAfter() time.Duration.
// Transports use it to set the Retry-After header; the retry loop honours it.
func RetryAfter(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) {
		return 0, false
	}
	d := ra.RetryAfter()
	if d < 0 {
		return 0, false
	}
	return d, true
}

// Permanent wraps err so that the retry loop returns it at once instead of
// retrying. The Policy returns err itself, unwrapped. Permanent(nil) is nil.
// The breaker still classifies err as usual.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err or an error it wraps was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// budgetError is returned when the retry budget stops a retry. It matches
// ErrBudgetExhausted and, through Unwrap, the last attempt's error.
type budgetError struct{ last error }

func (e *budgetError) Error() string {
	return "resilience: retry budget exhausted: " + e.last.Error()
}
func (e *budgetError) Is(target error) bool { return target == ErrBudgetExhausted }
func (e *budgetError) Unwrap() error        { return e.last }

// StatusError describes an HTTP response the RoundTripper counted as a
// failure (5xx or 429). The RoundTripper returns the response itself, not
// this error, to its caller; it appears in errors only when users build it
// themselves, for instance in go-kit client decoders, so that the default
// classifier and the retry loop see the status.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Wait is the parsed Retry-After header; zero when absent.
	Wait time.Duration
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("resilience: HTTP status %d", e.Code)
}

// StatusCode returns the HTTP status code. It lets the default classifier
// treat the error like go-kit's StatusCoder errors.
func (e *StatusError) StatusCode() int { return e.Code }

// RetryAfter returns the parsed Retry-After header, if any; a negative
// value means none.
func (e *StatusError) RetryAfter() time.Duration {
	if e.Wait <= 0 {
		return -1
	}
	return e.Wait
}

// HTTPStatus returns the status a server should answer when a call it made
// for its own client failed with err because of this package: 503 for an
// open breaker, a full bulkhead or an exhausted retry budget, 429 for a rate
// limit; 0 when err is none of these. Pair it with RetryAfter for the
// Retry-After header (whole seconds, rounded up).
func HTTPStatus(err error) int {
	switch {
	case errors.Is(err, ErrRateLimited):
		return 429
	case errors.Is(err, ErrOpen), errors.Is(err, ErrBulkheadFull), errors.Is(err, ErrBudgetExhausted):
		return 503
	default:
		return 0
	}
}
