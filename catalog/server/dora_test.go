package server_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/storetest"
	"github.com/paved-road/paved/internal/testenv"
)

// Catalog replicas over one store each watch the fleet and record what they see; they
// agree on one set of deployments, even when one applies an instance set older than
// what another already applied, and when they apply the same set at once.
func TestReplicasAgreeOnDeployments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t)
		b := server.New(f.st, server.Options{Open: true})
		trkB := server.NewTracker(b)
		f.component("orders", "sales")
		f.at(10)
		f.put("orders", "o1", "production", "1", catalog.StatusPassing, long, 0)
		s10, _ := f.st.Instances(context.Background(), "")
		f.trk.Pass(context.Background(), s10)
		f.at(20)
		f.put("orders", "o2", "production", "2", catalog.StatusPassing, long, 0)
		s20, _ := f.st.Instances(context.Background(), "")
		trkB.Pass(context.Background(), s20)
		// A third replica, slow, applies the set it read at 10 s: with 1 alone running it
		// would take version 2 for rolled back.
		server.NewTracker(server.New(f.st, server.Options{Open: true})).Pass(context.Background(), s10)
		f.at(30)
		f.del("orders", "o1")
		s30, _ := f.st.Instances(context.Background(), "")
		var wg sync.WaitGroup
		wg.Go(func() { f.trk.Pass(context.Background(), s30) })
		wg.Go(func() { trkB.Pass(context.Background(), s30) })
		wg.Wait()
		got := decode[[]catalog.Deployment](t, f.call("GET", "/api/v1/components/orders/deployments", "", nil))
		want := []catalog.Deployment{
			{ID: "o-2", Component: "orders", Environment: "production", Source: catalog.SourceObserved, Version: "2", Revision: "rev-2",
				PreviousVersion: "1", State: catalog.DeploymentSuccessful, StartedAt: f.ts(20), FirstReadyAt: f.ts(20), FinishedAt: f.ts(30), Instances: 1},
			{ID: "o-1", Component: "orders", Environment: "production", Source: catalog.SourceObserved, Version: "1", Revision: "rev-1",
				State: catalog.DeploymentSuccessful, StartedAt: f.ts(10), FirstReadyAt: f.ts(10), FinishedAt: f.ts(10), Instances: 1},
		}
		sameJSON(t, "deployments", got, want)
	})
}

// Run records deployments as the fleet changes, without anyone calling the tracker.
func TestRunRecordsDeployments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t)
		f.component("orders", "sales")
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error, 1)
		go func() { ran <- f.srv.Run(ctx) }()
		f.at(0.5)
		f.put("orders", "o1", "development", "1.0.0", catalog.StatusPassing, long, 0)
		f.at(3)
		f.put("orders", "o2", "development", "1.1.0", catalog.StatusPassing, long, 0)
		f.del("orders", "o1")
		f.at(6)
		got := decode[[]catalog.Deployment](t, f.call("GET", "/api/v1/deployments?env=development", "", nil))
		if len(got) != 2 || got[0].Version != "1.1.0" || got[0].PreviousVersion != "1.0.0" || got[0].State != catalog.DeploymentSuccessful || got[1].Version != "1.0.0" {
			t.Fatalf("got %+v, want 1.1.0 after 1.0.0, finished", got)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Fatalf("Run: got %v, want nil", err)
		}
	})
}

func validEvent() catalog.DeploymentEvent {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	return catalog.DeploymentEvent{Component: "orders", DisplayName: "orders 3", URL: "https://ci.example.com/3", LastUpdated: at,
		UpdateSequenceNumber: 1, Version: "3",
		DeploymentProperties: catalog.DeploymentProperties{SequenceNumber: 3, State: catalog.DeploymentSuccessful, StartedAt: at, CompletedAt: at.Add(time.Minute),
			Environment: catalog.EventEnvironment{Category: "production"}, Pipeline: catalog.Pipeline{PipelineID: "p"}}}
}

// POST /api/v1/events is a write like the others: a token is needed, a team may post
// only for its own components, the body is decoded strictly and every bad field named.
func TestPostEventAuthAndBadInput(t *testing.T) {
	e := newEnv(t)
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, storetest.Component("orders", "team-a")), 201)
	ev := validEvent()
	p := e.do("POST", "/api/v1/events", "", ev)
	expect(t, p, 401)
	if p.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	expect(t, e.do("POST", "/api/v1/events", tokenB, ev), 403)
	expect(t, e.do("POST", "/api/v1/events", tokenA, ev), 201)
	expect(t, e.do("POST", "/api/v1/events", adminToken, ev), 200) // the same update again: stale, as stored
	missing := ev
	missing.Component = "nosuch"
	expect(t, e.do("POST", "/api/v1/events", tokenA, missing), 404)

	bad := ev
	bad.DeploymentProperties.State = "done"
	bad.DeploymentProperties.Environment.Category = "prod"
	bad.URL = "ftp://x"
	bad.UpdateSequenceNumber = 0
	pr := e.do("POST", "/api/v1/events", tokenA, bad)
	expect(t, pr, 400)
	if got, want := fieldsOf(pr.problem(t)), []string{"url", "updateSequenceNumber", "deploymentProperties.state", "deploymentProperties.environment.category"}; !slices.Equal(got, want) {
		t.Fatalf("got fields %v, want %v", got, want)
	}
	pr = e.do("POST", "/api/v1/events", tokenA, `{"component":"orders","deploymentProperties":{"sequenceNumber":1,"colour":"red"}}`)
	expect(t, pr, 400)
	if got := fieldsOf(pr.problem(t)); !slices.Equal(got, []string{"deploymentProperties.colour"}) {
		t.Fatalf("unknown field: got fields %v, want deploymentProperties.colour", got)
	}
	got := decode[[]catalog.Deployment](t, e.do("GET", "/api/v1/components/orders/deployments", "", nil))
	if len(got) != 1 || got[0].ID != "e-3" || got[0].Source != catalog.SourceEvent || got[0].Pipeline.PipelineID != "p" {
		t.Fatalf("got %+v, want the one posted deployment", got)
	}
}

// The list and DORA queries refuse bad parameters with a 400 naming each.
func TestDeploymentQueriesBadInput(t *testing.T) {
	e := newEnv(t)
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, storetest.Component("orders", "team-a")), 201)
	for _, tc := range []struct {
		path   string
		fields []string
	}{
		{"/api/v1/deployments?owner=Team_A&env=prod/eu&since=yesterday&limit=0", []string{"owner", "env", "since", "limit"}},
		{"/api/v1/components/orders/deployments?limit=1001&since=-3d", []string{"since", "limit"}},
		{"/api/v1/dora?window=0d&component=Orders", []string{"component", "window"}},
		{"/api/v1/dora?window=400d", []string{"window"}},
		{"/api/v1/dora?env=a&env=b", []string{"env"}},
	} {
		r := e.do("GET", tc.path, "", nil)
		expect(t, r, 400)
		if got := fieldsOf(r.problem(t)); !slices.Equal(got, tc.fields) {
			t.Errorf("%s: got fields %v, want %v", tc.path, got, tc.fields)
		}
	}
	expect(t, e.do("GET", "/api/v1/components/nosuch/deployments", "", nil), 404)
	for _, ok := range []string{"/api/v1/deployments?since=7d&limit=5", "/api/v1/deployments?since=2026-01-02T15:04:05Z", "/api/v1/dora?window=12h&owner=team-a"} {
		expect(t, e.do("GET", ok, "", nil), 200)
	}
}

// The paved_catalog_dora_* gauges hold each component's keys and pass promtool.
func TestDORAMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFleet(t, func(o *server.Options) { o.Registerer = reg })
	f.component("orders", "sales")
	f.put("orders", "o1", "production", "1.0.0", catalog.StatusPassing, long, -3600)
	f.observe()
	l := []string{"component", "orders", "environment", "production", "owner", "sales"}
	if got := value(t, reg, server.MetricDORADeployments, l...); got != 1 {
		t.Fatalf("deployments: got %v, want 1", got)
	}
	if got := value(t, reg, server.MetricDORAWindow); got != 30*86400 {
		t.Fatalf("window: got %v, want 30 days", got)
	}
	if got := value(t, reg, server.MetricDORAChangeFailure, l...); got != 0 {
		t.Fatalf("change failure rate: got %v, want 0", got)
	}
	if got := value(t, reg, server.MetricDORALeadTime, l...); got < 3600 || got > 3700 {
		t.Fatalf("lead time: got %v, want about an hour", got)
	}
	text := testenv.Exposition(t, reg)
	for _, name := range []string{server.MetricDORADeploymentsPerDay} {
		if !strings.Contains(text, "\n"+name) {
			t.Errorf("the exposition has no %s", name)
		}
	}
	if strings.Contains(text, server.MetricDORATimeToRestore+"{") {
		t.Errorf("time to restore exported with no incident: %s", text)
	}
	testenv.Promtool(t, text)
}

// jsonFields returns the JSON names of the fields of a struct type, embedded ones
// flattened.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// The OpenAPI schemas of the new endpoints name exactly the fields the handlers read
// and write.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(server.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"Deployment": catalog.Deployment{}, "DeploymentEvent": catalog.DeploymentEvent{},
		"Pipeline": catalog.Pipeline{}, "DORAReport": catalog.DORAReport{}, "ComponentDORA": catalog.ComponentDORA{},
		"TeamDORA": catalog.TeamDORA{}, "ComponentScorecard": catalog.ComponentScorecard{},
		"Component": catalog.Component{}, "API": catalog.API{}, "APIUse": catalog.APIUse{}} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		if want := jsonFields(reflect.TypeOf(v)); !slices.Equal(props, want) {
			t.Errorf("schema %s: got properties %v, want the fields %v", name, props, want)
		}
	}
}
