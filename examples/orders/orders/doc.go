// Package orders is the orders example service: it takes orders and reserves their
// stock in the inventory service. It is written as a team should write a Paved service
// that calls another:
//
//   - [Store] holds the orders in memory, opened by a start hook, with a readiness
//     check ([Store.Ping]);
//   - [NewReserveEndpoint] is the go-kit client endpoint of inventory's
//     POST /reservations, over the client service.Client builds: inventory is found by
//     discovery (DISCOVERY_STATIC or the registry), called under a resilience policy
//     (breaker, retries with a budget, timeouts) read from the INVENTORY_* variables,
//     with trace context and request id propagated. The order id goes as the
//     Idempotency-Key, so a retried POST reserves once;
//   - [Endpoints] are go-kit endpoints, transport-agnostic, returning domain errors
//     ([ErrInsufficientStock], [ErrUnknownSKU], *[UnavailableError], [ErrNotFound]);
//   - transport.go binds them to HTTP, mapping the domain errors to problems;
//   - [Setup] wires it all into a service.Service.
//
// The HTTP API:
//
//	POST /orders       {"sku":"sku-1","quantity":2}
//	                   → 201 {"id":"ord-…","sku":"sku-1","quantity":2,"status":"confirmed","reservationId":"res-000001"}
//	                   409 problem "insufficient stock…" when inventory has too little,
//	                   400 naming each invalid field (an unknown SKU included),
//	                   503 problem with Retry-After when inventory is down or its breaker open
//	GET  /orders/{id}  → 200 the order; 404 problem for an unknown id
//
// Concurrency: a [Store] is safe for concurrent use; its zero value is an empty,
// closed store. [Endpoints] are safe for concurrent use. [Config] is a plain value.
package orders
