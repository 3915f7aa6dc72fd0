package resilience

import (
	"context"
	"errors"
	"net/http"
)

// Outcome is what a Classifier makes of a call's error.
type Outcome int

const (
	// Success counts as a success: the dependency worked, even if the call
	// returned an error (a 404, a validation error).
	Success Outcome = iota
	// Failure counts as a failure and may be retried.
	Failure
	// Ignored is counted neither way and never retried: the caller gave up.
	Ignored
)

// String returns "success", "failure" or "ignored".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	default:
		return "unknown"
	}
}

// A Classifier decides what a non-nil error from a call means for the
// breaker and the retry loop. It is never called with a nil error, nor when
// the caller's own context has ended (such calls are always Ignored).
// It must be safe for concurrent use and fast: it runs on every failed call.
type Classifier func(err error) Outcome

// DefaultClassifier is the Classifier used when none is given:
//   - context.Canceled is Ignored;
//   - an error with a method StatusCode() int (a *StatusError, a go-kit
//     StatusCoder) is a Failure for 5xx and 429 and a Success for other
//     codes below 500: the dependency answered, the request was wrong;
//   - every other error (transport errors, timeouts, including
//     context.DeadlineExceeded from a per-attempt timeout) is a Failure.
func DefaultClassifier(err error) Outcome {
	if errors.Is(err, context.Canceled) {
		return Ignored
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		code := sc.StatusCode()
		if code >= 500 || code == http.StatusTooManyRequests {
			return Failure
		}
		if code > 0 {
			return Success
		}
	}
	return Failure
}
