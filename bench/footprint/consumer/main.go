// Command consumer is a service that imports only Paved's service package, as a team's
// main does: the footprint test (bench/footprint) builds it outside the workspace and
// measures what it pulls in against the hand-built baseline next to it.
package main

import (
	"fmt"
	"net/http"

	"github.com/paved-road/paved/service"
)

var info = service.Info{Name: "consumer", Owner: "team-platform", Tier: 4, Lifecycle: "production",
	Description: "Measures Paved's footprint.", Links: service.Links{Runbook: "https://wiki.example.com/consumer"}}

func main() {
	service.Main(info, func(s *service.Service, cfg *service.Config) error {
		s.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "Hello, world!")
		})
		return nil
	})
}
