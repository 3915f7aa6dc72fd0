package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paved-road/paved/health"
)

// discardWriter is a reusable http.ResponseWriter, so the benchmark measures the handler
// and not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// benchRegistry has n passing checks cached for an hour, started.
func benchRegistry(b *testing.B, n int) *health.Registry {
	reg, err := health.New(health.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Close() })
	for i := range n {
		if err := reg.Register(health.Check{Name: fmt.Sprintf("dep%d", i), CacheTTL: time.Hour, Check: func(context.Context) error { return nil }}); err != nil {
			b.Fatal(err)
		}
	}
	reg.MarkStarted()
	if rep, _ := reg.Evaluate(context.Background(), health.Readiness); rep.Status != health.StatusPass {
		b.Fatalf("got %s, want pass", rep.Status)
	}
	return reg
}

func benchHandler(b *testing.B, checks int, target string) {
	h := benchRegistry(b, checks).Handler()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("got %d, want 200", w.code)
		}
	}
}

// BenchmarkReadyz10Cached is the probe path: /readyz with 10 checks answered from cache.
// Target: under 5 µs per probe.
func BenchmarkReadyz10Cached(b *testing.B) { benchHandler(b, 10, "/readyz") }

// BenchmarkReadyzNoChecks is the baseline: /readyz with no checks.
func BenchmarkReadyzNoChecks(b *testing.B) { benchHandler(b, 0, "/readyz") }

// BenchmarkReadyz10CachedVerbose is /readyz?verbose with 10 cached checks.
func BenchmarkReadyz10CachedVerbose(b *testing.B) { benchHandler(b, 10, "/readyz?verbose") }

// BenchmarkReadyz10CachedJSON is /readyz?format=json with 10 cached checks.
func BenchmarkReadyz10CachedJSON(b *testing.B) { benchHandler(b, 10, "/readyz?format=json") }

// BenchmarkReadyz10CachedParallel is the cached probe from all CPUs at once.
func BenchmarkReadyz10CachedParallel(b *testing.B) {
	h := benchRegistry(b, 10).Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}
