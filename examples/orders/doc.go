// Command orders is the orders example service: it takes orders and reserves their
// stock in the inventory example, found through discovery and called with a breaker,
// retries and timeouts; one trace spans both services. The code is in package orders.
//
//	go run ./examples/inventory &
//	go run ./examples/orders
//	curl -i -X POST localhost:8082/orders -H 'Content-Type: application/json' \
//	     -d '{"sku":"sku-1","quantity":2}'
//	curl localhost:8082/orders/ord-…
//	curl localhost:9092/compliance?format=text
//
// It listens on :8082 (public) and :9092 (admin) unless HTTP_ADDR and ADMIN_ADDR say
// otherwise. When no registry is configured (REGISTRY and CATALOG_URL unset) and
// DISCOVERY_STATIC is unset, it looks for inventory at 127.0.0.1:8081, where
// `go run ./examples/inventory` listens. Its own settings are the INVENTORY_* policy
// variables (INVENTORY_TIMEOUT, INVENTORY_BREAKER_OPEN_TIMEOUT,
// INVENTORY_RETRY_MAX_ATTEMPTS...); docs/examples.md lists them.
package main
