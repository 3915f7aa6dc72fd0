// Command inventory is the inventory example service: the stock of each SKU and
// reservations of it for orders, written as a team should write a Paved service
// (go-kit endpoints and transports in package inventory, its own config struct
// embedding service.Config, a readiness check on its store). The orders example calls
// it.
//
//	go run ./examples/inventory
//	curl localhost:8081/items/sku-1
//	curl -X POST localhost:8081/reservations -H 'Content-Type: application/json' \
//	     -d '{"orderId":"o-1","sku":"sku-1","quantity":2}'
//	curl localhost:9091/readyz
//	curl localhost:9091/compliance?format=text
//
// It listens on :8081 (public) and :9091 (admin) unless HTTP_ADDR and ADMIN_ADDR say
// otherwise, so it runs beside orders (:8082, :9092) and hello (:8080, :9090). Its own
// setting is INVENTORY_SEED (default sku-1=10,sku-2=5,sku-3=0); every other variable
// is the base one of docs/configuration.md. docs/examples.md shows both services
// together.
package main
