package natsjs

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/telemetry"
)

// HeaderMsgID is the header that carries a message's id: JetStream de-duplicates
// messages with the same id within the stream's duplicate window, and consumers key
// idempotency on it.
const HeaderMsgID = jetstream.MsgIDHeader

// producerKind and consumerKind are the span start options, made once (boxing an
// option per message would allocate). Read-only.
var (
	producerKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer)}
	consumerKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}
	// noSpan stands for the span of a message that gets none (its trace is not sampled
	// and the provider never samples a root): ending it, or marking it, does nothing.
	noSpan = trace.SpanFromContext(context.Background())
)

// Publish sends data to subject through JetStream and returns the stream's
// acknowledgement; see [Client.PublishMsg].
func (c *Client) Publish(ctx context.Context, subject string, data []byte) (*jetstream.PubAck, error) {
	return c.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}})
}

// PublishMsg sends msg through JetStream and returns the stream's acknowledgement: a
// message acknowledged is stored by the stream. It
//   - gives the message an id (header Nats-Msg-Id) unless it has one, so that the
//     stream stores it once however many times it is sent (within the stream's
//     duplicate window, 2 minutes by default);
//   - writes the trace context and baggage of ctx, under a producer span
//     "send <subject>", into its headers;
//   - applies the publish policy: the acknowledgement is awaited under its attempt
//     timeout, retried (safe: same id) within its retry budget, and refused at once
//     with an error matching resilience.ErrOpen while its breaker is open.
//
// msg.Header is written to; a nil Header is allocated.
func (c *Client) PublishMsg(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	c.mu.Lock()
	js, closing := c.js, c.closing
	c.mu.Unlock()
	if js == nil || closing {
		return nil, ErrNotStarted
	}
	if msg.Header == nil {
		msg.Header = nats.Header{}
	}
	id := msg.Header.Get(HeaderMsgID)
	if id == "" {
		id = nuid.Next()
		msg.Header[HeaderMsgID] = []string{id}
	}
	series := c.m.send(msg.Subject)
	start := time.Now()
	span := noSpan
	if !c.rootNeverSampled || trace.SpanContextFromContext(ctx).IsSampled() {
		ctx, span = c.tracer.Start(ctx, series.spanName, producerKind...)
	}
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("messaging.system", system),
			attribute.String("messaging.destination.name", msg.Subject),
			attribute.String("messaging.operation.name", "send"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.message.id", id),
			attribute.Int("messaging.message.body.size", len(msg.Data)),
		)
	}
	telemetry.Inject(ctx, c.prop, telemetry.HeaderCarrier(msg.Header))

	ack, err := resilience.Do(ctx, c.policy, func(ctx context.Context) (*jetstream.PubAck, error) {
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil && permanentPublishError(err) {
			return nil, resilience.Permanent(err)
		}
		return ack, err
	})
	d := time.Since(start).Seconds()
	if err != nil {
		et := errorType(err)
		c.m.sent.WithLabelValues(system, msg.Subject, "send", et).Inc()
		c.m.operation.WithLabelValues(system, msg.Subject, "send", et).Observe(d)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(attribute.String("error.type", et))
		span.End()
		return nil, err
	}
	series.sent.Inc()
	series.operation.Observe(d)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int64("messaging.nats.stream.sequence", int64(ack.Sequence)))
	}
	span.End()
	return ack, nil
}

// permanentPublishError reports whether err would fail again on retry: the message
// or subject is wrong, not the broker.
func permanentPublishError(err error) bool {
	return errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) ||
		errors.Is(err, nats.ErrInvalidMsg) || errors.Is(err, jetstream.ErrInvalidSubject)
}
