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

// requestIDValue is what the context holds: the id, and the one-element slice the
// response header uses, in one allocation (a string in an interface would be one more).
type requestIDValue struct {
	id     string
	header [1]string
}

func newRequestIDValue(id string) *requestIDValue {
	v := &requestIDValue{id: id}
	v.header[0] = id
	return v
}

// RequestIDFrom returns the request id in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	if v, _ := ctx.Value(requestIDKey{}).(*requestIDValue); v != nil {
		return v.id
	}
	return ""
}

// WithRequestID returns a copy of ctx carrying id, for clients that propagate it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, newRequestIDValue(id))
}

// RequestID returns middleware that gives every request an id: the caller's
// X-Request-ID when it is well-formed (1 to 128 characters of letters, digits and
// "-_.:"), else a new random one. The id is echoed in the response header, put in the
// request's context ([RequestIDFrom]) and in problem answers and access logs.
func RequestID() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var id string
			if v := r.Header[requestIDCanon]; len(v) > 0 {
				id = v[0]
			}
			if !validRequestID(id) {
				id = newRequestID()
			}
			v := newRequestIDValue(id)
			w.Header()[requestIDCanon] = v.header[:]
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, v)))
		})
	}
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
