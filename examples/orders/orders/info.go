package orders

import (
	_ "embed"

	"github.com/paved-road/paved/service"
)

// OpenAPI is orders' HTTP contract, an OpenAPI 3.1 document of the routes [Routes]
// serves (POST /orders, GET /orders/{id}); the service publishes it as orders-http-v1
// at /apis/orders-http-v1 on its admin address, and the catalog keeps each version.
//
//go:embed openapi.json
var OpenAPI []byte

// Info returns orders' identity and catalog metadata. SERVICE_NAME and SERVICE_VERSION
// override Name and Version.
func Info() service.Info {
	return service.Info{
		Name:        "orders",
		Version:     "1.0.0",
		Namespace:   "shop",
		Owner:       "team-checkout",
		Description: "Takes orders and reserves their stock in inventory.",
		Tier:        1,
		Lifecycle:   "production",
		Links: service.Links{
			Repository: "https://github.com/paved-road/paved/tree/main/examples/orders",
			Docs:       "https://github.com/paved-road/paved/blob/main/docs/examples.md",
			Runbook:    "https://github.com/paved-road/paved/blob/main/docs/operations.md",
			OnCall:     "https://oncall.example.com/team-checkout",
		},
		DependsOn: []string{"inventory"},
		APIs: []service.API{
			{Name: "orders-http-v1", Kind: service.APIKindOpenAPI, Definition: OpenAPI},
		},
		ConsumesAPIs: []string{InventoryAPI},
		Labels:       map[string]string{"domain": "checkout"},
	}
}

// InventoryAPI is the API of inventory that orders calls: its client names it
// (httptransport.WithAPI), so the service reports it as observed as well as declared.
const InventoryAPI = "inventory-http-v1"
