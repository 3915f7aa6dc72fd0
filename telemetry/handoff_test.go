package telemetry

import (
	"context"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// handoffProvider returns a provider whose spans go through a handoff of size into a
// blocking batch processor (no drops) exporting to mem.
func handoffProvider(t *testing.T, size int, delay time.Duration) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	bsp := sdktrace.NewBatchSpanProcessor(mem, sdktrace.WithBlocking(), sdktrace.WithBatchTimeout(10*time.Millisecond))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(newHandoff(bsp, size, delay)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, mem
}

func TestHandoffForceFlushHandsOverAPartialGroup(t *testing.T) {
	tp, mem := handoffProvider(t, 64, time.Hour)
	for range 3 {
		_, span := tp.Tracer("t").Start(context.Background(), "s")
		span.End()
	}
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(mem.GetSpans()); got != 3 {
		t.Fatalf("got %d spans exported after ForceFlush, want 3", got)
	}
}

func TestHandoffDelayHandsOverWithoutFlush(t *testing.T) {
	tp, mem := handoffProvider(t, 64, 20*time.Millisecond)
	_, span := tp.Tracer("t").Start(context.Background(), "lonely")
	span.End()
	deadline := time.Now().Add(5 * time.Second)
	for len(mem.GetSpans()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("got no span exported 5 s after it ended, want it within the handoff delay plus the batch timeout")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandoffFullGroupGoesAtOnce(t *testing.T) {
	tp, mem := handoffProvider(t, 4, time.Hour)
	for range 4 {
		_, span := tp.Tracer("t").Start(context.Background(), "s")
		span.End()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(mem.GetSpans()) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("got %d spans exported, want the full group of 4 without a flush", len(mem.GetSpans()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandoffConcurrentSpansAllExported(t *testing.T) {
	tp, mem := handoffProvider(t, 64, 50*time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				_, span := tp.Tracer("t").Start(context.Background(), "s")
				span.End()
			}
		})
	}
	wg.Wait()
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(mem.GetSpans()); got != 8000 {
		t.Fatalf("got %d spans exported, want 8000", got)
	}
}

// keepExporter keeps the names of what it exported, through Shutdown (the in-memory
// exporter forgets at Shutdown).
type keepExporter struct {
	mu    sync.Mutex
	names []string
}

func (e *keepExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range spans {
		e.names = append(e.names, s.Name())
	}
	return nil
}

func (e *keepExporter) Shutdown(context.Context) error { return nil }

func TestHandoffShutdownHandsOverThenDrops(t *testing.T) {
	exp := &keepExporter{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(newHandoff(sdktrace.NewBatchSpanProcessor(exp), 64, time.Hour)))
	tracer := tp.Tracer("t")
	_, held := tracer.Start(context.Background(), "held")
	_, late := tracer.Start(context.Background(), "late")
	held.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	late.End() // after Shutdown: dropped, no panic
	exp.mu.Lock()
	defer exp.mu.Unlock()
	if len(exp.names) != 1 || exp.names[0] != "held" {
		t.Fatalf("got %v exported, want the one span held at Shutdown", exp.names)
	}
}
