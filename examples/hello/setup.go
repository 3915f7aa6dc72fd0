package main

import (
	"fmt"
	"net/http"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/health/checks"
	"github.com/paved-road/paved/service"
)

// setup wires hello into the service: its readiness check and its routes.
func setup(s *service.Service, cfg *Config) error {
	// Ready while not swamped: hello has no dependencies to wait for.
	busy, err := checks.Goroutines(10_000)
	if err != nil {
		return err
	}
	if err := s.Health().Register(health.Check{Name: "goroutines", Check: busy}); err != nil {
		return err
	}
	s.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		fmt.Fprintf(w, "%s, %s!\n", cfg.Greeting, name)
	})
	return nil
}
