package httptransport

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
)

// RequestIDHeader is the header that carries a request's id.
const RequestIDHeader = "X-Request-ID"

// requestIDCanon is RequestIDHeader in canonical form (http.CanonicalHeaderKey), for
// direct map access: Header.Get and Set would canonicalize, and allocate, on every
// request.
const requestIDCanon = "X-Request-Id"

type requestIDKey struct{}

// requestIDCtx is the context that carries a request id: the parent, the id and the
// one-element slice the response header uses, in one allocation (context.WithValue
// plus a value would be two or three).
type requestIDCtx struct {
	context.Context
	id     string
	header [1]string
}

// Value returns the requestIDCtx itself for requestIDKey, and asks the parent
// otherwise.
func (c *requestIDCtx) Value(key any) any {
	if _, ok := key.(requestIDKey); ok {
		return c
	}
	return c.Context.Value(key)
}

func withRequestID(ctx context.Context, id string) *requestIDCtx {
	c := &requestIDCtx{Context: ctx, id: id}
	c.header[0] = id
	return c
}

// RequestIDFrom returns the request id in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	if c, _ := ctx.Value(requestIDKey{}).(*requestIDCtx); c != nil {
		return c.id
	}
	return ""
}

// WithRequestID returns a copy of ctx carrying id, for clients that propagate it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return withRequestID(ctx, id)
}

// RequestID returns middleware that gives every request an id: the caller's
// X-Request-ID when it is well-formed (1 to 128 characters of letters, digits and
// "-_.:"), else a new random one. The id is echoed in the response header, put in the
// request's context ([RequestIDFrom]) and in problem answers and access logs. [Stack]
// does the same work inside its telemetry middleware, to copy the request once.
func RequestID() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(requestIDContext(r.Context(), w, r)))
		})
	}
}

// requestIDContext takes or makes r's id, sets the response header, and returns ctx
// with the id; Stack passes it to its telemetry middleware.
func requestIDContext(ctx context.Context, w http.ResponseWriter, r *http.Request) context.Context {
	var id string
	if v := r.Header[requestIDCanon]; len(v) > 0 {
		id = v[0]
	}
	if !validRequestID(id) {
		id = newRequestID()
	}
	c := withRequestID(ctx, id)
	w.Header()[requestIDCanon] = c.header[:]
	return c
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex. They come from math/rand/v2, whose
// generator (ChaCha8, seeded by the runtime from the OS) gives unpredictable, unique
// ids without crypto/rand's cost; a request id is not a secret.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	var h [32]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}
