package inventory

import (
	_ "embed"

	"github.com/paved-road/paved/service"
)

// OpenAPI is inventory's HTTP contract, an OpenAPI 3.1 document of the routes
// [Routes] serves. The service publishes it at the admin /apis/inventory-http-v1 and
// describes it to the catalog.
//
//go:embed openapi.json
var OpenAPI []byte

// Info returns inventory's identity and catalog metadata. SERVICE_NAME and
// SERVICE_VERSION override Name and Version.
func Info() service.Info {
	return service.Info{
		Name:        "inventory",
		Version:     "1.0.0",
		Namespace:   "shop",
		Owner:       "team-fulfilment",
		Description: "Keeps the stock of every SKU and reserves it for orders.",
		Tier:        2,
		Lifecycle:   "production",
		Links: service.Links{
			Repository: "https://github.com/paved-road/paved/tree/main/examples/inventory",
			Docs:       "https://github.com/paved-road/paved/blob/main/docs/examples.md",
			Runbook:    "https://github.com/paved-road/paved/blob/main/docs/operations.md",
			OnCall:     "https://oncall.example.com/team-fulfilment",
		},
		ProvidesAPIs: []string{"inventory-http-v1"},
		APIs: []service.API{
			{Name: "inventory-http-v1", Kind: service.APIKindOpenAPI, Definition: OpenAPI},
		},
		Labels: map[string]string{"domain": "fulfilment"},
	}
}
