package resilience

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

type idempotentKey struct{}

// Idempotent returns a context that marks the requests made with it as safe
// to repeat, so the RoundTripper retries them whatever their method (a POST
// that creates with a client-chosen id, say). A request with an
// Idempotency-Key header needs no mark.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// IsIdempotent reports whether ctx was marked with Idempotent.
func IsIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

// canRetry reports whether the RoundTripper may send req more than once:
// its method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE), it has
// an Idempotency-Key header, or its context is marked Idempotent; and its
// body, if any, can be replayed (GetBody is set).
func canRetry(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if req.Header.Get("Idempotency-Key") != "" {
		return true
	}
	return IsIdempotent(req.Context())
}

// RoundTripper returns next (http.DefaultTransport when nil) wrapped in
// policy p. Responses with status 5xx or 429 count as failures and are
// retried; the caller gets the last response, never a *StatusError. Other
// responses count as successes. Requests are retried only when safe (see
// Idempotent): an idempotent method, an Idempotency-Key header or an
// Idempotent context, and a body that can be replayed through GetBody
// (http.NewRequest sets it for bytes, strings and bytes.Reader bodies).
// Timeouts cover reading the response body: the contexts, and the bulkhead
// slot, are released when the caller closes the body.
func (p *Policy) RoundTripper(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &roundTripper{p: p, next: next, hooks: newHTTPHooks()}
}

type roundTripper struct {
	p     *Policy
	next  http.RoundTripper
	hooks *hooks[*http.Response]
}

func newHTTPHooks() *hooks[*http.Response] {
	return &hooks[*http.Response]{
		discard: func(resp *http.Response) {
			if resp != nil && resp.Body != nil {
				_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
				_ = resp.Body.Close()
			}
		},
		bind: func(resp *http.Response, release func()) (*http.Response, bool) {
			if resp == nil || resp.Body == nil {
				return resp, false
			}
			resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
			return resp, true
		},
	}
}

// RoundTrip implements http.RoundTripper.
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	retryable := canRetry(req)
	first := true
	resp, err := run(req.Context(), rt.p, retryable, func(ctx context.Context) (*http.Response, error) {
		r := req.WithContext(ctx)
		if !first && req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, Permanent(err)
			}
			r.Body = body
		}
		first = false
		resp, err := rt.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return resp, &StatusError{Code: resp.StatusCode, Wait: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		}
		return resp, nil
	}, rt.hooks)
	if resp != nil {
		// A failed status is reported through the response itself.
		return resp, nil
	}
	if first && req.Body != nil {
		// Refused before any attempt: RoundTrip must still close the body.
		_ = req.Body.Close()
	}
	return nil, err
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// releaseBody runs release once, when the body is closed.
type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
