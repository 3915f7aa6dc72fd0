package natsjs_test

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// BenchmarkPublishConsume publishes b.N messages of 1 KiB, each awaiting the stream's
// acknowledgement, and waits until a durable pull consumer has handled and
// acknowledged them all: through bare nats.go (jetstream) and through the full Paved
// path (trace context with the sampler off, message id, resilience policy, metrics,
// bulkhead workers); paved-noop-tracer is the same without a tracer provider, which
// tells Paved's own cost from the OpenTelemetry SDK's non-recording spans. Beside the
// wall time per message it reports cpu-µs/op, the CPU time (user and system) this
// process spent per message, publisher and consumer together: the broker runs in a process of its own, so the difference between the two
// variants is what Paved adds to each message, less blurred by the scheduling on a
// loaded machine than the wall time. bench/README.md reports both from one run:
//
//	go test -run '^$' -bench PublishConsume -benchmem -count 6 ./transport/messaging/natsjs
func BenchmarkPublishConsume(b *testing.B) {
	url := serverURL(b)
	data := make([]byte, 1024)

	b.Run("bare", func(b *testing.B) {
		stream, prefix := streamName(b)
		newStream(b, url, stream, prefix+".>")
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx := context.Background()
		cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			b.Fatal(err)
		}
		var handled atomic.Int64
		cc, err := cons.Consume(func(m jetstream.Msg) {
			_ = m.Ack()
			handled.Add(1)
		})
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Stop()
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		cpu := cpuTime(b)
		for i := 0; i < b.N; i++ {
			msg := &nats.Msg{Subject: prefix + ".x", Data: data, Header: nats.Header{}}
			if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(nats.NewInbox())); err != nil {
				b.Fatal(err)
			}
		}
		for handled.Load() < int64(b.N) {
			time.Sleep(50 * time.Microsecond)
		}
		reportCPU(b, cpu)
	})

	// paved publishes and consumes through a natsjs client built with opts.
	paved := func(b *testing.B, opts ...natsjs.Option) {
		stream, prefix := streamName(b)
		newStream(b, url, stream, prefix+".>")
		c, err := natsjs.New(natsjs.Config{URL: url}, append(opts, natsjs.WithRegisterer(prometheus.NewRegistry()))...)
		if err != nil {
			b.Fatal(err)
		}
		var handled atomic.Int64
		if _, err := c.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "bench"},
			func(ctx context.Context, m *natsjs.Message) error {
				handled.Add(1)
				return nil
			}); err != nil {
			b.Fatal(err)
		}
		start(b, c)
		ctx := context.Background()
		subject := prefix + ".x"
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		cpu := cpuTime(b)
		for i := 0; i < b.N; i++ {
			if _, err := c.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}); err != nil {
				b.Fatal(err)
			}
		}
		for handled.Load() < int64(b.N) {
			time.Sleep(50 * time.Microsecond)
		}
		reportCPU(b, cpu)
	}
	b.Run("paved", func(b *testing.B) {
		// What telemetry.NewTracing gives a service whose sampler is off
		// (parentbased_always_off): the SDK, declared never to sample a root.
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
		defer func() { _ = tp.Shutdown(context.Background()) }()
		paved(b, natsjs.WithTracerProvider(telemetry.DeclareRootNeverSampled(tp)))
	})
	b.Run("paved-noop-tracer", func(b *testing.B) { paved(b) })
}

// cpuTime returns the CPU time (user and system) the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time used since since, per message, as cpu-µs/op.
func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-since)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}
