// Command quickstart runs the whole Paved road on one machine, on embedded defaults and
// with no outside servers: the catalog (bbolt in a temporary directory, a token per team
// generated for this run), a NATS server with JetStream running inside the quickstart
// (its store in the same directory), and the example services hello, inventory, orders
// and notifier, each a separate process on its own ports, registering themselves in the
// catalog, finding each other through it, and reporting their compliance to it. Orders
// publishes orders.placed for every order; notifier consumes it and logs a
// notification: orders -> NATS -> notifier, one trace across.
//
//	go run ./examples/quickstart              # Ctrl-C stops everything
//	go run ./examples/quickstart -traffic     # and places an order every second
//
// It builds the programs first (go build, cached after the first run), then prints the
// URLs of the catalog UI and API, of each service and of each admin endpoint. Ports:
// the catalog on 127.0.0.1:8500 (admin :9500), hello on :8501 (admin :9501), inventory
// on :8502 (:9502), orders on :8503 (:9503), notifier on :8504 (:9504), NATS on :8505;
// -port-base moves them all. It checks them all before it builds or starts anything.
//
// On SIGINT or SIGTERM it stops every service gracefully (each deregisters, drains and
// exits 0), then the catalog, then the NATS server, and exits 0 when all did; a second
// signal kills them.
package main
