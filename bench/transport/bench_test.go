package transportbench

import (
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// discardWriter is a minimal ResponseWriter, so the benchmark measures the handlers,
// not a recorder. Its header map is cleared (keeping its buckets) after each request.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// processCPU returns the process's user and system CPU time in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkServeHTTP runs GET /items/42 through each variant's ServeHTTP, then through
// each middleware of the stack alone. Compare ns/op and allocs/op with "bare".
func BenchmarkServeHTTP(b *testing.B) {
	variants := append(append([]string{}, Variants...), "recover", "requestid", "telemetry-off", "accesslog", "bodylimit", "concurrency")
	for _, v := range variants {
		b.Run(v, func(b *testing.B) {
			h, release, err := Handler(v)
			if err != nil {
				b.Fatal(err)
			}
			defer release()
			req := httptest.NewRequest("GET", "/items/42", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				h.ServeHTTP(w, req)
				clear(w.h)
			}
			// ns/op is wall-clock time, which on a shared machine counts the time the
			// benchmark waited for a CPU; CPU time (garbage collection included) does not.
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestVariantsServe checks that every variant answers the same JSON, so the benchmark
// compares like with like.
func TestVariantsServe(t *testing.T) {
	for _, v := range append(append([]string{}, Variants...), "recover", "requestid", "telemetry-off", "accesslog", "bodylimit", "concurrency") {
		h, release, err := Handler(v)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/items/42", nil))
		release()
		if got, want := w.Body.String(), "{\"id\":\"42\",\"name\":\"widget\",\"stock\":7}\n"; w.Code != 200 || got != want {
			t.Errorf("%s: got %d %q, want 200 %q", v, w.Code, got, want)
		}
	}
	if _, _, err := Handler("nope"); err == nil {
		t.Error("unknown variant: got nil error, want one")
	}
}
