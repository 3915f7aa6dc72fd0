package natsjs

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/paved-road/paved/telemetry"
)

// fakeJS is a fake of the broker side of jetstream.JetStream for BenchmarkOwnCost:
// PublishMsg acknowledges at once. Every other method panics (the embedded interface
// is nil).
type fakeJS struct {
	jetstream.JetStream
	ack jetstream.PubAck
}

func (f *fakeJS) PublishMsg(_ context.Context, _ *nats.Msg, _ ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	return &f.ack, nil
}

// fakeMsg is a fake delivered JetStream message for BenchmarkOwnCost, with the reply
// subject the broker gives; Ack does nothing. Every other method panics.
type fakeMsg struct {
	jetstream.Msg
	subject string
	data    []byte
	header  nats.Header
	reply   string
}

func (m *fakeMsg) Subject() string      { return m.subject }
func (m *fakeMsg) Data() []byte         { return m.data }
func (m *fakeMsg) Headers() nats.Header { return m.header }
func (m *fakeMsg) Reply() string        { return m.reply }
func (m *fakeMsg) Ack() error           { return nil }

// BenchmarkOwnCost measures the CPU time and allocations Paved's own code adds to a
// message, with the broker's side faked: what BenchmarkAddedCost cannot tell apart
// from the scheduling of a round trip through a real nats-server on a shared machine.
// publish/bare is what a program using nats.go directly does per message besides the
// call (a message id in the header) and publish/paved is Client.PublishMsg with the
// sampler off (trace context, message id, resilience policy, metrics); consume/bare
// is a Consume callback's acknowledgement and consume/paved a worker's handling of a
// delivered message (metadata, trace context, metrics, handler call, acknowledgement).
// The difference of each pair is Paved's own cost:
//
//	go test -run '^$' -bench OwnCost -benchmem -count 6 ./transport/messaging/natsjs
func BenchmarkOwnCost(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	c, err := New(Config{URL: "nats://127.0.0.1:4222"},
		WithTracerProvider(telemetry.DeclareRootNeverSampled(tp)), WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	handled := 0
	// Added before the client "starts" (c.js set), so that it is not created at the broker.
	k, err := c.Consume(ConsumerConfig{Stream: "ORDERS", Durable: "notifier"}, func(context.Context, *Message) error {
		handled++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	js := &fakeJS{ack: jetstream.PubAck{Stream: "ORDERS", Sequence: 1}}
	c.js = js
	data := make([]byte, 1024)
	ctx := context.Background()

	b.Run("publish/bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			msg := &nats.Msg{Subject: "orders.placed", Data: data, Header: nats.Header{}}
			msg.Header[HeaderMsgID] = []string{nuid.Next()}
			// Through the interface, as a program does (the message escapes).
			if _, err := c.js.PublishMsg(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("publish/paved", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.PublishMsg(ctx, &nats.Msg{Subject: "orders.placed", Data: data, Header: nats.Header{}}); err != nil {
				b.Fatal(err)
			}
		}
	})

	delivered := func() *fakeMsg {
		return &fakeMsg{subject: "orders.placed", data: data,
			header: nats.Header{HeaderMsgID: {nuid.Next()}},
			reply:  "$JS.ACK.ORDERS.notifier.1.42.42.1765000000000000000.0"}
	}
	b.Run("consume/bare", func(b *testing.B) {
		handler := func(m jetstream.Msg) {
			_ = m.Ack()
			handled++
		}
		jm := delivered()
		b.ReportAllocs()
		for b.Loop() {
			handler(jm)
		}
	})
	b.Run("consume/paved", func(b *testing.B) {
		k.baseCtx = ctx
		jm, m := delivered(), new(Message)
		b.ReportAllocs()
		for b.Loop() {
			k.handle(jm, m)
			*m = Message{}
		}
	})
}
