package resilience_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/paved-road/paved/resilience"
)

func TestErrorsMapToHTTP(t *testing.T) {
	open := &resilience.OpenError{Breaker: "inventory", Wait: 3 * time.Second}
	limited := &resilience.RateLimitError{Name: "inventory", Wait: 250 * time.Millisecond}
	tests := []struct {
		name      string
		err       error
		sentinel  error
		status    int
		wait      time.Duration
		hasWait   bool
		permanent bool
	}{
		{"open breaker", open, resilience.ErrOpen, 503, 3 * time.Second, true, false},
		{"wrapped open breaker", fmt.Errorf("get stock: %w", open), resilience.ErrOpen, 503, 3 * time.Second, true, false},
		{"rate limited", limited, resilience.ErrRateLimited, 429, 250 * time.Millisecond, true, false},
		{"bulkhead full", resilience.ErrBulkheadFull, resilience.ErrBulkheadFull, 503, 0, false, false},
		{"429 with Retry-After", &resilience.StatusError{Code: 429, Wait: time.Second}, nil, 0, time.Second, true, false},
		{"503 without Retry-After", &resilience.StatusError{Code: 503}, nil, 0, 0, false, false},
		{"permanent", resilience.Permanent(errBoom), errBoom, 0, 0, false, true},
		{"plain", errBoom, errBoom, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sentinel != nil && !errors.Is(tt.err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) got false, want true", tt.err, tt.sentinel)
			}
			if got := resilience.HTTPStatus(tt.err); got != tt.status {
				t.Errorf("HTTPStatus got %d, want %d", got, tt.status)
			}
			wait, ok := resilience.RetryAfter(tt.err)
			if wait != tt.wait || ok != tt.hasWait {
				t.Errorf("RetryAfter got %v %v, want %v %v", wait, ok, tt.wait, tt.hasWait)
			}
			if got := resilience.IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent got %v, want %v", got, tt.permanent)
			}
		})
	}
	if resilience.Permanent(nil) != nil {
		t.Error("Permanent(nil) got non-nil, want nil")
	}
}

func TestDefaultClassifier(t *testing.T) {
	tests := []struct {
		err  error
		want resilience.Outcome
	}{
		{errBoom, resilience.Failure},
		{fmt.Errorf("wrapped: %w", errors.New("x")), resilience.Failure},
		{wrappedCanceled(), resilience.Ignored},
		{wrappedDeadlineExceeded(), resilience.Failure},
		{&resilience.StatusError{Code: 500}, resilience.Failure},
		{&resilience.StatusError{Code: 503}, resilience.Failure},
		{&resilience.StatusError{Code: 429}, resilience.Failure},
		{&resilience.StatusError{Code: 404}, resilience.Success},
		{&resilience.StatusError{Code: 400}, resilience.Success},
		{fmt.Errorf("decode: %w", &resilience.StatusError{Code: 409}), resilience.Success},
	}
	for _, tt := range tests {
		if got := resilience.DefaultClassifier(tt.err); got != tt.want {
			t.Errorf("DefaultClassifier(%v) got %v, want %v", tt.err, got, tt.want)
		}
	}
}
