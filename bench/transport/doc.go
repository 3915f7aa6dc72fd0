// Package transportbench measures what Paved's HTTP server stack costs per request next
// to bare net/http and plain go-kit: [Handler] builds the same tiny JSON service in each
// variant, bench_test.go runs them through ServeHTTP (ns/op, allocs/op, and each
// middleware alone), the server program serves one variant on loopback and the wrk
// program drives it with wrk, interleaved, reporting requests/s, p99, server CPU per
// request and RSS as ratios to bare net/http. README.md has the figures and commands.
package transportbench
