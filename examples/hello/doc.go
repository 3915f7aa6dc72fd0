// Command hello is the smallest compliant Paved service: it serves GET /hello on the
// public address, and probes, metrics, info and config on the admin address. Copy it as
// the template of a new service, or let `paved new` do it.
//
//	go run ./examples/hello
//	curl localhost:8080/hello?name=Ada
//	curl localhost:9090/readyz
package main
