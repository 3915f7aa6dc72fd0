package httptransport

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	kithttp "github.com/go-kit/kit/transport/http"
)

// Error is an error with an HTTP status: Msg is what the client sees, Err the cause that
// is logged and never sent. Handlers and go-kit endpoints return one to choose the
// answer; [ErrorEncoder] and [WriteError] write it as problem+json.
type Error struct {
	// Code is the HTTP status code.
	Code int
	// Msg is the problem detail for the client; empty means the status text.
	Msg string
	// Fields lists invalid request fields, for 400 answers.
	Fields []FieldError
	// Err is the cause, for logs only.
	Err error
}

// Error describes the error for logs: status, message and cause.
func (e *Error) Error() string {
	s := strconv.Itoa(e.Code) + " " + http.StatusText(e.Code)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode returns the HTTP status, as go-kit's StatusCoder.
func (e *Error) StatusCode() int { return e.Code }

// BadRequest returns a 400 error with msg for the client and the invalid fields.
func BadRequest(msg string, fields ...FieldError) *Error {
	return &Error{Code: http.StatusBadRequest, Msg: msg, Fields: fields}
}

// NotFound returns a 404 error with msg for the client.
func NotFound(msg string) *Error { return &Error{Code: http.StatusNotFound, Msg: msg} }

// Conflict returns a 409 error with msg for the client.
func Conflict(msg string) *Error { return &Error{Code: http.StatusConflict, Msg: msg} }

// Unavailable returns a 503 error with msg for the client; cause is logged.
func Unavailable(msg string, cause error) *Error {
	return &Error{Code: http.StatusServiceUnavailable, Msg: msg, Err: cause}
}

// retryAfterer is implemented by errors that know when a retry may succeed, such as an
// open circuit breaker's.
type retryAfterer interface {
	RetryAfter() time.Duration
}

// statusOf returns the status, client message, fields and Retry-After for err.
func statusOf(err error) (code int, msg string, fields []FieldError, retryAfter time.Duration) {
	code = http.StatusInternalServerError
	var pe *Error
	var sc kithttp.StatusCoder
	var ra retryAfterer
	switch {
	case errors.As(err, &pe):
		code, msg, fields = pe.Code, pe.Msg, pe.Fields
	case errors.As(err, &sc):
		code = sc.StatusCode()
	case errors.As(err, &ra):
		code = http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	}
	if errors.As(err, &ra) {
		retryAfter = ra.RetryAfter()
	}
	if code < 400 || code > 599 {
		code = http.StatusInternalServerError
	}
	return code, msg, fields, retryAfter
}

// WriteError writes err as problem+json: the status comes from an [*Error], a go-kit
// StatusCoder, an error with a RetryAfter method (503 with Retry-After, as an open
// breaker's), a deadline (504), else 500. A 5xx answer never carries the error's text:
// only an *Error's Msg, or the status text. Every 5xx and the cause of every error are
// logged to logger, which may be nil.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code, msg, fields, retryAfter := statusOf(err)
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	if code >= 500 || (logger != nil && logger.Enabled(r.Context(), slog.LevelDebug)) {
		level := slog.LevelDebug
		if code >= 500 {
			level = slog.LevelError
		}
		if logger != nil {
			logger.Log(r.Context(), level, "request failed", "status", code, "error", err.Error(),
				"request_id", RequestIDFrom(r.Context()), "method", r.Method, "path", r.URL.Path)
		}
	}
	WriteProblem(w, r, Problem{Status: code, Detail: msg, Errors: fields})
}

// ErrorEncoder returns a go-kit ErrorEncoder that writes errors as [WriteError] does.
func ErrorEncoder(logger *slog.Logger) kithttp.ErrorEncoder {
	return func(ctx context.Context, err error, w http.ResponseWriter) {
		r := (&http.Request{Method: "", URL: nil}).WithContext(ctx)
		if m, ok := ctx.Value(kithttp.ContextKeyRequestMethod).(string); ok {
			r.Method = m
		}
		if p, ok := ctx.Value(kithttp.ContextKeyRequestPath).(string); ok {
			r.URL = mustURL(p)
		}
		if r.URL == nil {
			r.URL = mustURL("/")
		}
		WriteError(w, r, logger, err)
	}
}

func mustURL(p string) *url.URL {
	u, err := url.Parse(p)
	if err != nil {
		return &url.URL{Path: "/"}
	}
	return u
}
