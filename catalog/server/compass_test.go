package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// fakeCompass is a FAKE Atlassian Compass (Compass cannot run here): an httptest
// server on loopback answering the GraphQL operations the push sends, as Atlassian's
// GraphQL API reference and its events documentation describe them. It checks what a
// real Compass would refuse (the credentials, the operation's signature, the fields of
// each input type), keeps the components, event sources and events it was given, and
// can be taken down (503) to simulate an outage.
type fakeCompass struct {
	t     *testing.T
	srv   *httptest.Server
	user  string
	token string

	mu         sync.Mutex
	down       bool
	failedOps  int                 // requests answered 503 while down
	calls      []fakeCall          // every operation served, in order
	components map[string]string   // id -> name
	aliases    map[string]string   // external id (source paved) -> component id
	sources    map[string]string   // event source id -> external event source id
	attached   map[string][]string // component id -> event source ids
	metricSrcs map[string]string   // external metric source id -> component id
	events     []map[string]any    // createEvent inputs' event.deployment
	metrics    []map[string]any    // insertMetricValueByExternalId inputs
	nextID     int
}

type fakeCall struct {
	field string
	vars  map[string]any
}

// fakeOps are the documented operations: the field under compass, the signature the
// query must call it with, and the fields its input type has.
var fakeOps = map[string]struct {
	signature string
	input     []string
}{
	"componentByExternalAlias":      {"componentByExternalAlias(cloudId: $cloudId, externalID: $externalId, externalSource: $externalSource)", nil},
	"createComponent":               {"createComponent(cloudId: $cloudId, input: $input)", []string{"name", "description", "typeId", "ownerId", "fields", "labels", "links", "relationships", "externalAlias", "customFields", "slug", "state"}},
	"updateComponent":               {"updateComponent(input: $input)", []string{"id", "name", "description", "typeId", "ownerId", "fields", "customFields", "slug", "state"}},
	"createRelationship":            {"createRelationship(input: $input)", []string{"startNodeId", "endNodeId", "type", "relationshipType"}},
	"createEventSource":             {"createEventSource(input: $input)", []string{"cloudId", "externalEventSourceId", "eventType"}},
	"attachEventSource":             {"attachEventSource(input: $input)", []string{"componentId", "eventSourceId"}},
	"createMetricSource":            {"createMetricSource(input: $input)", []string{"componentId", "metricDefinitionId", "externalMetricSourceId", "url", "derived"}},
	"createEvent":                   {"createEvent(input: $input)", []string{"cloudId", "event"}},
	"insertMetricValueByExternalId": {"insertMetricValueByExternalId(input: $input)", []string{"cloudId", "metricDefinitionId", "externalMetricSourceId", "value"}},
}

// The fields of a deployment event (CompassDeploymentEventInput), from the events API.
var (
	fakeDeploymentFields = []string{"displayName", "updateSequenceNumber", "url", "description", "lastUpdated", "externalEventSourceId", "deploymentProperties"}
	fakeDeploymentProps  = []string{"sequenceNumber", "state", "pipeline", "environment"}
	fakeDeploymentStates = []string{"PENDING", "IN_PROGRESS", "SUCCESSFUL", "FAILED", "ROLLED_BACK", "CANCELLED", "UNKNOWN"}
	fakeEnvCategories    = []string{"PRODUCTION", "STAGING", "TESTING", "DEVELOPMENT", "UNMAPPED"}
)

func newFakeCompass(t *testing.T) *fakeCompass {
	f := &fakeCompass{t: t, user: "bot@example.com", token: "compass-secret-token-1234",
		components: map[string]string{}, aliases: map[string]string{}, sources: map[string]string{},
		attached: map[string][]string{}, metricSrcs: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCompass) id(kind string) string {
	f.nextID++
	return fmt.Sprintf("ari:cloud:compass:cloud-1:%s/0000/%d", kind, f.nextID)
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (f *fakeCompass) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.failedOps++
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		return
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.user+":"+f.token))
	if r.Method != http.MethodPost || r.URL.Path != "/gateway/api/graphql" || r.Header.Get("Authorization") != want || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("fakeCompass: got %s %s auth %q type %q, want POST /gateway/api/graphql, Basic auth, JSON", r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var field string
	for name, op := range fakeOps {
		if strings.Contains(req.Query, "compass { "+op.signature) {
			field = name
		}
	}
	if field == "" {
		f.t.Errorf("fakeCompass: no documented operation in %q", req.Query)
		writeGQL(w, map[string]any{"errors": []any{map[string]any{"message": "Cannot query field", "extensions": map[string]any{"statusCode": 400}}}})
		return
	}
	in, _ := req.Variables["input"].(map[string]any)
	for _, k := range keysOf(in) {
		if !slices.Contains(fakeOps[field].input, k) {
			f.t.Errorf("fakeCompass: %s: input field %q is not in the documented input type", field, k)
		}
	}
	if cloud, ok := req.Variables["cloudId"]; ok && cloud != "cloud-1" || in["cloudId"] != nil && in["cloudId"] != "cloud-1" {
		f.t.Errorf("fakeCompass: %s: got cloud id %v/%v, want cloud-1", field, cloud, in["cloudId"])
	}
	f.calls = append(f.calls, fakeCall{field, req.Variables})
	ok := map[string]any{"success": true, "errors": []any{}}
	var res map[string]any
	switch field {
	case "componentByExternalAlias":
		if req.Variables["externalSource"] != "paved" {
			f.t.Errorf("fakeCompass: alias source %v, want paved", req.Variables["externalSource"])
		}
		if id, found := f.aliases[req.Variables["externalId"].(string)]; found {
			res = map[string]any{"__typename": "CompassComponent", "id": id}
		} else {
			res = map[string]any{"__typename": "QueryError", "message": "Component not found", "extensions": map[string]any{"statusCode": 404}}
		}
	case "createComponent":
		id := f.id("component")
		f.components[id] = in["name"].(string)
		if a, _ := in["externalAlias"].(map[string]any); a != nil {
			f.aliases[a["externalId"].(string)] = id
		}
		res = ok
		res["componentDetails"] = map[string]any{"id": id}
	case "updateComponent", "createRelationship":
		for _, k := range []string{"id", "startNodeId", "endNodeId"} {
			if id, set := in[k].(string); set && f.components[id] == "" {
				res = map[string]any{"success": false, "errors": []any{map[string]any{"message": "Component not found", "extensions": map[string]any{"statusCode": 404}}}}
			}
		}
		if res == nil {
			res = ok
		}
	case "createEventSource":
		ext := in["externalEventSourceId"].(string)
		id := ""
		for sid, e := range f.sources { // Compass answers an existing source with it
			if e == ext {
				id = sid
			}
		}
		if id == "" {
			id = f.id("event-source")
			f.sources[id] = ext
		}
		res = ok
		res["eventSource"] = map[string]any{"id": id}
	case "attachEventSource":
		c, s := in["componentId"].(string), in["eventSourceId"].(string)
		if !slices.Contains(f.attached[c], s) {
			f.attached[c] = append(f.attached[c], s)
		}
		res = ok
	case "createMetricSource":
		f.metricSrcs[in["externalMetricSourceId"].(string)] = in["componentId"].(string)
		res = ok
		res["createdMetricSource"] = map[string]any{"id": f.id("metric-source")}
	case "createEvent":
		ev := in["event"].(map[string]any)
		if keys := keysOf(ev); !slices.Equal(keys, []string{"deployment"}) {
			f.t.Errorf("fakeCompass: event %v, want exactly one of its fields: deployment", keys)
		}
		d := ev["deployment"].(map[string]any)
		f.checkDeployment(d)
		f.events = append(f.events, d)
		res = ok
	case "insertMetricValueByExternalId":
		if f.metricSrcs[in["externalMetricSourceId"].(string)] == "" {
			res = map[string]any{"success": false, "errors": []any{map[string]any{"message": "No metric source", "extensions": map[string]any{"statusCode": 404}}}}
			break
		}
		f.metrics = append(f.metrics, in)
		res = ok
	}
	writeGQL(w, map[string]any{"data": map[string]any{"compass": map[string]any{field: res}}})
}

// checkDeployment checks a deployment event as Compass's events API documents it: its
// fields, state and environment category, and that its event source is attached to a
// component.
func (f *fakeCompass) checkDeployment(d map[string]any) {
	for _, k := range keysOf(d) {
		if !slices.Contains(fakeDeploymentFields, k) {
			f.t.Errorf("fakeCompass: deployment field %q is not documented", k)
		}
	}
	for _, k := range []string{"displayName", "updateSequenceNumber", "url", "lastUpdated", "externalEventSourceId", "deploymentProperties"} {
		if d[k] == nil {
			f.t.Errorf("fakeCompass: deployment lacks the required %s", k)
		}
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(d["lastUpdated"])); err != nil {
		f.t.Errorf("fakeCompass: lastUpdated %v: %v", d["lastUpdated"], err)
	}
	p := d["deploymentProperties"].(map[string]any)
	for _, k := range keysOf(p) {
		if !slices.Contains(fakeDeploymentProps, k) {
			f.t.Errorf("fakeCompass: deploymentProperties.%s is not documented", k)
		}
	}
	if !slices.Contains(fakeDeploymentStates, fmt.Sprint(p["state"])) {
		f.t.Errorf("fakeCompass: state %v is not documented", p["state"])
	}
	if env, _ := p["environment"].(map[string]any); env == nil || !slices.Contains(fakeEnvCategories, fmt.Sprint(env["category"])) {
		f.t.Errorf("fakeCompass: environment %v has no documented category", p["environment"])
	}
	attached := false
	for _, ss := range f.attached {
		for _, s := range ss {
			attached = attached || f.sources[s] == d["externalEventSourceId"]
		}
	}
	if !attached {
		f.t.Errorf("fakeCompass: event source %v is attached to no component", d["externalEventSourceId"])
	}
}

func writeGQL(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeCompass) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// snapshot returns what the fake has seen so far.
func (f *fakeCompass) snapshot() (calls []fakeCall, events, metrics []map[string]any, failed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls), slices.Clone(f.events), slices.Clone(f.metrics), f.failedOps
}

func fields(calls []fakeCall) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.field
	}
	return out
}

// waitUntil polls cond until it holds or 10 s pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncedLog collects the server's log.
type syncedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func compassEvent(seq int64, state catalog.DeploymentState) catalog.DeploymentEvent {
	ev := validEvent()
	ev.DisplayName = fmt.Sprintf("orders %d", seq)
	ev.Version = fmt.Sprint(seq)
	ev.URL = fmt.Sprintf("https://ci.example.com/%d", seq)
	ev.DeploymentProperties.SequenceNumber = seq
	ev.DeploymentProperties.State = state
	ev.DeploymentProperties.StartedAt = ev.DeploymentProperties.StartedAt.Add(time.Duration(seq) * time.Hour)
	ev.DeploymentProperties.CompletedAt = ev.DeploymentProperties.StartedAt.Add(time.Minute)
	ev.DeploymentProperties.Pipeline = catalog.Pipeline{PipelineID: "deploy-orders", DisplayName: "Deploy orders", URL: "https://ci.example.com/p"}
	return ev
}

// The catalog keeps the fake Compass in step: components created (looked up by their
// external alias first) with their event and metric sources, then updated; DEPENDS_ON
// relationships; deployment events as they are recorded; scores as metric values. A
// Compass outage loses nothing: what was recorded meanwhile arrives, in order and once,
// when Compass is back. The token appears in no log line.
func TestCompassPush(t *testing.T) {
	fc := newFakeCompass(t)
	st := memory.New(memory.Options{})
	defer st.Close()
	var log syncedLog
	opts := server.Options{AdminToken: adminToken, Development: true,
		Logger:     slog.New(slog.NewTextHandler(&log, nil)),
		CompassIDs: catalog.CompassIDs{Teams: map[string]string{"team-a": teamAARI}},
		Compass: &server.CompassOptions{SiteURL: fc.srv.URL, User: fc.user, Token: fc.token, CloudID: "cloud-1",
			ScoreMetricID: "ari:cloud:compass:cloud-1:metric-definition/score", CatalogURL: "https://catalog.example.com",
			MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Poll: 20 * time.Millisecond}}
	api := server.New(st, opts)
	ts := httptest.NewServer(api)
	defer ts.Close()
	e := &env{t: t, st: st, url: ts.URL}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.RunCompass(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunCompass: got %v, want nil", err)
		}
	}()

	inventory := storetest.Component("inventory", "team-b")
	orders := storetest.Component("orders", "team-a")
	orders.DependsOn = []string{"inventory"}
	expect(t, e.do("PUT", "/api/v1/components/inventory", adminToken, inventory), 201)
	expect(t, e.do("PUT", "/api/v1/components/orders", adminToken, orders), 201)
	expect(t, e.do("PUT", "/api/v1/components/orders", adminToken, orders), 200) // unchanged: no sync
	wantOps := []string{
		"componentByExternalAlias", "createComponent", "createEventSource", "attachEventSource", "createMetricSource", // inventory
		"componentByExternalAlias", "createComponent", "createEventSource", "attachEventSource", "createMetricSource", "createRelationship", // orders
	}
	// Entries of one batch for one component are sent once, with its latest state: the
	// change waits for the creation, so that it is an update.
	waitUntil(t, "the components created", func() bool { c, _, _, _ := fc.snapshot(); return len(c) >= len(wantOps) })
	calls, _, _, _ := fc.snapshot()
	if got := fields(calls); !slices.Equal(got, wantOps) {
		t.Fatalf("got operations\n%v\nwant\n%v", got, wantOps)
	}
	orders.Description = "Takes orders."
	expect(t, e.do("PUT", "/api/v1/components/orders", adminToken, orders), 200)
	updated := func(c fakeCall) bool {
		return c.field == "updateComponent" && c.vars["input"].(map[string]any)["description"] == "Takes orders."
	}
	waitUntil(t, "the update", func() bool { c, _, _, _ := fc.snapshot(); return slices.ContainsFunc(c, updated) })
	time.Sleep(50 * time.Millisecond)
	calls, _, _, _ = fc.snapshot()
	// The change is sent as an update and the relationship again (once, or twice when the
	// sender read the component between the two entries the write enqueues).
	tail := fields(calls[len(wantOps):])
	if !slices.Equal(tail, []string{"updateComponent", "createRelationship"}) &&
		!slices.Equal(tail, []string{"updateComponent", "createRelationship", "updateComponent", "createRelationship"}) {
		t.Fatalf("after the change: got %v, want updateComponent, createRelationship", tail)
	}
	create := calls[6].vars["input"].(map[string]any)
	wantCreate := `{"description":"The orders service.","externalAlias":{"externalId":"orders","externalSource":"paved"},"labels":["owner:team-a","depends-on:inventory","domain:sales"],"links":[{"name":"Runbook","type":"DOCUMENT","url":"https://wiki.example.com/orders"}],"name":"orders","ownerId":"` + teamAARI + `","typeId":"SERVICE"}`
	if b, _ := json.Marshal(create); string(b) != wantCreate {
		t.Errorf("createComponent orders: got\n%s\nwant\n%s", b, wantCreate)
	}
	invCreate := calls[1].vars["input"].(map[string]any)
	if invCreate["ownerId"] != nil {
		t.Errorf("inventory: got ownerId %v, want null (team-b is not mapped)", invCreate["ownerId"])
	}
	fc.mu.Lock()
	invID, ordersCompassID := fc.aliases["inventory"], fc.aliases["orders"]
	fc.mu.Unlock()
	rel := calls[10].vars["input"].(map[string]any)
	if rel["startNodeId"] != ordersCompassID || rel["endNodeId"] != invID || rel["type"] != "DEPENDS_ON" {
		t.Errorf("createRelationship: got %v, want orders DEPENDS_ON inventory", rel)
	}
	upd := calls[len(calls)-2].vars["input"].(map[string]any)
	if b, _ := json.Marshal(upd); string(b) != `{"description":"Takes orders.","id":"`+ordersCompassID+`","name":"orders","ownerId":"`+teamAARI+`","typeId":"SERVICE"}` {
		t.Errorf("updateComponent: got %s", b)
	}
	ms := calls[9].vars["input"].(map[string]any)
	if ms["componentId"] != ordersCompassID || ms["externalMetricSourceId"] != "paved:orders" || ms["metricDefinitionId"] != opts.Compass.ScoreMetricID {
		t.Errorf("createMetricSource: got %v", ms)
	}

	// A pushed deployment event reaches Compass as a createEvent.
	expect(t, e.do("POST", "/api/v1/events", adminToken, compassEvent(1, catalog.DeploymentSuccessful)), 201)
	waitUntil(t, "the first event", func() bool { _, ev, _, _ := fc.snapshot(); return len(ev) == 1 })
	_, events, _, _ := fc.snapshot()
	d := events[0]
	if d["updateSequenceNumber"] == nil || d["lastUpdated"] == nil {
		t.Fatalf("event: got %v, want updateSequenceNumber and lastUpdated", d)
	}
	delete(d, "updateSequenceNumber")
	delete(d, "lastUpdated")
	wantEvent := `{"deploymentProperties":{"environment":{"category":"PRODUCTION","displayName":"production","environmentId":"production"},"pipeline":{"displayName":"Deploy orders","pipelineId":"deploy-orders","url":"https://ci.example.com/p"},"sequenceNumber":1,"state":"SUCCESSFUL"},"description":"orders 1 in production, observed by the Paved catalog (0 instances)","displayName":"orders 1","externalEventSourceId":"paved:orders","url":"https://ci.example.com/1"}`
	if b, _ := json.Marshal(d); string(b) != wantEvent {
		t.Errorf("createEvent: got\n%s\nwant\n%s", b, wantEvent)
	}

	// Compass goes down: three deployments and a score are recorded meanwhile.
	fc.setDown(true)
	for seq := int64(2); seq <= 4; seq++ {
		expect(t, e.do("POST", "/api/v1/events", adminToken, compassEvent(seq, catalog.DeploymentSuccessful)), 201)
	}
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-1", adminToken, storetest.Instance("orders", "i-1")), 200)
	expect(t, e.do("PUT", "/api/v1/components/orders/scorecard", adminToken, catalog.Scorecard{Instance: "i-1", RuleSetVersion: "1", Score: 87}), 204)
	waitUntil(t, "retries during the outage", func() bool { _, _, _, failed := fc.snapshot(); return failed >= 3 })
	pending, err := st.Pending(t.Context(), server.CompassOutbox, 100)
	if err != nil || len(pending) != 4 {
		t.Fatalf("during the outage: got %d pending (%v), want the 3 events and the score kept in the outbox", len(pending), err)
	}
	fc.setDown(false)
	waitUntil(t, "the events after the outage", func() bool { _, ev, m, _ := fc.snapshot(); return len(ev) == 4 && len(m) == 1 })
	time.Sleep(50 * time.Millisecond) // anything sent twice would arrive now
	_, events, metrics, _ := fc.snapshot()
	var seqs []any
	for _, ev := range events {
		seqs = append(seqs, ev["deploymentProperties"].(map[string]any)["sequenceNumber"])
	}
	if fmt.Sprint(seqs) != "[1 2 3 4]" {
		t.Errorf("got event sequence numbers %v, want [1 2 3 4]: each once, in order", seqs)
	}
	if len(metrics) != 1 || metrics[0]["externalMetricSourceId"] != "paved:orders" || metrics[0]["value"].(map[string]any)["value"] != float64(87) {
		t.Errorf("got metric values %v, want orders' score 87 once", metrics)
	}
	if pending, _ := st.Pending(t.Context(), server.CompassOutbox, 100); len(pending) != 0 {
		t.Errorf("after recovery: got %d pending, want 0", len(pending))
	}
	if l := log.String(); strings.Contains(l, fc.token) || !strings.Contains(l, "compass: sending failed; retrying") {
		t.Errorf("log: got\n%s\nwant the retries logged and never the token", l)
	}
}

// A store without an outbox cannot push: New says so.
func TestCompassNeedsOutbox(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "store.Outbox") {
			t.Fatalf("got %v, want a panic naming store.Outbox", r)
		}
	}()
	st := memory.New(memory.Options{})
	defer st.Close()
	server.New(struct{ store.Store }{st}, server.Options{Compass: &server.CompassOptions{}})
}

func TestCompassOptionsValidate(t *testing.T) {
	o := server.CompassOptions{SiteURL: "https://bot:hunter2@x.atlassian.net", CatalogURL: "catalog", ScoreMetricID: "score"}
	err := o.Validate()
	for _, want := range []string{"COMPASS_SITE_URL", "xxxxx", "COMPASS_CATALOG_URL", "COMPASS_USER", "COMPASS_API_TOKEN", "COMPASS_CLOUD_ID", "COMPASS_SCORE_METRIC_ID"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to name %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("got %v, want the password redacted", err)
	}
}
