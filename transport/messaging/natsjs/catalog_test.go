package natsjs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// newService returns a service on loopback ports, for Register.
func newService(t *testing.T, name string) *service.Service {
	t.Helper()
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "5s"}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Name: name, Owner: "team-a"}, &cfg, service.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const orderSchema = `{"type": "object", "required": ["orderId"], "properties": {"orderId": {"type": "string"}}}`

// Register publishes every declared event as an asyncapi API named after its subject,
// with an AsyncAPI 3 document of that channel, served on the admin port; a consumer's
// literal subject becomes an observed use; the consumers join the compliance facts.
func TestRegisterPublishesEventAPIsAndUses(t *testing.T) {
	s := newService(t, "orders")
	c, err := natsjs.New(natsjs.Config{URL: "nats://127.0.0.1:4222"}, natsjs.WithName("orders"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publishes(natsjs.Event{Subject: "orders.placed", Summary: "An order was placed.", Schema: json.RawMessage(orderSchema)}); err != nil {
		t.Fatal(err)
	}
	h := func(ctx context.Context, m *natsjs.Message) error { return nil }
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: "PAYMENTS", Durable: "orders", Subject: "payments.settled",
		DeadLetterSubject: "dlq.orders", Idempotent: true}, h); err != nil {
		t.Fatal(err)
	}
	if err := c.Register(s); err != nil {
		t.Fatal(err)
	}
	// Declared and added after Register: registered as they come.
	if err := c.Publishes(natsjs.Event{Subject: "orders.cancelled", Version: "2.1.0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Consume(natsjs.ConsumerConfig{Stream: "AUDIT", Durable: "orders-audit", Subject: "audit.>"}, h); err != nil {
		t.Fatal(err)
	}
	if err := c.Register(s); err == nil {
		t.Error("second Register: got nil, want an error")
	}

	var apis []string
	for _, a := range s.APIs() {
		apis = append(apis, a.Name+" "+string(a.Kind)+" "+a.Version+" "+a.MediaType)
	}
	want := []string{"orders.placed asyncapi 1.0.0 " + catalog.MediaTypeAsyncAPI, "orders.cancelled asyncapi 2.1.0 " + catalog.MediaTypeAsyncAPI}
	if !slices.Equal(apis, want) {
		t.Errorf("APIs: got %v, want %v", apis, want)
	}

	f := s.Facts()
	wantConsumers := []compliance.Consumer{
		{Name: "orders", Subject: "payments.settled", DeadLetterSubject: "dlq.orders", MaxConcurrent: natsjs.DefaultMaxConcurrent, Idempotent: true},
		{Name: "orders-audit", Subject: "audit.>", MaxConcurrent: natsjs.DefaultMaxConcurrent},
	}
	if !slices.Equal(f.Consumers, wantConsumers) {
		t.Errorf("facts: got consumers %+v, want %+v", f.Consumers, wantConsumers)
	}
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	results := map[string]compliance.RuleResult{}
	for _, r := range rep.Results {
		results[r.ID] = r
	}
	for id, st := range map[string]compliance.Status{"consumer-dead-letter": compliance.StatusFail, "consumer-bounded-concurrency": compliance.StatusPass, "consumer-idempotent": compliance.StatusFail} {
		if r := results[id]; r.Status != st || (st == compliance.StatusFail && !strings.Contains(r.Message, `consumer "orders-audit"`)) {
			t.Errorf("rule %s: got %+v, want %s naming orders-audit", id, r, st)
		}
	}

	runService(t, s)
	admin := "http://" + s.AdminAddr().String()
	resp, err := http.Get(admin + "/apis/orders.placed")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != catalog.MediaTypeAsyncAPI {
		t.Fatalf("GET /apis/orders.placed: %d %s", resp.StatusCode, ct)
	}
	var doc struct {
		AsyncAPI string `json:"asyncapi"`
		Info     struct{ Title, Version string }
		Channels map[string]struct {
			Address  string `json:"address"`
			Messages map[string]struct {
				ContentType string          `json:"contentType"`
				Payload     json.RawMessage `json:"payload"`
			} `json:"messages"`
		} `json:"channels"`
		Operations map[string]struct {
			Action  string `json:"action"`
			Channel struct {
				Ref string `json:"$ref"`
			} `json:"channel"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	ch := doc.Channels["orders_placed"]
	msg := ch.Messages["orders_placed"]
	op := doc.Operations["send_orders_placed"]
	var schema map[string]any
	_ = json.Unmarshal(msg.Payload, &schema)
	if doc.AsyncAPI != "3.0.0" || doc.Info.Title != "orders.placed" || ch.Address != "orders.placed" || msg.ContentType != "application/json" ||
		schema["type"] != "object" || op.Action != "send" || op.Channel.Ref != "#/channels/orders_placed" {
		t.Errorf("document: got %s", body)
	}

	resp, err = http.Get(admin + "/info")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Extra struct {
			Consumes []catalog.APIUse `json:"consumes"`
		} `json:"extra"`
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The wildcard consumer names no one API: no use recorded for it.
	if want := []catalog.APIUse{{API: "payments.settled", Observed: true}}; !slices.Equal(info.Extra.Consumes, want) {
		t.Errorf("/info consumes: got %+v, want %+v", info.Extra.Consumes, want)
	}
}

// Publishes reports every invalid event at once, naming the field and the value.
func TestPublishesRejectsBadEvents(t *testing.T) {
	c, err := natsjs.New(natsjs.Config{URL: "nats://127.0.0.1:4222"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Publishes(
		natsjs.Event{Subject: "orders.*"},
		natsjs.Event{Subject: "ok.subject", ContentType: "json", Schema: json.RawMessage(`[1]`)},
		natsjs.Event{Subject: "ok.subject", Version: "1 0"},
	)
	for _, want := range []string{`Publishes[0].Subject = "orders.*"`, `Publishes[1].ContentType = "json"`, `Publishes[1].Schema`, `Publishes[2].Version = "1 0"`, `Publishes[2].Subject = "ok.subject": declared twice`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to name %s", err, want)
		}
	}
	if err := c.Publishes(natsjs.Event{Subject: "ok.subject"}); err != nil {
		t.Errorf("a good event after a refused batch: %v", err)
	}
}

// runService runs s until the test ends, once it is ready.
func runService(t *testing.T, s *service.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
}

// The documents natsjs publishes are valid AsyncAPI 3.0.0: checked against the
// official JSON Schema (testdata/SOURCE), with and without a payload schema, and a
// document the schema refuses is caught (so the check checks).
func TestAsyncAPIDocumentIsValidAsyncAPI3(t *testing.T) {
	f, err := os.Open("testdata/asyncapi-3.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("asyncapi-3.0.0.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("asyncapi-3.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	validate := func(b []byte) error {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return err
		}
		return schema.Validate(v)
	}
	for _, e := range []natsjs.Event{
		{Subject: "orders.placed", Summary: "An order was placed.", Schema: json.RawMessage(orderSchema)},
		{Subject: "orders.cancelled", Version: "2.1.0", ContentType: "application/cloudevents+json"},
	} {
		b, err := natsjs.AsyncAPIDocument("orders", e)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(b); err != nil {
			t.Errorf("%s: not valid AsyncAPI 3.0.0: %v\n%s", e.Subject, err, b)
		}
	}
	bad, _ := natsjs.AsyncAPIDocument("orders", natsjs.Event{Subject: "orders.placed"})
	bad = bytes.Replace(bad, []byte(`"action":"send"`), []byte(`"action":"publish"`), 1)
	if err := validate(bad); err == nil {
		t.Errorf("a v2 action in a v3 document: got valid, want the schema to refuse it:\n%s", bad)
	}
}
