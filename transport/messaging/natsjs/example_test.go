package natsjs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// Idempotency skips a message whose id was processed before: a redelivery after a lost
// acknowledgement does not send the e-mail twice.
func ExampleIdempotency() {
	store := natsjs.NewMemoryStore(10*time.Minute, 100000)
	handle := natsjs.Idempotency{
		Store: store,
		OnDuplicate: func(_ context.Context, m *natsjs.Message) {
			fmt.Println("duplicate skipped:", m.ID)
		},
	}.Wrap(func(_ context.Context, m *natsjs.Message) error {
		fmt.Println("e-mail sent for", m.ID)
		return nil
	})

	m := &natsjs.Message{Subject: "orders.placed", ID: "order-42", Attempt: 1}
	_ = handle(context.Background(), m)
	m.Attempt = 2 // delivered again
	_ = handle(context.Background(), m)
	// Output:
	// e-mail sent for order-42
	// duplicate skipped: order-42
}

// telemetry.HeaderCarrier carries trace context in NATS headers, for code that
// publishes with nats.go directly; natsjs uses the same carrier.
func Example_headerCarrier() {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("example").Start(context.Background(), "work")
	defer span.End()

	msg := nats.NewMsg("orders.placed")
	propagation.TraceContext{}.Inject(ctx, telemetry.HeaderCarrier(msg.Header))
	got := telemetry.ExtractHeaders(context.Background(), propagation.TraceContext{}, msg.Header)
	fmt.Println(len(msg.Header.Get("traceparent")), span.SpanContext().TraceID() == spanContext(got).TraceID())
	// Output: 55 true
}

// New validates the configuration and lists every problem at once.
func ExampleNew() {
	_, err := natsjs.New(natsjs.Config{URL: "http://user:secret@nats:4222", Consumer: natsjs.ConsumerSettings{MaxDeliver: -1}})
	fmt.Println(err)
	// Output:
	// telemetry: NATS_URL="http://user:xxxxx@nats:4222" is not valid: want the scheme nats, tls, ws or wss
	// telemetry: NATS_CONSUMER_MAX_DELIVER="-1" is not valid: want a positive number of attempts, such as 5
}

// AsyncAPIDocument is the event API Register publishes for a declared event: one
// channel, the subject, with its message and a send operation.
func ExampleAsyncAPIDocument() {
	doc, err := natsjs.AsyncAPIDocument("orders", natsjs.Event{
		Subject: "orders.placed",
		Schema:  json.RawMessage(`{"type":"object","properties":{"orderId":{"type":"string"}}}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	_ = json.Indent(&out, doc, "", "  ")
	fmt.Println(out.String())
	// Output:
	// {
	//   "asyncapi": "3.0.0",
	//   "info": {
	//     "title": "orders.placed",
	//     "version": "1.0.0",
	//     "description": "Events published on the NATS JetStream subject orders.placed by orders."
	//   },
	//   "defaultContentType": "application/json",
	//   "channels": {
	//     "orders_placed": {
	//       "address": "orders.placed",
	//       "messages": {
	//         "orders_placed": {
	//           "name": "orders.placed",
	//           "contentType": "application/json",
	//           "payload": {
	//             "type": "object",
	//             "properties": {
	//               "orderId": {
	//                 "type": "string"
	//               }
	//             }
	//           }
	//         }
	//       }
	//     }
	//   },
	//   "operations": {
	//     "send_orders_placed": {
	//       "action": "send",
	//       "channel": {
	//         "$ref": "#/channels/orders_placed"
	//       },
	//       "messages": [
	//         {
	//           "$ref": "#/channels/orders_placed/messages/orders_placed"
	//         }
	//       ]
	//     }
	//   }
	// }
}
