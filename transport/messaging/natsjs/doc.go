// Package natsjs carries events between services on NATS JetStream
// (github.com/nats-io/nats.go), with what Paved gives request/response: trace context
// across the message, metrics, resilience, health and a graceful stop.
//
// A [Client] is built from a [Config] read from the environment (NATS_URL, credentials,
// TLS, the publish policy and the consumers' defaults; see docs/messaging.md) and the
// service's pieces passed as options: its logger, Prometheus registerer, tracer
// provider, propagator, health registry and publish policy. A main wires it as a start
// and stop hook, and registers its event flows with the service for the catalog:
//
//	mq, err := natsjs.New(cfg.NATS, natsjs.WithName(s.Info().Name), natsjs.WithLogger(s.Logger()),
//		natsjs.WithRegisterer(s.Registerer()), natsjs.WithTracerProvider(s.TracerProvider()),
//		natsjs.WithPropagator(s.Propagator()), natsjs.WithHealth(s.Health()))
//	mq.Consume(natsjs.ConsumerConfig{Stream: "ORDERS", Durable: "notifier", Subject: "orders.placed",
//		DeadLetterSubject: "dlq.notifier", Idempotent: true}, handle)
//	mq.Register(s)
//	s.Append(service.Hook{Name: "nats", OnStart: mq.Start, OnStop: mq.Stop})
//
// Publish ([Client.Publish], [Client.PublishMsg]) gives every message an id
// (Nats-Msg-Id, de-duplicated by the stream), writes W3C trace context and baggage in
// its headers under a producer span "send <subject>", awaits the stream's
// acknowledgement under the policy's attempt timeout, and applies the policy's breaker
// and retry budget (retries are safe: same id).
//
// Consume ([Client.Consume]) runs a durable pull consumer with explicit
// acknowledgement: MaxConcurrent workers (the bulkhead) call the [Handler] under a
// consumer span "process <subject>", a child of the producer's span. A handler's nil
// acknowledges the message; an error gives it back with a delay that doubles per
// attempt, and after MaxDeliver attempts (or at once for resilience.Permanent) the
// message goes to the consumer's dead-letter subject with the Paved-Dead-Letter-*
// headers and is terminated. Delivery is at least once: [Idempotency] with an
// [IdempotencyStore] ([MemoryStore], or the service's own) skips a message processed
// before.
//
// The catalog ([Client.Register]): every [Event] declared with [Client.Publishes] is
// an API of kind asyncapi named after its subject, published with an AsyncAPI 3
// document ([AsyncAPIDocument]); every consumer's literal subject is an API the service
// uses, observed; the consumers are compliance facts (dead-letter subject, concurrency
// bound, idempotent handling declared). The catalog draws the flow from publisher to
// consumer by the API's name.
//
// Health: the connection is a critical readiness check (nats), the consumers' lag a
// non-critical one (nats-lag) that warns above LagWarn. Stop: the consumers stop
// fetching the moment readiness fails at the shutdown; [Client.Stop] gives back the
// messages received but not handled, lets the handlers in flight finish (cancelling
// them when its context ends, their messages then given back), then drains the
// connection so every acknowledgement and publish is flushed.
//
// Metrics follow the OpenTelemetry messaging conventions as Prometheus shows them
// (docs/metrics.md); nothing is registered without [WithRegisterer], and without
// [WithTracerProvider] no span is recorded. There is no package-level state.
//
// Concurrency: a Client, its Consumers and a MemoryStore are safe for concurrent use.
// The zero Config is not valid (NATS_URL is required); its other zero fields take the
// documented defaults. The zero Client is not usable: build one with [New].
package natsjs
