package main

import (
	"fmt"
	"net/http"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/health/checks"
	"github.com/paved-road/paved/service"
)

// Config is hello's configuration: the base settings plus its own.
type Config struct {
	service.Config
	Greeting string `env:"GREETING" envDefault:"Hello" desc:"Word hello greets with."`
}

var info = service.Info{
	Name:        "hello",
	Version:     "1.0.0",
	Owner:       "team-platform",
	Description: "Greets callers; the smallest compliant Paved service.",
	Tier:        4,
	Lifecycle:   "production",
	Links: service.Links{
		Repository: "https://github.com/paved-road/paved/tree/main/examples/hello",
		Runbook:    "https://github.com/paved-road/paved/blob/main/docs/operations.md",
		OnCall:     "https://oncall.example.com/team-platform",
	},
}

func main() {
	service.Main(info, func(s *service.Service, cfg *Config) error {
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
	})
}
