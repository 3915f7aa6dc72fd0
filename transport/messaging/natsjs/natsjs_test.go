package natsjs_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// newClient builds and starts a client on url, stopped when the test ends.
func newClient(t testing.TB, url string, opts ...natsjs.Option) *natsjs.Client {
	t.Helper()
	c, err := natsjs.New(natsjs.Config{URL: url}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func start(t testing.TB, c *natsjs.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

// The consumer's span is a child of the producer's, in the same trace, the producer's
// a child of the caller's; baggage crosses the message; both follow the messaging
// conventions (kind, name, attributes).
func TestTraceContinuesFromProducerToConsumer(t *testing.T) {
	url := serverURL(t)
	stream, prefix := streamName(t)
	subject := prefix + ".placed"
	newStream(t, url, stream, prefix+".>")

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	type seen struct {
		sc      trace.SpanContext
		baggage string
		id      string
	}
	got := make(chan seen, 1)
	c := newClient(t, url, natsjs.WithTracerProvider(tp))
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "notifier", Subject: subject},
		func(ctx context.Context, m *natsjs.Message) error {
			got <- seen{trace.SpanContextFromContext(ctx), baggage.FromContext(ctx).Member("tenant").Value(), m.ID}
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	start(t, c)

	ctx, root := tp.Tracer("test").Start(context.Background(), "POST /orders")
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	ack, err := c.Publish(ctx, subject, []byte(`{"id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	root.End()
	var s seen
	select {
	case s = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the consumer got no message")
	}
	if s.baggage != "acme" {
		t.Errorf("baggage tenant in the handler: got %q, want acme", s.baggage)
	}
	waitFor(t, 5*time.Second, "consumer span ended", func() bool { return len(rec.Ended()) >= 3 })

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range rec.Ended() {
		spans[sp.Name()] = sp
	}
	send, process := spans["send "+subject], spans["process "+subject]
	if send == nil || process == nil {
		t.Fatalf("spans: got %v, want send %s and process %s", keys(spans), subject, subject)
	}
	if send.SpanKind() != trace.SpanKindProducer || process.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kinds: got %v and %v, want producer and consumer", send.SpanKind(), process.SpanKind())
	}
	if send.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Errorf("producer span's parent: got %v, want the caller's span %v", send.Parent().SpanID(), root.SpanContext().SpanID())
	}
	if process.Parent().SpanID() != send.SpanContext().SpanID() || process.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Errorf("consumer span: parent %v trace %v, want parent %v (the producer span) in trace %v",
			process.Parent().SpanID(), process.SpanContext().TraceID(), send.SpanContext().SpanID(), root.SpanContext().TraceID())
	}
	if s.sc.SpanID() != process.SpanContext().SpanID() {
		t.Errorf("handler's context: span %v, want the process span %v", s.sc.SpanID(), process.SpanContext().SpanID())
	}
	for _, want := range []struct {
		span sdktrace.ReadOnlySpan
		key  string
		val  string
	}{
		{send, "messaging.system", "nats"}, {send, "messaging.destination.name", subject},
		{send, "messaging.operation.type", "send"}, {send, "messaging.message.id", s.id},
		{process, "messaging.system", "nats"}, {process, "messaging.destination.name", subject},
		{process, "messaging.operation.type", "process"}, {process, "messaging.consumer.group.name", "notifier"},
		{process, "messaging.message.id", s.id},
	} {
		if got := attr(want.span, want.key); got != want.val {
			t.Errorf("%s %s: got %q, want %q", want.span.Name(), want.key, got, want.val)
		}
	}
	if ack.Sequence == 0 || s.id == "" {
		t.Errorf("ack sequence %d, message id %q: want both set", ack.Sequence, s.id)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

// A handler that always fails: the message is delivered MaxDeliver times with a
// growing backoff between attempts, then moved to the dead-letter subject with its
// headers and the failure, terminated (nothing left pending), and counted.
func TestFailingHandlerIsRedeliveredWithBackoffThenDeadLettered(t *testing.T) {
	url := serverURL(t)
	stream, prefix := streamName(t)
	subject, dlq := prefix+".placed", prefix+"-dlq.notifier"
	newStream(t, url, stream, prefix+".>")
	newStream(t, url, stream+"-dlq", prefix+"-dlq.>")

	reg := prometheus.NewRegistry()
	var mu sync.Mutex
	var attempts []time.Time
	var attemptNumbers []int
	c := newClient(t, url, natsjs.WithRegisterer(reg))
	const maxDeliver = 3
	backoff := 200 * time.Millisecond
	if _, err := c.Consume(natsjs.ConsumerConfig{
		Stream: stream, Durable: "notifier", Subject: subject, DeadLetterSubject: dlq,
		ConsumerSettings: natsjs.ConsumerSettings{MaxDeliver: maxDeliver, BackoffInitial: backoff, BackoffMax: time.Second},
	}, func(ctx context.Context, m *natsjs.Message) error {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, time.Now())
		attemptNumbers = append(attemptNumbers, m.Attempt)
		return errors.New("template missing")
	}); err != nil {
		t.Fatal(err)
	}

	dead := make(chan *natsjs.Message, 1)
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: stream + "-dlq", Durable: "dlq-reader"},
		func(ctx context.Context, m *natsjs.Message) error {
			dead <- &natsjs.Message{Subject: m.Subject, Data: m.Data, Header: m.Header}
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	orig := natsMsg(subject, "order-7")
	orig.Data = []byte("order 7")
	orig.Header.Set("Trace", "kept")
	if _, err := c.PublishMsg(context.Background(), orig); err != nil {
		t.Fatal(err)
	}
	var d *natsjs.Message
	select {
	case d = <-dead:
	case <-time.After(20 * time.Second):
		t.Fatal("nothing reached the dead-letter subject")
	}
	if string(d.Data) != "order 7" || d.Subject != dlq {
		t.Errorf("dead letter: got %q on %s, want %q on %s", d.Data, d.Subject, "order 7", dlq)
	}
	for k, want := range map[string]string{
		natsjs.HeaderDeadLetterSubject: subject, natsjs.HeaderDeadLetterStream: stream,
		natsjs.HeaderDeadLetterConsumer: "notifier", natsjs.HeaderDeadLetterAttempts: "3",
		natsjs.HeaderDeadLetterError: "template missing",
	} {
		if got := d.Header.Get(k); got != want {
			t.Errorf("dead letter header %s: got %q, want %q", k, got, want)
		}
	}
	if d.Header.Get(natsjs.HeaderDeadLetterMsgID) == "" || d.Header.Get("Trace") != "kept" {
		t.Errorf("dead letter headers %v: want the original's id and its own headers kept", d.Header)
	}

	mu.Lock()
	if len(attempts) != maxDeliver {
		t.Fatalf("attempts: got %d %v, want %d", len(attempts), attemptNumbers, maxDeliver)
	}
	for i := 1; i < len(attempts); i++ {
		want := backoff << (i - 1) // 200ms, then 400ms
		if gap := attempts[i].Sub(attempts[i-1]); gap < want {
			t.Errorf("gap before attempt %d: got %v, want at least %v", i+1, gap, want)
		}
		if attemptNumbers[i] != i+1 {
			t.Errorf("attempt %d: Message.Attempt = %d", i+1, attemptNumbers[i])
		}
	}
	mu.Unlock()

	waitFor(t, 5*time.Second, "the original settled", func() bool {
		info := consumerInfo(t, url, stream, "notifier")
		return info.NumAckPending == 0 && info.NumPending == 0
	})
	labels := []string{"nats", subject, "notifier"}
	if got := testutil.ToFloat64(mustCounter(t, reg, "paved_messaging_dead_lettered_messages_total", labels...)); got != 1 {
		t.Errorf("dead lettered: got %v, want 1", got)
	}
	if got := testutil.ToFloat64(mustCounter(t, reg, "messaging_client_consumed_messages_total", labels...)); got != maxDeliver {
		t.Errorf("consumed: got %v, want %d", got, maxDeliver)
	}
	if n := sampleCount(t, reg, "messaging_process_duration_seconds", map[string]string{
		"messaging_destination_name": subject, "error_type": "_OTHER"}); n != maxDeliver {
		t.Errorf("failed process durations: got %d, want %d", n, maxDeliver)
	}
	testenv.Promtool(t, testenv.Exposition(t, reg))
}

// mustCounter finds the series of name whose first label values are vals (system,
// destination, group) and returns it as a collector for testutil.
func mustCounter(t *testing.T, g prometheus.Gatherer, name string, vals ...string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	found := false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			lv := map[string]string{}
			for _, l := range m.GetLabel() {
				lv[l.GetName()] = l.GetValue()
			}
			if lv["messaging_system"] == vals[0] && lv["messaging_destination_name"] == vals[1] && lv["messaging_consumer_group_name"] == vals[2] {
				total += m.GetCounter().GetValue()
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("%s{%s}: no series", name, strings.Join(vals, ","))
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
	c.Add(total)
	return c
}

// sampleCount sums the histogram sample counts of name over the series matching want.
func sampleCount(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			lv := map[string]string{}
			for _, l := range m.GetLabel() {
				lv[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if lv[k] != v {
					continue series
				}
			}
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

// The connection is a critical readiness check, the lag a warning.
func TestHealthChecks(t *testing.T) {
	url := serverURL(t)
	stream, prefix := streamName(t)
	newStream(t, url, stream, prefix+".>")
	hr, err := health.New(health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hr.Close() })
	hr.MarkStarted()
	c := newClient(t, url, natsjs.WithHealth(hr))
	block := make(chan struct{})
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "slow", Subject: prefix + ".x",
		ConsumerSettings: natsjs.ConsumerSettings{MaxConcurrent: 1, LagWarn: 5}},
		func(ctx context.Context, m *natsjs.Message) error {
			select {
			case <-block:
			case <-ctx.Done():
			}
			return ctx.Err()
		}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r := check(t, hr, natsjs.CheckConnection); r.Status != health.StatusFail {
		t.Errorf("connection check before Start: got %s, want fail (not connected)", r.Status)
	}
	start(t, c)
	t.Cleanup(func() { close(block) })
	waitFor(t, 3*time.Second, "connection check passes after Start", func() bool {
		return check(t, hr, natsjs.CheckConnection).Status == health.StatusPass
	})
	for range 200 {
		if _, err := c.Publish(ctx, prefix+".x", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	rep := readiness(t, hr)
	if rep.Status != health.StatusWarn {
		t.Errorf("readiness with 200 pending over a lag threshold of 5: got %s %+v, want warn", rep.Status, rep.Checks)
	}
}

func readiness(t *testing.T, hr *health.Registry) health.Report {
	t.Helper()
	rep, err := hr.Evaluate(context.Background(), health.Readiness)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func check(t *testing.T, hr *health.Registry, name string) health.CheckResult {
	t.Helper()
	r, err := hr.EvaluateCheck(context.Background(), health.Readiness, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// With a provider declared never to sample a root (what a service with
// OTEL_TRACES_SAMPLER=parentbased_always_off gets), a message published without a
// sampled trace makes no span on either side, yet the caller's trace context still
// reaches the handler; a sampled caller still gets both spans.
func TestRootNeverSampledMakesNoSpans(t *testing.T) {
	url := serverURL(t)
	stream, prefix := streamName(t)
	subject := prefix + ".placed"
	newStream(t, url, stream, prefix+".>")

	rec := tracetest.NewSpanRecorder()
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())), sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
	got := make(chan trace.SpanContext, 2)
	c := newClient(t, url, natsjs.WithTracerProvider(telemetry.DeclareRootNeverSampled(sdk)))
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "notifier", Subject: subject},
		func(ctx context.Context, m *natsjs.Message) error {
			got <- trace.SpanContextFromContext(ctx)
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	start(t, c)

	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	for _, sampled := range []bool{false, true} {
		flags := trace.TraceFlags(0)
		if sampled {
			flags = trace.FlagsSampled
		}
		caller := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
		if _, err := c.Publish(trace.ContextWithRemoteSpanContext(context.Background(), caller), subject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		var sc trace.SpanContext
		select {
		case sc = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("the consumer got no message")
		}
		if sc.TraceID() != tid {
			t.Errorf("sampled %v: handler's trace %s, want the caller's %s", sampled, sc.TraceID(), tid)
		}
		if !sampled {
			if n := len(rec.Ended()); n != 0 {
				t.Errorf("unsampled: got %d spans, want none", n)
			}
			if sc.SpanID() != sid {
				t.Errorf("unsampled: handler's span %s, want the caller's %s (no span between)", sc.SpanID(), sid)
			}
		}
	}
	waitFor(t, 5*time.Second, "the sampled message's two spans", func() bool { return len(rec.Ended()) >= 2 })
	kinds := map[trace.SpanKind]bool{}
	for _, s := range rec.Ended() {
		kinds[s.SpanKind()] = true
	}
	if !kinds[trace.SpanKindProducer] || !kinds[trace.SpanKindConsumer] {
		t.Errorf("sampled: got span kinds %v, want a producer and a consumer span", kinds)
	}
}

// The bulkhead: a consumer runs MaxConcurrent handlers at once, never more, and a
// backlog larger than several pull requests (the first asks for 64) is handled whole,
// each message once.
func TestConsumerRunsMaxConcurrentHandlers(t *testing.T) {
	url := serverURL(t)
	stream, prefix := streamName(t)
	newStream(t, url, stream, prefix+".>")
	const limit, total = 4, 300
	c := newClient(t, url)
	ctx := context.Background()
	var (
		running, peak atomic.Int64
		mu            sync.Mutex
		seen          = map[string]int{}
	)
	release := make(chan struct{})
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "pool",
		ConsumerSettings: natsjs.ConsumerSettings{MaxConcurrent: limit}},
		func(ctx context.Context, m *natsjs.Message) error {
			n := running.Add(1)
			defer running.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release // held until the test has seen the pool full
			mu.Lock()
			seen[string(m.Data)]++
			mu.Unlock()
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	for i := range total {
		if _, err := c.Publish(ctx, prefix+".x", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "the pool to fill", func() bool { return running.Load() == limit })
	close(release)
	waitFor(t, 20*time.Second, "every message handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == total
	})
	if p := peak.Load(); p != limit {
		t.Errorf("at most %d handlers ran at once, want exactly MaxConcurrent = %d", p, limit)
	}
	mu.Lock()
	defer mu.Unlock()
	for data, n := range seen {
		if n != 1 {
			t.Errorf("message %s handled %d times, want once", data, n)
		}
	}
}
