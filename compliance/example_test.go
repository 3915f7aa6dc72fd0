package compliance_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/paved-road/paved/compliance"
)

// exampleFacts are the facts of a small production service with two gaps.
func exampleFacts() compliance.Facts {
	return compliance.Facts{
		Name: "orders", Owner: "team-shop", Description: "Takes orders.", Tier: 2, Lifecycle: "production",
		Links: compliance.Links{
			Repository: "https://git.example.com/shop/orders",
			Runbook:    "https://wiki.example.com/orders",
			OnCall:     "https://oncall.example.com/shop",
		},
		DependsOn:   []string{"inventory"},
		Environment: compliance.EnvProduction, Version: "v2.3.0",
		ReadinessChecks: []string{"db"},
		MetricsServed:   true, MetricsAddr: ":9090", TracingExporter: compliance.ExporterOTLP,
		HTTPAddr: ":8080", AdminAddr: ":9090",
		Dependencies: []compliance.Dependency{
			{Name: "inventory", ThroughPaved: true, Breaker: false, Timeout: 2 * time.Second},
		},
		ShutdownTimeout: 15 * time.Second, DrainDelay: 5 * time.Second,
		Server: compliance.ServerLimits{
			ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
			IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, MaxBodyBytes: 1 << 20,
		},
		Registry:   "none",
		APIs:       []compliance.API{{Name: "orders-http-v1", Kind: "openapi", Operations: []string{"POST /orders"}}},
		HTTPRoutes: []string{"POST /orders"},
	}
}

// A service evaluates the default rules over what it wired and logs the summary and
// each failure.
func Example() {
	rep := compliance.Evaluate(exampleFacts(), compliance.DefaultRuleSet())
	fmt.Println(rep.Summary())
	for _, f := range rep.Failures() {
		fmt.Printf("%s (%s): %s\n", f.ID, f.Level, f.Message)
	}
	// Output:
	// compliance 2026.12.1: score 90/100, not compliant: 2 required, 0 recommended failed (dependency-breaker, registration-configured); 22 passed, 4 not applicable
	// dependency-breaker (required): dependency "inventory" has no circuit breaker
	// registration-configured (required): registration is off (registry none) in production
}

// COMPLIANCE_MODE=enforce: the service refuses to start, listing each failed required
// rule with its fix.
func ExampleReport_Enforce() {
	f := exampleFacts()
	f.Registry = compliance.RegistryCatalog
	err := compliance.Evaluate(f, compliance.DefaultRuleSet()).Enforce()
	fmt.Println(errors.Is(err, compliance.ErrNotCompliant))
	fmt.Println(err)
	// Output:
	// true
	// compliance: not compliant: 1 required rule failed (rule set 2026.12.1)
	//   dependency-breaker: dependency "inventory" has no circuit breaker; fix: Give the dependency's client a resilience policy with a circuit breaker.
}

// The text a person reads at /compliance.
func ExampleReport_WriteText() {
	f := exampleFacts()
	f.Registry = compliance.RegistryCatalog
	f.Dependencies[0].Breaker = true
	f.Links.Runbook = ""
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	var b strings.Builder
	_ = rep.WriteText(&b)
	// Print up to the passed rules.
	text, _, _ := strings.Cut(b.String(), "\nPASSED")
	fmt.Print(text)
	// Output:
	// compliance 2026.12.1: score 96/100, compliant: 0 required, 1 recommended failed (runbook-link); 23 passed, 4 not applicable
	// component orders, environment production
	//
	// FAILED, recommended (1)
	//   runbook-link               A link to the runbook
	//                              runbook link is not set
	//                              fix: Set Info.Links.Runbook to the runbook's http(s) URL.
}

// A platform team requires on-call and runbook links for tier 1 and 2 in production.
func ExampleParseScorecards() {
	file, err := compliance.ParseScorecards(strings.NewReader(`{
	  "version": 1,
	  "scorecards": [{
	    "name": "critical-services",
	    "appliesTo": {"tiers": [1, 2], "environments": ["production"]},
	    "rules": [
	      {"id": "on-call-link", "level": "required", "weight": 5},
	      {"id": "runbook-link", "level": "required"}
	    ]
	  }]
	}`), compliance.DefaultRuleSet())
	if err != nil {
		fmt.Println(err)
		return
	}
	f := exampleFacts()
	f.Registry = compliance.RegistryCatalog
	f.Dependencies[0].Breaker = true
	f.Links.OnCall = ""
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	fmt.Println(rep.Compliant(), rep.Score)
	for _, r := range file.Apply(rep, f.Target()) {
		fmt.Println(r.Scorecard, r.Compliant(), r.Score)
	}

	_, err = compliance.ParseScorecards(strings.NewReader(`{"version": 1, "scorecards": [{"name": "x", "rules": [{"id": "oncall-link"}]}]}`), compliance.DefaultRuleSet())
	fmt.Println(err)
	// Output:
	// true 96
	// critical-services false 90
	// compliance: invalid scorecard file: scorecards[0].rules[0].id: unknown rule "oncall-link": did you mean "on-call-link"? (rule set 2026.12.1)
}

// A team adds its own rule to the default ones.
func ExampleNewRuleSet() {
	noDebug := compliance.Rule{
		ID: "no-debug-log", Title: "Logs above debug in production", Why: "Debug logs leak data and cost money.",
		Fix: "Set LOG_LEVEL=info.", Level: compliance.Recommended, Weight: 1,
		Check: func(f compliance.Facts) compliance.Result {
			if f.Labels["log-level"] == "debug" && !f.Development() {
				return compliance.Fail("log level debug in %s", f.Environment)
			}
			return compliance.Pass("log level %s", f.Labels["log-level"])
		},
	}
	set, err := compliance.NewRuleSet("2026.12+shop.1", append(compliance.DefaultRules(), noDebug)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	f := exampleFacts()
	f.Labels = map[string]string{"log-level": "debug"}
	rep := compliance.Evaluate(f, set)
	res, _ := rep.Result("no-debug-log")
	fmt.Println(res.Status, res.Message)

	_, err = compliance.NewRuleSet("v1", compliance.Rule{ID: "Bad Rule", Title: "t", Fix: "f", Level: compliance.Required, Weight: 1})
	fmt.Println(err)
	// Output:
	// fail log level debug in production
	// compliance: invalid rule set: rules[0].id: must be lower-case kebab-case such as "owner-set" (letters, digits, single '-', at most 64 bytes), got "Bad Rule"; rules[0].check: is required: a func(Facts) Result
}

// The admin server serves the latest report at /compliance.
func ExampleNewHandler() {
	rep := compliance.Evaluate(exampleFacts(), compliance.DefaultRuleSet())
	h := compliance.NewHandler(func() (compliance.Report, bool) { return rep, true })
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/compliance", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	first, _, _ := strings.Cut(readAll(resp.Body), "\n")
	fmt.Println(first)
	// Output:
	// 200 text/plain; charset=utf-8
	// compliance 2026.12.1: score 90/100, not compliant: 2 required, 0 recommended failed (dependency-breaker, registration-configured); 22 passed, 4 not applicable
}

func readAll(r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return string(b)
}
