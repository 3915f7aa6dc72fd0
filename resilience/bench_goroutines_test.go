package resilience_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/paved-road/paved/resilience"
)

// goroutinesCreated reads the runtime's count of goroutines created since
// the program started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// reportGoroutines runs call b.N times and reports goroutines created per
// call (goroutines/op) beside the allocations.
func reportGoroutines(b *testing.B, call func() error) {
	b.Helper()
	b.ReportAllocs()
	before := goroutinesCreated()
	n := 0
	for b.Loop() {
		if err := call(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(goroutinesCreated()-before)/float64(n), "goroutines/op")
}

// stdlibLikeTransport answers at once after doing what net/http's
// Transport.roundTrip does first with the request's context: derive a
// cancelable child.
type stdlibLikeTransport struct{}

func (stdlibLikeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	defer cancel(nil)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

// BenchmarkRoundTripperGoroutines: goroutines and allocations per call
// through Policy.RoundTripper (default policy: the attempt carries a
// deadline) against the same transport called directly, in process and
// over loopback TCP.
func BenchmarkRoundTripperGoroutines(b *testing.B) {
	pol, err := resilience.NewPolicy("pol", resilience.PolicyConfig{})
	if err != nil {
		b.Fatal(err)
	}
	inproc := func(rt http.RoundTripper) func() error {
		req, _ := http.NewRequest(http.MethodGet, "http://dep.invalid/", nil)
		return func() error {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		}
	}
	b.Run("inproc/baseline", func(b *testing.B) { reportGoroutines(b, inproc(stdlibLikeTransport{})) })
	b.Run("inproc/policy", func(b *testing.B) { reportGoroutines(b, inproc(pol.RoundTripper(stdlibLikeTransport{}))) })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"
	loopback := func(b *testing.B, wrap func(http.RoundTripper) http.RoundTripper) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: wrap(tr)}
		reportGoroutines(b, func() error {
			resp, err := c.Get(url)
			if err != nil {
				return err
			}
			var sb strings.Builder
			_, _ = io.Copy(&sb, resp.Body)
			return resp.Body.Close()
		})
	}
	b.Run("loopback/baseline", func(b *testing.B) {
		loopback(b, func(rt http.RoundTripper) http.RoundTripper { return rt })
	})
	b.Run("loopback/policy", func(b *testing.B) { loopback(b, pol.RoundTripper) })
}
