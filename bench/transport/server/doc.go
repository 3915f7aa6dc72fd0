// Command server serves one variant of the transport benchmark (see package
// transportbench) on a loopback address until it gets SIGTERM or SIGINT:
//
//	go run ./bench/transport/server -variant paved -addr 127.0.0.1:23180
//
// The wrk program (bench/transport/wrk) starts it once per variant and round.
package main
