// Package notifier is the notifier example service: it consumes the orders.placed
// events the orders example publishes and sends a notification for each. It is written
// as a team should write a Paved service that consumes events:
//
//   - [Setup] builds the NATS client (natsjs) with the service's logger, metrics,
//     tracing and health (the broker connection is a readiness check), runs it as a
//     start and stop hook, declares the dead-letter stream, and starts a durable pull
//     consumer ([Consumer]: MaxConcurrent handlers at most, dead-letter subject
//     dlq.<name> after NATS_CONSUMER_MAX_DELIVER attempts);
//   - [Handler] decodes a message into an [OrderPlaced] and calls the Notify endpoint;
//     a message that cannot be decoded or is invalid goes to the dead-letter subject at
//     once (resilience.Permanent), other errors are retried with backoff. It is made
//     idempotent on the message id (the order id) with natsjs.Idempotency, as delivery
//     is at least once;
//   - [Endpoints] are go-kit endpoints, transport-agnostic: Notify sends (here: logs)
//     and records a [Notification], ListNotifications returns the last ones;
//   - transport.go binds them to NATS and HTTP.
//
// The HTTP API:
//
//	GET /notifications → 200 {"notifications":[{"orderId":"ord-…","message":"…","sentAt":"…"}],"total":1}
//	                     the most recent first, at most [Keep]
//
// Concurrency: a [Log] is safe for concurrent use; its zero value is empty. [Endpoints]
// and [Handler] are safe for concurrent use. [Config] is a plain value.
package notifier
