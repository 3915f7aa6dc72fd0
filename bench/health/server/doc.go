// Command server serves package health's probe handler for load tests with wrk: under
// /ten/ a registry with 10 cached passing readiness checks, under /none/ one with no
// checks, so one run compares the two (see bench/health/README.md and run.sh).
//
// Usage:
//
//	go run ./bench/health/server -addr 127.0.0.1:23150
package main
