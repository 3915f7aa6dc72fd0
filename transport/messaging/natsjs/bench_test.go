package natsjs_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
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
// bulkhead workers); paved-noop-tracer is the same for a client built without a tracer
// provider. Beside the wall time per message it reports cpu-µs/op, the CPU time (user
// and system) this process spent per message, publisher and consumer together (the
// broker runs in a process of its own). The variants run one after the other, so the
// machine's drift between them blurs their difference; BenchmarkAddedCost measures that
// from one run, and BenchmarkOwnCost Paved's own code alone:
//
//	go test -run '^$' -bench PublishConsume -benchmem -count 6 ./transport/messaging/natsjs
func BenchmarkPublishConsume(b *testing.B) {
	url := serverURL(b)
	run := func(b *testing.B, p *pipeline) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p.data)))
		b.ResetTimer()
		cpu := cpuTime(b)
		p.run(b, b.N)
		reportCPU(b, cpu)
	}
	b.Run("bare", func(b *testing.B) { run(b, barePipeline(b, url, 0)) })
	b.Run("paved", func(b *testing.B) { run(b, pavedPipeline(b, url, sampledOff(b))) })
	b.Run("paved-noop-tracer", func(b *testing.B) { run(b, pavedPipeline(b, url)) })
}

// BenchmarkAddedCost tells what the full Paved path adds to each message, as
// BenchmarkPublishConsume's bare and paved variants do, but from one run in which the
// pipelines stand side by side and take turns in blocks of 250 messages (in an order
// that rotates each round): the load of a shared machine drifts between two
// sub-benchmarks more than the few microseconds measured, and far less between two
// blocks a few tens of milliseconds apart. The pipelines are bare (nats.go, the handler
// inline in the subscription's callback), bare-pool (nats.go, the callback handing each
// message to a pool of 16 workers, as a consumer with bounded concurrency built on
// nats.go does) and paved (the sampler off, 16 workers). It reports each one's CPU time
// per message (median over the blocks), added-cpu-µs/msg, the median over the rounds of
// paved minus bare, and over-pool-cpu-µs/msg, of paved minus bare-pool. An op is one
// message through each pipeline. publishers=1 publishes one message at a time (each
// waits for the consumer's previous round trip to end: every step wakes a goroutine
// from sleep), publishers=16 from 16 goroutines at once, as a busy service does:
//
//	go test -run '^$' -bench AddedCost -benchtime 20000x -count 5 ./transport/messaging/natsjs
func BenchmarkAddedCost(b *testing.B) {
	url := serverURL(b)
	for _, publishers := range []int{1, 16} {
		b.Run(fmt.Sprintf("publishers=%d", publishers), func(b *testing.B) {
			pipes := []*pipeline{barePipeline(b, url, 0), barePipeline(b, url, natsjs.DefaultMaxConcurrent), pavedPipeline(b, url, sampledOff(b))}
			for _, p := range pipes {
				p.publishers = publishers
			}
			const bare, pool, paved = 0, 1, 2
			const block = 250
			cpu := make([][]float64, len(pipes)) // per pipeline, per round: µs a message
			b.ResetTimer()
			for done, round := 0, 0; done < b.N; done, round = done+block, round+1 {
				n := min(block, b.N-done)
				for j := range pipes {
					i := (j + round) % len(pipes)
					start := cpuTime(b)
					pipes[i].run(b, n)
					cpu[i] = append(cpu[i], float64(cpuTime(b)-start)/float64(time.Microsecond)/float64(n))
				}
			}
			b.StopTimer()
			diff := func(x, y []float64) []float64 {
				d := make([]float64, len(x))
				for i := range x {
					d[i] = x[i] - y[i]
				}
				return d
			}
			b.ReportMetric(median(diff(cpu[paved], cpu[bare])), "added-cpu-µs/msg")
			b.ReportMetric(median(diff(cpu[paved], cpu[pool])), "over-pool-cpu-µs/msg")
			b.ReportMetric(median(cpu[bare]), "bare-cpu-µs/msg")
			b.ReportMetric(median(cpu[pool]), "bare-pool-cpu-µs/msg")
			b.ReportMetric(median(cpu[paved]), "paved-cpu-µs/msg")
		})
	}
}

// median returns the median of v (which it sorts).
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// pipeline publishes 1 KiB messages, each awaiting the stream's acknowledgement, to a
// stream of its own that a durable pull consumer of its own reads and acknowledges.
type pipeline struct {
	data    []byte
	publish func(data []byte) error
	handled atomic.Int64
	sent    int64
	// publishers is the number of goroutines publishing at once; 0 or 1: one.
	publishers int
}

// run publishes n messages and waits until the consumer has handled them all.
func (p *pipeline) run(b *testing.B, n int) {
	if p.publishers <= 1 {
		for range n {
			if err := p.publish(p.data); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		var wg sync.WaitGroup
		var failed atomic.Pointer[error]
		for w := range p.publishers {
			wg.Go(func() {
				for i := w; i < n; i += p.publishers {
					if err := p.publish(p.data); err != nil {
						failed.Store(&err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := failed.Load(); err != nil {
			b.Fatal(*err)
		}
	}
	p.sent += int64(n)
	for p.handled.Load() < p.sent {
		time.Sleep(50 * time.Microsecond)
	}
}

// barePipeline is the baseline: nats.go's jetstream package, a message id on each
// message, and a Consume callback that acknowledges, itself (workers 0) or through a
// pool of workers it hands each message to.
func barePipeline(b *testing.B, url string, workers int) *pipeline {
	stream, prefix := streamName(b)
	suffix := fmt.Sprintf("_bare%d", workers)
	stream, prefix = stream+suffix, prefix+suffix
	newStream(b, url, stream, prefix+".>")
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	p := &pipeline{data: make([]byte, 1024)}
	ack := func(m jetstream.Msg) {
		_ = m.Ack()
		p.handled.Add(1)
	}
	handle := ack
	if workers > 0 {
		work, done := make(chan jetstream.Msg), make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					select {
					case m := <-work:
						ack(m)
					case <-done:
						return
					}
				}
			})
		}
		b.Cleanup(func() { close(done); wg.Wait() }) // after cc.Stop (cleanups run last first)
		handle = func(m jetstream.Msg) {
			select {
			case work <- m:
			case <-done:
			}
		}
	}
	cc, err := cons.Consume(handle)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cc.Stop)
	subject := prefix + ".x"
	p.publish = func(data []byte) error {
		msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
		_, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(nats.NewInbox()))
		return err
	}
	return p
}

// pavedPipeline publishes and consumes through a natsjs client built with opts: trace
// context, message id, resilience policy, metrics, bulkhead workers.
func pavedPipeline(b *testing.B, url string, opts ...natsjs.Option) *pipeline {
	stream, prefix := streamName(b)
	stream, prefix = stream+"_paved", prefix+"_paved"
	newStream(b, url, stream, prefix+".>")
	c, err := natsjs.New(natsjs.Config{URL: url}, append(opts, natsjs.WithRegisterer(prometheus.NewRegistry()))...)
	if err != nil {
		b.Fatal(err)
	}
	p := &pipeline{data: make([]byte, 1024)}
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: stream, Durable: "bench"},
		func(ctx context.Context, m *natsjs.Message) error {
			p.handled.Add(1)
			return nil
		}); err != nil {
		b.Fatal(err)
	}
	start(b, c)
	ctx := context.Background()
	subject := prefix + ".x"
	p.publish = func(data []byte) error {
		_, err := c.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}})
		return err
	}
	return p
}

// sampledOff is what telemetry.NewTracing gives a service whose sampler is off
// (parentbased_always_off): the SDK, declared never to sample a root.
func sampledOff(b *testing.B) natsjs.Option {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return natsjs.WithTracerProvider(telemetry.DeclareRootNeverSampled(tp))
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
