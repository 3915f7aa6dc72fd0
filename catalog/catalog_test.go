package catalog_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
)

func validComponent() catalog.Component {
	return catalog.Component{
		Name:        "orders",
		Owner:       "team-a",
		Description: "Takes orders.",
		Type:        catalog.TypeService,
		Tier:        2,
		Lifecycle:   catalog.LifecycleProduction,
		Links: catalog.Links{
			Repository: "https://git.example.com/orders",
			Runbook:    "https://wiki.example.com/orders/runbook",
		},
		DependsOn:    []string{"inventory", "payments"},
		ProvidesAPIs: []string{"orders.v1"},
		Labels:       map[string]string{"example.com/domain": "sales", "cost-center": ""},
	}
}

func validInstance() catalog.Instance {
	return catalog.Instance{
		ID:         "orders-7d9f-1",
		Component:  "orders",
		Version:    "v1.4.2+g1a2b3c",
		Addresses:  catalog.Addresses{HTTP: "10.0.0.7:8080", Admin: "10.0.0.7:9090", GRPC: "orders.internal:9000"},
		StartedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		TTLSeconds: 30,
		Status:     catalog.StatusPassing,
		Metadata:   map[string]string{"zone": "eu-west-1a", "k8s.io/pod": "orders-7d9f-1"},
	}
}

// fields returns the field paths of a *ValidationError.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %T (%v), want *catalog.ValidationError", err, err)
	}
	var out []string
	for _, fe := range ve.Errors {
		out = append(out, fe.Field)
	}
	return out
}

func TestComponentValidateAcceptsValid(t *testing.T) {
	c := validComponent()
	if err := c.Validate(); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	min := catalog.Component{Name: "a", Owner: "b"}.WithDefaults()
	if err := min.Validate(); err != nil {
		t.Fatalf("defaults: got %v, want nil", err)
	}
}

func TestComponentValidateNamesEveryField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *catalog.Component)
		want   []string
	}{
		{"empty name", func(c *catalog.Component) { c.Name = "" }, []string{"name"}},
		{"upper-case name", func(c *catalog.Component) { c.Name = "Orders" }, []string{"name"}},
		{"name too long", func(c *catalog.Component) { c.Name = strings.Repeat("a", 64) }, []string{"name"}},
		{"name 63 ok", func(c *catalog.Component) { c.Name = strings.Repeat("a", 63) }, nil},
		{"name ends with dash", func(c *catalog.Component) { c.Name = "orders-" }, []string{"name"}},
		{"owner missing", func(c *catalog.Component) { c.Owner = "" }, []string{"owner"}},
		{"bad namespace", func(c *catalog.Component) { c.Namespace = "a_b" }, []string{"namespace"}},
		{"description too long", func(c *catalog.Component) { c.Description = strings.Repeat("é", 2049) }, []string{"description"}},
		{"type missing", func(c *catalog.Component) { c.Type = "" }, []string{"type"}},
		{"tier 0", func(c *catalog.Component) { c.Tier = 0 }, []string{"tier"}},
		{"tier 5", func(c *catalog.Component) { c.Tier = 5 }, []string{"tier"}},
		{"lifecycle", func(c *catalog.Component) { c.Lifecycle = "beta" }, []string{"lifecycle"}},
		{"ftp runbook", func(c *catalog.Component) { c.Links.Runbook = "ftp://example.com/x" }, []string{"links.runbook"}},
		{"javascript docs", func(c *catalog.Component) { c.Links.Docs = "javascript:alert(1)" }, []string{"links.docs"}},
		{"relative dashboard", func(c *catalog.Component) { c.Links.Dashboard = "/grafana" }, []string{"links.dashboard"}},
		{"credentials in repo", func(c *catalog.Component) { c.Links.Repository = "https://u:p@git.example.com/x" }, []string{"links.repository"}},
		{"onCall and apiSpec", func(c *catalog.Component) { c.Links.OnCall = "mailto:x@y"; c.Links.APISpec = "https://" }, []string{"links.onCall", "links.apiSpec"}},
		{"depends on self", func(c *catalog.Component) { c.DependsOn = []string{"orders"} }, []string{"dependsOn[0]"}},
		{"depends duplicate", func(c *catalog.Component) { c.DependsOn = []string{"a", "b", "a"} }, []string{"dependsOn[2]"}},
		{"depends bad name", func(c *catalog.Component) { c.DependsOn = []string{"a", "B_c"} }, []string{"dependsOn[1]"}},
		{"api bad", func(c *catalog.Component) { c.ProvidesAPIs = []string{"orders v1"} }, []string{"providesApis[0]"}},
		{"label key bad", func(c *catalog.Component) { c.Labels = map[string]string{"-x": "y"} }, []string{"labels[-x]"}},
		{"label prefix bad", func(c *catalog.Component) { c.Labels = map[string]string{"Example.com/x": "y"} }, []string{"labels[Example.com/x]"}},
		{"label value bad", func(c *catalog.Component) { c.Labels = map[string]string{"x": "a b"} }, []string{"labels[x]"}},
		{"label value too long", func(c *catalog.Component) { c.Labels = map[string]string{"x": strings.Repeat("v", 64)} }, []string{"labels[x]"}},
		{"every problem at once", func(c *catalog.Component) {
			*c = catalog.Component{Links: catalog.Links{Runbook: "ftp://x"}}
		}, []string{"name", "owner", "type", "tier", "lifecycle", "links.runbook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validComponent()
			tt.mutate(&c)
			got := fields(t, c.Validate())
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got fields %v, want %v (err: %v)", got, tt.want, c.Validate())
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	c := validComponent()
	c.Links.Runbook = "ftp://example.com"
	err := c.Validate()
	want := `catalog: invalid: links.runbook: must be an http or https URL, got "ftp://example.com"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestInstanceValidateAddresses(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"10.0.0.7:8080", true},
		{"127.0.0.1:1", true},
		{"[::1]:8080", true},
		{"[2001:db8::1]:443", true},
		{"orders.internal:8080", true},
		{"orders:8080", true},
		{"Orders.Example.COM.:8080", true},
		{"169.254.169.254:80", false},
		{"169.254.1.1:80", false},
		{"[fe80::1]:80", false},
		{"[febf::1]:80", false},
		{"[fe80::1%eth0]:80", false},
		{"[::ffff:169.254.169.254]:80", false},
		{"[64:ff9b::a9fe:a9fe]:80", false},
		{"[2002:a9fe:a9fe::1]:80", false},
		{"[fd00:ec2::254]:80", false},
		{"100.100.100.200:80", false},
		{"metadata.google.internal:80", false},
		{"METADATA.google.internal.:80", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"224.0.0.1:80", false},
		{"2852039166:80", false},
		{"0xa9fea9fe:80", false},
		{"0251.0376.0251.0376:80", false},
		{"10.0.0.7", false},
		{"10.0.0.7:0", false},
		{"10.0.0.7:65536", false},
		{"10.0.0.7:+80", false},
		{":8080", false},
		{"bad_host:80", false},
		{"http://10.0.0.7:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			in := validInstance()
			in.Addresses.Admin = tt.addr
			got := fields(t, in.Validate())
			var want []string
			if !tt.ok {
				want = []string{"addresses.admin"}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v (err: %v)", got, want, in.Validate())
			}
			if ok, why := catalog.CheckAddress(tt.addr); ok != tt.ok || (ok == (why != "")) {
				t.Fatalf("CheckAddress: got %v %q, want %v", ok, why, tt.ok)
			}
		})
	}
}

func TestInstanceValidateNamesEveryField(t *testing.T) {
	in := catalog.Instance{
		ID:         "-bad",
		Component:  "Orders",
		Version:    "1 2",
		TTLSeconds: 0,
		Status:     "up",
		Metadata:   map[string]string{"ok": strings.Repeat("v", 1025)},
	}
	want := []string{"id", "component", "version", "addresses", "startedAt", "ttlSeconds", "status", "metadata[ok]"}
	if got := fields(t, in.Validate()); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	good := validInstance()
	if err := good.Validate(); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	good.TTLSeconds = catalog.MaxTTLSeconds + 1
	if got := fields(t, good.Validate()); !slices.Equal(got, []string{"ttlSeconds"}) {
		t.Fatalf("got %v, want [ttlSeconds]", got)
	}
}

func TestInstanceHealthy(t *testing.T) {
	for s, want := range map[catalog.Status]bool{catalog.StatusPassing: true, catalog.StatusWarning: true, catalog.StatusCritical: false} {
		in := catalog.Instance{Status: s}
		if got := in.Healthy(); got != want {
			t.Errorf("%s: got %v, want %v", s, got, want)
		}
	}
}

func TestScorecardValidate(t *testing.T) {
	s := catalog.Scorecard{
		Component: "orders", Instance: "orders-1", RuleSetVersion: "2026.1", Score: 80,
		Passed: []string{"owner", "readiness-check"},
		Failed: []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "links.runbook is empty"}},
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	bad := catalog.Scorecard{
		Component: "orders", Instance: "", RuleSetVersion: "", Score: 101,
		Passed: []string{"a", "a"},
		Failed: []catalog.RuleResult{{ID: "a", Level: "fatal"}, {ID: "b", Level: "info"}, {ID: "b", Level: "info"}},
	}
	want := []string{"instance", "ruleSetVersion", "score", "passed[1]", "failed[0].id", "failed[0].level", "failed[2].id"}
	if got := fields(t, bad.Validate()); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v (%v)", got, want, bad.Validate())
	}
}

func TestComponentScore(t *testing.T) {
	if got := catalog.ComponentScore(nil); got != -1 {
		t.Fatalf("got %d, want -1", got)
	}
	got := catalog.ComponentScore([]catalog.Scorecard{{Score: 90}, {Score: 40}, {Score: 70}})
	if got != 40 {
		t.Fatalf("got %d, want 40", got)
	}
}

func TestComponentFilter(t *testing.T) {
	c := validComponent()
	tests := []struct {
		f    catalog.ComponentFilter
		want bool
	}{
		{catalog.ComponentFilter{}, true},
		{catalog.ComponentFilter{Owner: "team-a"}, true},
		{catalog.ComponentFilter{Owner: "team-b"}, false},
		{catalog.ComponentFilter{Tier: 2}, true},
		{catalog.ComponentFilter{Tier: 1}, false},
		{catalog.ComponentFilter{Lifecycle: catalog.LifecycleProduction}, true},
		{catalog.ComponentFilter{Lifecycle: catalog.LifecycleDeprecated}, false},
		{catalog.ComponentFilter{Labels: map[string]string{"example.com/domain": "sales"}}, true},
		{catalog.ComponentFilter{Labels: map[string]string{"cost-center": ""}}, true},
		{catalog.ComponentFilter{Labels: map[string]string{"example.com/domain": "hr"}}, false},
		{catalog.ComponentFilter{Labels: map[string]string{"missing": ""}}, false},
		{catalog.ComponentFilter{Text: "TAKES"}, true},
		{catalog.ComponentFilter{Text: "ord"}, true},
		{catalog.ComponentFilter{Text: "billing"}, false},
	}
	for i, tt := range tests {
		if got := tt.f.Match(&c); got != tt.want {
			t.Errorf("%d %+v: got %v, want %v", i, tt.f, got, tt.want)
		}
	}
}

func TestProblemError(t *testing.T) {
	p := &catalog.Problem{Title: "Forbidden", Status: 403, Detail: "team-b may not change orders"}
	var err error = p
	if got, want := err.Error(), "problem: 403 Forbidden: team-b may not change orders"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A pushed event becomes a deployment: completedAt is first ready and finished, except
// for a failed or cancelled deployment, which never was ready.
func TestDeploymentEventDeployment(t *testing.T) {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	ev := catalog.DeploymentEvent{Component: "ledger", DisplayName: "d", URL: "https://ci.example.com/1", LastUpdated: start,
		UpdateSequenceNumber: 3, Version: "7.1", DeploymentProperties: catalog.DeploymentProperties{SequenceNumber: 7,
			State: catalog.DeploymentSuccessful, StartedAt: start, CompletedAt: start.Add(time.Minute),
			Environment: catalog.EventEnvironment{Category: "staging", EnvironmentID: "stg-1"}, Pipeline: catalog.Pipeline{PipelineID: "p"}}}
	if err := ev.Validate(); err != nil {
		t.Fatalf("got %v, want valid", err)
	}
	d := ev.Deployment()
	if d.ID != "e-7" || d.Environment != "staging" || d.EnvironmentID != "stg-1" || d.Source != catalog.SourceEvent ||
		!d.FirstReadyAt.Equal(start.Add(time.Minute)) || !d.FinishedAt.Equal(d.FirstReadyAt) || d.StartedAt.Location() != time.UTC {
		t.Fatalf("got %+v, want e-7 in staging, ready and finished at completedAt, in UTC", d)
	}
	ev.DeploymentProperties.State = catalog.DeploymentFailed
	if d := ev.Deployment(); !d.FirstReadyAt.IsZero() || !d.FinishedAt.IsZero() || d.State.Deployed() {
		t.Fatalf("failed: got %+v, want never ready, not deployed", d)
	}
	ev.DeploymentProperties.CompletedAt = start.Add(-time.Minute)
	var ve *catalog.ValidationError
	if !errors.As(ev.Validate(), &ve) || ve.Errors[0].Field != "deploymentProperties.completedAt" {
		t.Fatalf("completed before started: got %v, want deploymentProperties.completedAt named", ev.Validate())
	}
}

func TestEnvironmentOf(t *testing.T) {
	for md, want := range map[string]string{"production": "production", "Staging": "staging", "": "unknown", "prod/eu": "unknown"} {
		in := catalog.Instance{Metadata: map[string]string{"environment": md}}
		if got := catalog.EnvironmentOf(&in); got != want {
			t.Errorf("%q: got %q, want %q", md, got, want)
		}
	}
}

// TestComponentCloneSharesNothing: a store keeps Clone's result; a caller changing its
// own component afterwards must not change the stored one, the newer API fields included.
func TestComponentCloneSharesNothing(t *testing.T) {
	c := catalog.Component{Name: "a", DependsOn: []string{"b"}, ProvidesAPIs: []string{"a-v1"},
		APIs: []catalog.API{{Name: "a-v1"}}, ConsumesAPIs: []string{"b-v1"}, Uses: []catalog.APIUse{{Provider: "b"}},
		Labels: map[string]string{"k": "v"}}
	d := c.Clone()
	c.DependsOn[0], c.ProvidesAPIs[0], c.APIs[0].Name, c.ConsumesAPIs[0], c.Uses[0].Provider, c.Labels["k"] = "x", "x", "x", "x", "x", "x"
	if d.DependsOn[0] != "b" || d.ProvidesAPIs[0] != "a-v1" || d.APIs[0].Name != "a-v1" || d.ConsumesAPIs[0] != "b-v1" || d.Uses[0].Provider != "b" || d.Labels["k"] != "v" {
		t.Errorf("got %+v after changing the original, want the clone unchanged", d)
	}
}
