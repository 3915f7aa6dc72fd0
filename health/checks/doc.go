// Package checks holds ready-made health checks to register with health.Registry: an
// HTTP GET with an expected status range, a TCP dial, a *sql.DB ping, DNS resolution, an
// etcd member's /health endpoint, and goroutine and heap thresholds.
//
// Each constructor validates its arguments and returns a Func (the shape of
// health.Check.Check) or an error naming the bad argument; a Func honours its context,
// so the registry's timeout bounds it. The etcd check uses etcd's HTTP endpoint, so this
// package does not import the etcd client.
//
// Funcs are safe for concurrent use. Zero fields of the option structs take the defaults
// documented on each field.
package checks
