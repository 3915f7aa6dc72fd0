package httptransport

import (
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// AccessLogOptions configures [AccessLog]. The zero value logs nothing but errors.
type AccessLogOptions struct {
	// SampleRate is the share of successful requests logged, from 0 (none) to 1 (all).
	// Requests answered 5xx are always logged, at level error; 4xx at level warn when
	// LogClientErrors is set.
	SampleRate float64
	// LogClientErrors logs every 4xx answer too.
	LogClientErrors bool
}

// AccessLog returns middleware that logs requests: method, route pattern (never the raw
// path alone: the path is logged as its own attribute), status, duration, bytes written,
// request id. Put it inside the telemetry middleware so the records carry the trace id,
// and between that and the mux so it sees the route pattern. A nil logger disables it.
func AccessLog(logger *slog.Logger, opts AccessLogOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if logger == nil {
			return next
		}
		// Writers are reused: handlers must not use them after ServeHTTP returns.
		pool := sync.Pool{New: func() any { return new(statusWriter) }}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := pool.Get().(*statusWriter)
			*sw = statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			code, written := sw.status(), sw.bytes
			*sw = statusWriter{}
			pool.Put(sw)
			level := slog.LevelInfo
			switch {
			case code >= 500:
				level = slog.LevelError
			case code >= 400 && opts.LogClientErrors:
				level = slog.LevelWarn
			case opts.SampleRate <= 0 || (opts.SampleRate < 1 && rand.Float64() >= opts.SampleRate):
				return
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			logger.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", code),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", written),
				slog.String("request_id", RequestIDFrom(r.Context())),
				slog.String("remote", r.RemoteAddr),
			)
		})
	}
}

// statusWriter records the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets streaming handlers flush through the access log.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
