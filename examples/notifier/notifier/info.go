package notifier

import "github.com/paved-road/paved/service"

// Info returns notifier's identity and catalog metadata. SERVICE_NAME and
// SERVICE_VERSION override Name and Version.
func Info() service.Info {
	return service.Info{
		Name:        "notifier",
		Version:     "1.0.0",
		Namespace:   "shop",
		Owner:       "team-customer",
		Description: "Tells customers about their orders: consumes orders.placed and sends a notification for each.",
		Tier:        3,
		Lifecycle:   "production",
		Links: service.Links{
			Repository: "https://github.com/paved-road/paved/tree/main/examples/notifier",
			Docs:       "https://github.com/paved-road/paved/blob/main/docs/examples.md",
			Runbook:    "https://github.com/paved-road/paved/blob/main/docs/operations.md",
			OnCall:     "https://oncall.example.com/team-customer",
		},
		DependsOn:    []string{"nats"},
		ProvidesAPIs: []string{"notifier-http-v1"},
		Labels:       map[string]string{"domain": "customer"},
	}
}
