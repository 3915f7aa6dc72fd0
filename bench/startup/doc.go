// Command startup measures how long examples/hello takes from process start to its
// first 200 from /readyz, over 20 starts, against a bare net/http server answering its
// first 200 in the same run (the baseline), and prints the medians and their ratio.
//
//	go run ./bench/startup            # 20 starts each
//	go run ./bench/startup -n 50
//
// Both binaries are built first with go build, so compile time is not measured.
package main
