// Command notifier is the notifier example service: it consumes the orders.placed
// events of the orders example from NATS JetStream (a durable pull consumer, bounded
// concurrency, retries with backoff, a dead-letter subject, idempotent on the order id)
// and sends a notification for each. The code is in package notifier.
//
//	nats-server -js &                       # or: go run ./examples/quickstart
//	NATS_URL=nats://127.0.0.1:4222 go run ./examples/inventory &
//	NATS_URL=nats://127.0.0.1:4222 go run ./examples/orders &
//	go run ./examples/notifier
//	curl -X POST localhost:8082/orders -H 'Content-Type: application/json' -d '{"sku":"sku-1","quantity":2}'
//	curl localhost:8083/notifications
//
// It listens on :8083 (public) and :9093 (admin) and connects to
// nats://127.0.0.1:4222 unless HTTP_ADDR, ADMIN_ADDR and NATS_URL say otherwise. The
// ORDERS stream must exist (orders declares it at its start); notifier declares its
// dead-letter stream DLQ_NOTIFIER (subject dlq.notifier). Its settings are the NATS_*
// variables (docs/messaging.md).
package main
