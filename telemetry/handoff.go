package telemetry

import (
	"context"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Handoff settings of [NewBatchSpanProcessor]: tuning measured by bench/transport, not
// settings a service chooses.
const (
	// handoffSize is how many ended spans are handed to the batch processor at once.
	handoffSize = 64
	// handoffDelay is the longest an ended span waits before it is handed over, when
	// fewer than handoffSize have ended since the last handoff.
	handoffDelay = 100 * time.Millisecond
)

// NewBatchSpanProcessor returns the span processor [NewTracing] puts in front of each
// exporter: the SDK's batch span processor (opts are its options), with ended spans
// handed to it in groups of 64, or 100 ms after the first of a group, instead of one at
// a time. ForceFlush and Shutdown hand over what is held first.
//
// Why: the SDK's processor wakes its goroutine through a channel for every ended span.
// With one processor for the process (GOMAXPROCS=1, which Go sets in a container limited
// to one CPU), that goroutine and the request that woke it pass the processor back and
// forth, and the other requests wait behind them for a scheduler time slice: under wrk
// on one core, with every request sampled, p99 was 25-40 ms with the SDK's processor
// alone and 4-5 ms with the handoff (bare net/http: 3-4 ms); on two cores the two did
// the same (bench/transport/README.md).
//
// The SDK's processor would read the OTEL_BSP_* variables from the process unless told
// otherwise, and panics on some bad values; here every setting is given, the SDK's
// defaults first and then opts, so the environment never counts ([TracingConfigFromEnv]
// validates those variables into TracingConfig.Batch, which [NewTracing] passes on).
func NewBatchSpanProcessor(exp sdktrace.SpanExporter, opts ...sdktrace.BatchSpanProcessorOption) sdktrace.SpanProcessor {
	opts = append(BatchConfig{}.options(), opts...)
	return newHandoff(sdktrace.NewBatchSpanProcessor(exp, opts...), handoffSize, handoffDelay)
}

// handoff holds ended spans and passes them to next in groups; see NewBatchSpanProcessor.
type handoff struct {
	next  sdktrace.SpanProcessor
	size  int
	delay time.Duration

	mu     sync.Mutex
	held   []sdktrace.ReadOnlySpan // guarded by mu
	timer  *time.Timer             // hands held over after delay; guarded by mu
	closed bool                    // guarded by mu
}

func newHandoff(next sdktrace.SpanProcessor, size int, delay time.Duration) *handoff {
	return &handoff{next: next, size: size, delay: delay}
}

// OnStart implements sdktrace.SpanProcessor.
func (h *handoff) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	h.next.OnStart(parent, s)
}

// OnEnd implements sdktrace.SpanProcessor: it holds s, and hands the group over when it
// is full.
func (h *handoff) OnEnd(s sdktrace.ReadOnlySpan) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return // as the SDK's processor does after Shutdown
	}
	h.held = append(h.held, s)
	var group []sdktrace.ReadOnlySpan
	switch {
	case len(h.held) >= h.size:
		group = h.take()
	case len(h.held) == 1:
		if h.timer == nil {
			h.timer = time.AfterFunc(h.delay, h.handOver)
		} else {
			h.timer.Reset(h.delay)
		}
	}
	h.mu.Unlock()
	h.pass(group)
}

// take returns the held spans and holds none; the caller holds mu.
func (h *handoff) take() []sdktrace.ReadOnlySpan {
	group := h.held
	h.held = make([]sdktrace.ReadOnlySpan, 0, h.size)
	if h.timer != nil {
		h.timer.Stop()
	}
	return group
}

func (h *handoff) pass(group []sdktrace.ReadOnlySpan) {
	for _, s := range group {
		h.next.OnEnd(s)
	}
}

// handOver passes whatever is held to next.
func (h *handoff) handOver() {
	h.mu.Lock()
	var group []sdktrace.ReadOnlySpan
	if len(h.held) > 0 {
		group = h.take()
	}
	h.mu.Unlock()
	h.pass(group)
}

// ForceFlush implements sdktrace.SpanProcessor.
func (h *handoff) ForceFlush(ctx context.Context) error {
	h.handOver()
	return h.next.ForceFlush(ctx)
}

// Shutdown implements sdktrace.SpanProcessor: it hands over what is held, then shuts
// next down. Spans that end later are dropped.
func (h *handoff) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	group := h.held
	h.held = nil
	if h.timer != nil {
		h.timer.Stop()
	}
	h.mu.Unlock()
	h.pass(group)
	return h.next.Shutdown(ctx)
}
