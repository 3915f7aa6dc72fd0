package notifier_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/examples/notifier/notifier"
	"github.com/paved-road/paved/examples/orders/orders"
	"github.com/paved-road/paved/service"
)

// recorder is an in-memory tracer provider for one service.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

// jetStream connects a bare nats.go client to url, for the tests' own publishing and
// reading.
func jetStream(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// ordersInfo is orders' Info as its main makes it with NATS_URL set.
func ordersInfo() service.Info {
	info := orders.Info()
	info.DependsOn = append(info.DependsOn, "nats")
	return info
}

// list is GET /notifications.
func list(t *testing.T, n running) notifier.ListResponse {
	return get[notifier.ListResponse](t, n.url("/notifications"))
}

// complianceScore reads a service's /compliance score and failed rules.
func complianceScore(t *testing.T, s running) (int, []string) {
	rep := get[struct {
		Score  int
		Failed []string
	}](t, s.admin("/compliance?format=json"))
	return rep.Score, rep.Failed
}

// TestOrderReachesNotifier: inventory, orders (publishing on NATS) and notifier in this
// process, on a real NATS server. An order placed over HTTP reaches notifier's handler
// once, in the same trace as the HTTP request; notifier counts it in its messaging
// metrics, lists it at GET /notifications, checks the broker on /readyz, and both
// services score 100.
func TestOrderReachesNotifier(t *testing.T) {
	url := natsServer(t)
	ordTP, ordSpans := recorder(t)
	notTP, notSpans := recorder(t)
	inv := start(t, inventory.Info(), inventory.Setup, map[string]string{"INVENTORY_SEED": "sku-1=10"})
	ord := start(t, ordersInfo(), orders.Setup, map[string]string{"DISCOVERY_STATIC": "inventory=" + inv.HTTPAddr().String(), "NATS_URL": url},
		service.WithTracerProvider(ordTP))
	not := start(t, notifier.Info(), notifier.Setup, map[string]string{"NATS_URL": url}, service.WithTracerProvider(notTP))

	code, body := post(t, ord.url("/orders"), `{"sku":"sku-1","quantity":2}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /orders: got %d, want 201: %s", code, body)
	}
	var o orders.Order
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatal(err)
	}
	var got notifier.ListResponse
	eventually(t, "notifier lists the order", func() bool { got = list(t, not); return got.Total > 0 })
	if got.Total != 1 || len(got.Notifications) != 1 || got.Notifications[0].OrderID != o.ID ||
		got.Notifications[0].Quantity != 2 || got.Notifications[0].SKU != "sku-1" {
		t.Fatalf("GET /notifications: got %+v, want one notification of order %s (2 × sku-1)", got, o.ID)
	}

	// One trace: orders' server span, its producer span, notifier's consumer span.
	var server, producer, consumer trace.SpanContext
	for _, s := range ordSpans.Ended() {
		switch {
		case s.SpanKind() == trace.SpanKindServer && s.Name() == "POST /orders":
			server = s.SpanContext()
		case s.SpanKind() == trace.SpanKindProducer && s.Name() == "send orders.placed":
			producer = s.SpanContext()
		}
	}
	var consumerParent trace.SpanID
	eventually(t, "notifier's consumer span ended", func() bool {
		for _, s := range notSpans.Ended() {
			if s.SpanKind() == trace.SpanKindConsumer && s.Name() == "process orders.placed" {
				consumer, consumerParent = s.SpanContext(), s.Parent().SpanID()
				return true
			}
		}
		return false
	})
	if !server.IsValid() || !producer.IsValid() {
		t.Fatalf("orders' spans: server %v, producer %v, want both recorded", server, producer)
	}
	if consumer.TraceID() != server.TraceID() || producer.TraceID() != server.TraceID() || consumerParent != producer.SpanID() {
		t.Errorf("trace: server %s, producer %s/%s, consumer %s child of %s, want one trace, the consumer a child of the producer",
			server.TraceID(), producer.TraceID(), producer.SpanID(), consumer.TraceID(), consumerParent)
	}
	if got.Notifications[0].TraceID != server.TraceID().String() {
		t.Errorf("notification trace id: got %q, want the order request's %s", got.Notifications[0].TraceID, server.TraceID())
	}

	metrics := text(t, not.admin("/metrics"))
	if !strings.Contains(metrics, `messaging_client_consumed_messages_total{`) ||
		!strings.Contains(metrics, `messaging_destination_name="orders.placed"`) {
		t.Errorf("notifier /metrics: want messaging_client_consumed_messages_total for orders.placed, got\n%s", grep(metrics, "messaging_"))
	}
	if ready := text(t, not.admin("/readyz?verbose")); !strings.Contains(ready, "nats") {
		t.Errorf("notifier /readyz?verbose: got\n%s\nwant the nats check", ready)
	}
	for _, s := range []running{ord, not} {
		if score, failed := complianceScore(t, s); score != 100 {
			t.Errorf("%s compliance: got %d (failed %v), want 100", s.Info().Name, score, failed)
		}
	}

	// The catalog's view of the flow: orders publishes the event API orders.placed
	// (AsyncAPI), notifier uses it (observed), and notifier's consumer passes the
	// consumer rules (dead letter, bounded, idempotent) that make its score above.
	apis := get[struct {
		APIs []catalog.API `json:"apis"`
	}](t, ord.admin("/apis"))
	if !slices.ContainsFunc(apis.APIs, func(a catalog.API) bool {
		return a.Name == orders.SubjectOrderPlaced && a.Kind == catalog.APIKindAsyncAPI
	}) {
		t.Errorf("orders /apis: got %+v, want the asyncapi API orders.placed", apis.APIs)
	}
	if doc := text(t, ord.admin("/apis/orders.placed")); !strings.Contains(doc, `"address":"orders.placed"`) || !strings.Contains(doc, `"reservationId"`) {
		t.Errorf("orders /apis/orders.placed: got %s, want the subject's channel and the event's schema", doc)
	}
	info := get[struct {
		Extra struct {
			Consumes []catalog.APIUse `json:"consumes"`
		} `json:"extra"`
	}](t, not.admin("/info"))
	if !slices.Contains(info.Extra.Consumes, catalog.APIUse{API: orders.SubjectOrderPlaced, Observed: true}) {
		t.Errorf("notifier /info consumes: got %+v, want orders.placed observed", info.Extra.Consumes)
	}
	f := not.Facts()
	if len(f.Consumers) != 1 || f.Consumers[0].DeadLetterSubject != "dlq.notifier" || !f.Consumers[0].Idempotent || f.Consumers[0].MaxConcurrent <= 0 {
		t.Errorf("notifier's consumer facts: got %+v, want one bounded, idempotent consumer with dlq.notifier", f.Consumers)
	}
}

// grep returns the lines of s that contain sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// declareOrders declares the ORDERS stream as orders does, with a duplicate window of
// dup (0: orders' own).
func declareOrders(t *testing.T, js jetstream.JetStream, dup time.Duration) {
	t.Helper()
	cfg := orders.StreamConfig()
	if dup > 0 {
		cfg.Duplicates = dup
	}
	if _, err := js.CreateOrUpdateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

// publish sends body on orders.placed with message id id, as orders does.
func publish(t *testing.T, js jetstream.JetStream, id, body string) {
	t.Helper()
	msg := &nats.Msg{Subject: "orders.placed", Data: []byte(body), Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, id)
	if _, err := js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

func event(id string) string {
	return `{"orderId":"` + id + `","sku":"sku-1","quantity":1,"reservationId":"res-1"}`
}

// TestRedeliveredMessageNotifiesOnce: a message delivered again after it was handled
// (here: published again with the same id once the stream's duplicate window has
// passed, as a redelivery looks to the handler) is skipped by the idempotency helper.
func TestRedeliveredMessageNotifiesOnce(t *testing.T) {
	url := natsServer(t)
	js := jetStream(t, url)
	declareOrders(t, js, 100*time.Millisecond)
	not := start(t, notifier.Info(), notifier.Setup, map[string]string{"NATS_URL": url})

	publish(t, js, "ord-1", event("ord-1"))
	eventually(t, "ord-1 notified", func() bool { return list(t, not).Total == 1 })
	time.Sleep(300 * time.Millisecond) // past the stream's duplicate window: stored again
	publish(t, js, "ord-1", event("ord-1"))
	publish(t, js, "ord-2", event("ord-2"))
	eventually(t, "ord-2 notified", func() bool {
		l := list(t, not)
		return len(l.Notifications) > 0 && l.Notifications[0].OrderID == "ord-2"
	})
	if l := list(t, not); l.Total != 2 {
		t.Errorf("notifications: got %d (%+v), want 2: ord-1 once, ord-2", l.Total, l.Notifications)
	}
}

// TestInvalidEventDeadLettered: a body that is not an OrderPlaced, and an invalid one,
// go to dlq.notifier at their first attempt, with the Paved-Dead-Letter-* headers; no
// notification is sent, and the consumer goes on with the next message.
func TestInvalidEventDeadLettered(t *testing.T) {
	url := natsServer(t)
	js := jetStream(t, url)
	declareOrders(t, js, 0)
	not := start(t, notifier.Info(), notifier.Setup, map[string]string{"NATS_URL": url, "NATS_CONSUMER_BACKOFF_INITIAL": "1m", "NATS_CONSUMER_BACKOFF_MAX": "1m"})

	publish(t, js, "bad-1", "not json")
	publish(t, js, "bad-2", `{"orderId":"ord-9","sku":"","quantity":0}`)
	publish(t, js, "ord-3", event("ord-3"))
	eventually(t, "ord-3 notified", func() bool { return list(t, not).Total > 0 })

	cons, err := js.CreateOrUpdateConsumer(context.Background(), "DLQ_NOTIFIER", jetstream.ConsumerConfig{FilterSubject: "dlq.notifier"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]nats.Header{}
	eventually(t, "two dead letters", func() bool {
		batch, err := cons.FetchNoWait(10)
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			got[m.Headers().Get("Paved-Dead-Letter-Msg-Id")] = m.Headers()
			_ = m.Ack()
		}
		return len(got) >= 2
	})
	for id, want := range map[string]string{"bad-1": "is not an OrderPlaced", "bad-2": "sku is required; quantity must be at least 1"} {
		h := got[id]
		if h == nil || h.Get("Paved-Dead-Letter-Attempts") != "1" || !strings.Contains(h.Get("Paved-Dead-Letter-Error"), want) ||
			h.Get("Paved-Dead-Letter-Consumer") != "notifier" || h.Get("Paved-Dead-Letter-Subject") != "orders.placed" {
			t.Errorf("dead letter %s: got headers %v, want attempt 1 from consumer notifier, error %q", id, h, want)
		}
	}
	if l := list(t, not); l.Total != 1 || l.Notifications[0].OrderID != "ord-3" {
		t.Errorf("notifications: got %+v, want ord-3 only", l)
	}
	metrics := text(t, not.admin("/metrics"))
	if dl := grep(metrics, "paved_messaging_dead_lettered_messages_total{"); !strings.Contains(dl, `messaging_destination_name="orders.placed"`) || !strings.HasSuffix(dl, " 2") {
		t.Errorf("notifier /metrics: got %q, want 2 messages of orders.placed dead-lettered", dl)
	}
}

// TestStartNeedsOrdersStream: without the ORDERS stream, notifier does not start, and
// says to start orders first.
func TestStartNeedsOrdersStream(t *testing.T) {
	url := natsServer(t)
	s, run := build(t, notifier.Info(), notifier.Setup, map[string]string{"NATS_URL": url})
	err := run(context.Background())
	_ = s.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), "stream ORDERS does not exist") || !strings.Contains(err.Error(), "start orders first") {
		t.Errorf("Run without the ORDERS stream: got %v, want an error saying to start orders first", err)
	}
}

// TestConfigNeedsNATSURL: NATS_URL is required; a bad consumer setting is named too,
// in the same error.
func TestConfigNeedsNATSURL(t *testing.T) {
	_, err := service.Load[notifier.Config](service.WithEnviron(map[string]string{"NATS_CONSUMER_MAX_CONCURRENT": "-1"}))
	if err == nil || !strings.Contains(err.Error(), "NATS_URL") || !strings.Contains(err.Error(), "NATS_CONSUMER_MAX_CONCURRENT") {
		t.Errorf("Load: got %v, want NATS_URL and NATS_CONSUMER_MAX_CONCURRENT named", err)
	}
}
