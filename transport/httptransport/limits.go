package httptransport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// BodyLimit returns middleware that bounds request bodies to n bytes: a declared
// Content-Length over n gets 413 at once without reading the body; a body that turns
// out longer (chunked, say) stops at n bytes, the handler's read fails with
// *http.MaxBytesError, and the answer becomes 413 problem+json unless the handler had
// already written one. The server then closes the connection rather than read the
// rest: past the limit it reads no more than its 4 KiB read buffer. A chunked body the
// handler answered without reading to its end also closes the connection (net/http
// would otherwise read up to 256 KiB of it to keep the connection open).
func BodyLimit(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				w.Header().Set("Connection", "close")
				WriteProblem(w, r, tooLarge(n))
				closeConn(w)
				return
			}
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			lw := &limitWriter{ResponseWriter: w, r: r, n: n}
			lw.body = http.MaxBytesReader(w, r.Body, n)
			r.Body = lw
			next.ServeHTTP(lw, r)
			if !lw.wrote {
				// net/http writes the 200 after this returns: decide its
				// Connection header now.
				lw.beforeHeader()
			}
			if lw.closing {
				closeConn(w)
			}
		})
	}
}

// closeConn sends what was written and closes the connection, so that net/http does not
// read (up to 256 KiB of) the rest of an oversized body to keep the connection alive.
// The response must carry "Connection: close" (set before its header was written), or
// net/http reads that much when it flushes the header. Where the connection cannot be
// taken over (HTTP/2), the server resets the stream.
func closeConn(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return
	}
	if conn, _, err := rc.Hijack(); err == nil {
		_ = conn.Close()
	}
}

func tooLarge(n int64) Problem {
	return Problem{Status: http.StatusRequestEntityTooLarge, Detail: "request body is larger than the limit of " + strconv.FormatInt(n, 10) + " bytes"}
}

// limitWriter is both the limited body and the response writer: once a read hits the
// limit, whatever the handler answers is replaced by a 413. It is used by one request's
// handler, as a request body and its ResponseWriter are.
type limitWriter struct {
	http.ResponseWriter
	r    *http.Request
	body interface {
		Read([]byte) (int, error)
		Close() error
	}
	n        int64
	exceeded bool // a read hit the limit
	eof      bool // a read reached the end of the body
	wrote    bool // the header is written (or about to be)
	closing  bool // the connection is to be closed after the answer
}

func (l *limitWriter) Read(p []byte) (int, error) {
	k, err := l.body.Read(p)
	if err == io.EOF {
		l.eof = true
	}
	var mbe *http.MaxBytesError
	if err != nil && errors.As(err, &mbe) && !l.exceeded {
		l.exceeded = true
		if !l.wrote {
			l.beforeHeader()
			WriteProblem(l.ResponseWriter, l.r, tooLarge(l.n))
		}
	}
	return k, err
}

func (l *limitWriter) Close() error { return l.body.Close() }

// beforeHeader runs once, before the response header is written: when the body went
// past the limit, or is chunked and was not read to its end, the answer says
// "Connection: close" (so net/http does not read on when it writes the header) and the
// connection is closed after it.
func (l *limitWriter) beforeHeader() {
	if l.wrote {
		return
	}
	l.wrote = true
	if l.exceeded || (l.r.ContentLength < 0 && !l.eof) {
		l.closing = true
		if l.r.ProtoMajor == 1 {
			l.ResponseWriter.Header().Set("Connection", "close")
		}
	}
}

func (l *limitWriter) WriteHeader(code int) {
	if l.wrote {
		if !l.exceeded {
			l.ResponseWriter.WriteHeader(code) // a 1xx, or a superfluous call net/http logs
		}
		return
	}
	l.beforeHeader()
	l.ResponseWriter.WriteHeader(code)
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if l.exceeded {
		return len(b), nil // the 413 is already written; drop the handler's answer
	}
	l.beforeHeader()
	return l.ResponseWriter.Write(b)
}

// FlushError flushes through to the client (http.ResponseController uses it), deciding
// the Connection header first when the flush sends the header.
func (l *limitWriter) FlushError() error {
	l.beforeHeader()
	return http.NewResponseController(l.ResponseWriter).Flush()
}

func (l *limitWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// ConcurrencyLimit returns middleware that serves at most n requests at once and sheds
// the rest at once with 503 problem+json and Retry-After (retryAfter rounded up to whole
// seconds, at least 1), so an overloaded instance fails fast instead of queueing.
// onShed, when not nil, is called for every shed request (to count them).
func ConcurrencyLimit(n int, retryAfter time.Duration, onShed func(*http.Request)) func(http.Handler) http.Handler {
	secs := int((retryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	ra := strconv.Itoa(secs)
	sem := make(chan struct{}, n)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				next.ServeHTTP(w, r)
			default:
				if onShed != nil {
					onShed(r)
				}
				w.Header().Set("Retry-After", ra)
				WriteProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Detail: "server is at its concurrency limit; retry later"})
			}
		})
	}
}

// Timeout returns middleware that gives each request a deadline d from now. Handlers and
// go-kit endpoints see it in their context; a handler that returns after the deadline
// without writing an answer gets 504 problem+json written for it. Handlers must watch
// their context: Timeout does not abandon a running handler (which would leak it).
// Apply it per route: mux.Handle("GET /slow", Timeout(2*time.Second)(h)).
func Timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			tw := &recoverWriter{ResponseWriter: w}
			next.ServeHTTP(tw, r.WithContext(ctx))
			if !tw.wrote && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				WriteProblem(w, r, Problem{Status: http.StatusGatewayTimeout, Detail: "request took longer than its " + d.String() + " timeout"})
			}
		})
	}
}
