package main

import "github.com/paved-road/paved/service"

// main is all a Paved service's main holds: its identity (info.go) and its wiring
// (setup.go). service.Main loads the configuration, runs the service until SIGTERM, and
// exits 0, 1, or 2 for a configuration error.
func main() {
	service.Main(info, setup)
}
