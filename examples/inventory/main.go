package main

import (
	"os"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/service"
)

func main() {
	// Ports of its own, so inventory runs beside orders and hello on one machine;
	// HTTP_ADDR and ADMIN_ADDR in the environment still win.
	setDefault("HTTP_ADDR", ":8081")
	setDefault("ADMIN_ADDR", ":9091")
	service.Main(inventory.Info(), inventory.Setup)
}

// setDefault sets the variable key to value unless the environment already sets it.
func setDefault(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		_ = os.Setenv(key, value)
	}
}
