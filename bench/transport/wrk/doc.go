// Command wrk runs the transport load benchmark: for each round it starts the
// benchmark server (bench/transport/server) once per variant, in turn (interleaved, so
// the machine's noise falls on all alike), warms it up, drives GET /items/42 with
// /usr/bin/wrk on loopback, and reads the server's CPU time (utime+stime from
// /proc/<pid>/stat, before and after the measured run) and its RSS (VmRSS from
// /proc/<pid>/status). It prints requests/s, p99, CPU per request and RSS for each
// variant, as the median over rounds and as ratios to bare net/http:
//
//	go run ./bench/transport/wrk -rounds 3 -duration 10s -connections 32 -threads 1
package main
