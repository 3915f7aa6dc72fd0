// Command noreservations is examples/inventory whose next version drops POST
// /reservations from its published contract (version 2.0.0 of inventory-http-v1): the
// breaking change the catalog and paved api check must catch while orders consumes the
// API (internal/integration's TestBreakingInventoryCaught). It is test data, not an
// example to follow.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/service"
)

func main() {
	info := inventory.Info()
	info.Version = "2.0.0"
	var doc map[string]any
	if err := json.Unmarshal(inventory.OpenAPI, &doc); err != nil {
		fmt.Fprintln(os.Stderr, "noreservations: inventory's OpenAPI document:", err)
		os.Exit(1)
	}
	delete(doc["paths"].(map[string]any), "/reservations")
	doc["info"].(map[string]any)["version"] = "2.0.0"
	def, err := json.Marshal(doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "noreservations:", err)
		os.Exit(1)
	}
	info.APIs[0].Definition = def
	service.Main(info, inventory.Setup)
}
