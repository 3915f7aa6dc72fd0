package main

import "github.com/paved-road/paved/service"

// Config is hello's configuration: the base settings plus its own.
type Config struct {
	service.Config
	Greeting string `env:"GREETING" envDefault:"Hello" desc:"Word hello greets with."`
}

// info is hello's identity and catalog metadata; SERVICE_NAME and SERVICE_VERSION
// override Name and Version.
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
