package catalog_test

import (
	"errors"
	"fmt"

	"github.com/paved-road/paved/catalog"
)

func ExampleComponent_Validate() {
	c := catalog.Component{
		Name:  "orders",
		Owner: "team-a",
		Tier:  7,
		Links: catalog.Links{Runbook: "ftp://wiki.example.com/orders"},
	}.WithDefaults()
	var ve *catalog.ValidationError
	if errors.As(c.Validate(), &ve) {
		for _, fe := range ve.Errors {
			fmt.Println(fe)
		}
	}
	// Output:
	// tier: must be between 1 (most critical) and 4, got 7
	// links.runbook: must be an http or https URL, got "ftp://wiki.example.com/orders"
}

func ExampleCheckAddress() {
	for _, a := range []string{"10.0.0.7:9090", "169.254.169.254:80"} {
		if ok, why := catalog.CheckAddress(a); ok {
			fmt.Println(a, "ok")
		} else {
			fmt.Println(a, "rejected:", why)
		}
	}
	// Output:
	// 10.0.0.7:9090 ok
	// 169.254.169.254:80 rejected: must not be a link-local address (169.254.0.0/16 or fe80::/10), where cloud metadata endpoints live, got "169.254.169.254"
}

func ExampleComponentFilter_Match() {
	c := catalog.Component{Name: "orders", Owner: "team-a", Tier: 1, Description: "Takes orders"}
	fmt.Println(catalog.ComponentFilter{Owner: "team-a", Text: "take"}.Match(&c))
	fmt.Println(catalog.ComponentFilter{Tier: 2}.Match(&c))
	// Output:
	// true
	// false
}

func ExampleFailingRules() {
	cards := []catalog.Scorecard{
		{Instance: "orders-1", Failed: []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "runbook link is not set"}}},
		{Instance: "orders-2", Failed: []catalog.RuleResult{
			{ID: "runbook-link", Level: catalog.LevelError, Message: "required for tier 1"},
			{ID: "metrics-endpoint", Level: catalog.LevelWarning},
		}},
	}
	for _, r := range catalog.FailingRules(cards) {
		fmt.Printf("%s %s %q\n", r.ID, r.Level, r.Message)
	}
	// Output:
	// metrics-endpoint warning ""
	// runbook-link error "required for tier 1"
}

func ExampleDeploymentEvent_Validate() {
	ev := catalog.DeploymentEvent{
		Component: "ledger", DisplayName: "ledger 7.1", URL: "https://ci.example.com/ledger/7",
		UpdateSequenceNumber: 1, Version: "7.1",
		DeploymentProperties: catalog.DeploymentProperties{SequenceNumber: 7, State: "done",
			Environment: catalog.EventEnvironment{Category: "production"}, Pipeline: catalog.Pipeline{PipelineID: "deploy"}},
	}
	var ve *catalog.ValidationError
	if errors.As(ev.Validate(), &ve) {
		for _, fe := range ve.Errors {
			fmt.Println(fe)
		}
	}
	// Output:
	// lastUpdated: is required: an RFC 3339 time
	// deploymentProperties.state: must be one of pending, in_progress, successful, failed, rolled_back, cancelled, unknown, got "done"
	// deploymentProperties.startedAt: is required: an RFC 3339 time
}

func ExampleDigest() {
	def := []byte(`{"openapi":"3.1.0","info":{"title":"inventory","version":"1.0.0"},"paths":{}}`)
	api := catalog.API{Name: "inventory-http-v1", Kind: catalog.APIKindOpenAPI,
		MediaType: catalog.APIKindOpenAPI.MediaType(), Version: "1.0.0", Digest: catalog.Digest(def), Size: len(def)}
	c := catalog.Component{Name: "inventory", Owner: "team-a", ProvidesAPIs: []string{api.Name}, APIs: []catalog.API{api}}.WithDefaults()
	fmt.Println(c.Validate(), api.Digest[:15])
	// Output:
	// <nil> sha256:dca4fed9
}

func ExampleEvaluateDevOpsHealth() {
	lead, failure := 2*3600.0, 0.25
	h := catalog.EvaluateDevOpsHealth(catalog.DORA{Deployments: 8, DeploymentsPerDay: 8.0 / 30,
		LeadTimeSeconds: &lead, FailedDeployments: 2, ChangeFailureRate: &failure})
	fmt.Println(h.Score, h.Passed)
	for _, f := range h.Failed {
		fmt.Println(f.ID+":", f.Message)
	}
	// Output:
	// 71 [deploys-weekly lead-time-under-a-week restores-within-a-day]
	// change-failure-under-15: 2 of 8 deployments failed (25%), want at most 15%
}
