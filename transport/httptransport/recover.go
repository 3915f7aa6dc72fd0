package httptransport

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
)

// Recover returns middleware that turns a panic in next into a 500 problem+json answer
// (when nothing was written yet) and an error log with the stack, so the process and the
// connection live on. http.ErrAbortHandler is passed through, as net/http expects. A
// nil logger discards the log.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		// Handlers must not use the ResponseWriter after ServeHTTP returns (net/http's
		// rule), so the wrappers are reused rather than allocated per request.
		pool := sync.Pool{New: func() any { return new(recoverWriter) }}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := pool.Get().(*recoverWriter)
			rw.ResponseWriter, rw.wrote = w, false
			defer func() {
				v := recover()
				wrote := rw.wrote
				rw.ResponseWriter = nil
				pool.Put(rw)
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				if logger != nil {
					logger.ErrorContext(r.Context(), "panic in handler", "panic", fmt.Sprint(v),
						"method", r.Method, "path", r.URL.Path, "request_id", RequestIDFrom(r.Context()),
						"stack", string(debug.Stack()))
				}
				if !wrote {
					WriteProblem(w, r, Problem{Status: http.StatusInternalServerError})
					return
				}
				// Headers are gone: the client would get a truncated answer; close the
				// connection so it knows.
				panic(http.ErrAbortHandler)
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

type recoverWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *recoverWriter) WriteHeader(code int) {
	if code >= 200 {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recoverWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *recoverWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
