// Package inventory is the inventory example service: the stock of each SKU, and
// reservations of stock for orders. It is written as a team should write a Paved
// service, in layers:
//
//   - [Store] holds the stock in memory, loaded from INVENTORY_SEED by a start hook, with
//     a readiness check ([Store.Ping]) that fails until it is loaded and after it closes;
//   - [Endpoints] are go-kit endpoints over the store, transport-agnostic: they validate
//     requests and return domain errors ([ErrUnknownSKU], *[InsufficientStockError],
//     *[ValidationError]);
//   - transport.go binds them to HTTP with httptransport.NewServer, mapping the domain
//     errors to application/problem+json answers;
//   - [Setup] wires everything into a service.Service: main.go is a single call to
//     service.Main(inventory.Info(), inventory.Setup).
//
// The HTTP API:
//
//	GET  /items/{sku}    → 200 {"sku":"sku-1","available":10}; 404 problem for an unknown SKU
//	POST /reservations   {"orderId":"o-1","sku":"sku-1","quantity":2}
//	                     → 201 {"reservationId":"res-000001","sku":"sku-1","quantity":2}
//	                     409 problem when stock is short, 400 naming each invalid field
//
// Reservations are idempotent by orderId: the same orderId with the same SKU and
// quantity returns the same reservation without taking stock again, so a caller may
// retry a POST (orders sends the order id as Idempotency-Key too). The same orderId with
// a different SKU or quantity is a 409.
//
// Concurrency: a [Store] is safe for concurrent use; its zero value is an empty, closed
// store (use [NewStore] or [Store.Load]). [Endpoints] are safe for concurrent use when
// their store is. [Config] is a plain value.
package inventory
