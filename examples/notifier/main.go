package main

import (
	"os"

	"github.com/paved-road/paved/examples/notifier/notifier"
	"github.com/paved-road/paved/service"
)

func main() {
	// Ports of its own, so notifier runs beside the other examples on one machine, and
	// the broker where a local nats-server listens; the environment still wins.
	setDefault("HTTP_ADDR", ":8083")
	setDefault("ADMIN_ADDR", ":9093")
	setDefault("NATS_URL", "nats://127.0.0.1:4222")
	service.Main(notifier.Info(), notifier.Setup)
}

// setDefault sets the variable key to value unless the environment already sets it.
func setDefault(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		_ = os.Setenv(key, value)
	}
}
