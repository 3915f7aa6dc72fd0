package httptransport

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover returns middleware that turns a panic in next into a 500 problem+json answer
// (when nothing was written yet) and an error log with the stack, so the process and the
// connection live on. http.ErrAbortHandler is passed through, as net/http expects. A
// nil logger discards the log.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &recoverWriter{ResponseWriter: w}
			defer func() {
				v := recover()
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
				if !rw.wrote {
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
