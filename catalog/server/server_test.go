package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

func TestMain(m *testing.M) {
	if killChild() {
		return
	}
	goleak.VerifyTestMain(m)
}

const (
	tokenA     = "team-a-token-0123456789"
	tokenB     = "team-b-token-0123456789"
	adminToken = "admin-token-0123456789"
)

// env is a catalog server on a real loopback socket over a memory store.
type env struct {
	t   *testing.T
	st  *memory.Store
	url string
}

func newEnv(t *testing.T, mutate ...func(*server.Options)) *env {
	t.Helper()
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + tokenA + "\nteam-b:" + tokenB + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{Grace: time.Second, SweepInterval: 50 * time.Millisecond})
	opts := server.Options{Tokens: tokens, AdminToken: adminToken, DefaultWait: 5 * time.Second, Development: true}
	for _, m := range mutate {
		m(&opts)
	}
	ts := httptest.NewServer(server.New(st, opts))
	t.Cleanup(func() {
		ts.Close()
		_ = st.Close()
	})
	return &env{t: t, st: st, url: ts.URL}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	return e.doHeader(method, path, token, nil, body)
}

// doHeader is do with extra request headers.
func (e *env) doHeader(method, path, token string, header http.Header, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

func (r resp) problem(t *testing.T) catalog.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != catalog.ProblemContentType {
		t.Fatalf("got Content-Type %q for status %d, want %s (body %s)", ct, r.status, catalog.ProblemContentType, r.body)
	}
	var p catalog.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("got %v decoding %s, want a problem", err, r.body)
	}
	if p.Status != r.status {
		t.Fatalf("got problem status %d, want %d", p.Status, r.status)
	}
	return p
}

func expect(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got status %d, want %d (body %s)", r.status, status, r.body)
	}
}

func fieldsOf(p catalog.Problem) []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func (e *env) seed() {
	e.t.Helper()
	expect(e.t, e.do("PUT", "/api/v1/components/orders", tokenA, storetest.Component("orders", "team-a")), 201)
	expect(e.t, e.do("PUT", "/api/v1/components/billing", tokenB, storetest.Component("billing", "team-b")), 201)
	expect(e.t, e.do("PUT", "/api/v1/components/orders/instances/i-1", tokenA, storetest.Instance("orders", "i-1")), 200)
}

func TestAuthMatrix(t *testing.T) {
	inst := storetest.Instance("orders", "i-2")
	card := catalog.Scorecard{Instance: "i-1", RuleSetVersion: "1", Score: 90}
	calls := []struct {
		name, method, path string
		body               any
		okStatus           int
	}{
		{"update component", "PUT", "/api/v1/components/orders", storetest.Component("orders", "team-a"), 200},
		{"delete component", "DELETE", "/api/v1/components/orders", nil, 204},
		{"register instance", "PUT", "/api/v1/components/orders/instances/i-2", inst, 200},
		{"heartbeat instance", "PUT", "/api/v1/components/orders/instances/i-1", storetest.Instance("orders", "i-1"), 200},
		{"deregister instance", "DELETE", "/api/v1/components/orders/instances/i-1", nil, 204},
		{"report scorecard", "PUT", "/api/v1/components/orders/scorecard", card, 204},
	}
	tokens := []struct {
		name, token string
		want        int // 0: the call's success status
	}{
		{"missing", "", 401},
		{"wrong", "not-a-token-at-all-xxxxx", 401},
		{"other team", tokenB, 403},
		{"owner", tokenA, 0},
		{"admin", adminToken, 0},
	}
	for _, c := range calls {
		for _, tk := range tokens {
			t.Run(c.name+"/"+tk.name, func(t *testing.T) {
				e := newEnv(t)
				e.seed()
				want := tk.want
				if want == 0 {
					want = c.okStatus
				}
				r := e.do(c.method, c.path, tk.token, c.body)
				expect(t, r, want)
				if want >= 400 {
					r.problem(t)
					if want == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
						t.Fatalf("got WWW-Authenticate %q, want Bearer", r.header.Get("WWW-Authenticate"))
					}
					// Nothing changed: orders and i-1 are as seeded.
					set, err := e.st.Instances(t.Context(), "orders")
					if err != nil || !slices.Equal(instanceIDs(set), []string{"i-1"}) {
						t.Fatalf("got %v, %v after a refused call, want [i-1]", instanceIDs(set), err)
					}
				}
			})
		}
	}
}

func instanceIDs(set store.InstanceSet) []string {
	var out []string
	for _, in := range set.Instances {
		out = append(out, in.ID)
	}
	return out
}

func TestTeamCannotTakeOrGiveComponents(t *testing.T) {
	e := newEnv(t)
	e.seed()
	// team-b may not take orders, even by naming itself owner.
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenB, storetest.Component("orders", "team-b")), 403)
	// team-a may not create a component for team-b.
	r := e.do("PUT", "/api/v1/components/payments", tokenA, storetest.Component("payments", "team-b"))
	expect(t, r, 403)
	if p := r.problem(t); !strings.Contains(p.Detail, `"team-b"`) {
		t.Fatalf("got detail %q, want it to name team-b", p.Detail)
	}
	// team-a may not give orders away; the admin may.
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, storetest.Component("orders", "team-b")), 403)
	expect(t, e.do("PUT", "/api/v1/components/orders", adminToken, storetest.Component("orders", "team-b")), 200)
	if c, _ := e.st.GetComponent(t.Context(), "orders"); c.Owner != "team-b" {
		t.Fatalf("got owner %q, want team-b", c.Owner)
	}
}

func TestComponentsAPI(t *testing.T) {
	e := newEnv(t)
	c := storetest.Component("orders", "team-a")
	r := e.do("PUT", "/api/v1/components/orders", tokenA, c)
	expect(t, r, 201)
	if r.header.Get("Location") != "/api/v1/components/orders" {
		t.Fatalf("got Location %q, want /api/v1/components/orders", r.header.Get("Location"))
	}
	c.Tier = 1
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, c), 200)
	inv := storetest.Component("inventory", "team-a")
	inv.Lifecycle = catalog.LifecycleDeprecated
	inv.Labels = map[string]string{"domain": "stock"}
	expect(t, e.do("PUT", "/api/v1/components/inventory", tokenA, inv), 201)
	expect(t, e.do("PUT", "/api/v1/components/billing", tokenB, storetest.Component("billing", "team-b")), 201)

	r = e.do("GET", "/api/v1/components/orders", "", nil)
	expect(t, r, 200)
	var got catalog.Component
	if err := json.Unmarshal(r.body, &got); err != nil || got.Tier != 1 || got.Owner != "team-a" {
		t.Fatalf("got %+v, %v, want orders tier 1", got, err)
	}
	list := func(q string) []string {
		r := e.do("GET", "/api/v1/components"+q, "", nil)
		expect(t, r, 200)
		var cs []catalog.Component
		if err := json.Unmarshal(r.body, &cs); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cs {
			names = append(names, c.Name)
		}
		return names
	}
	for q, want := range map[string][]string{
		"":                        {"billing", "inventory", "orders"},
		"?owner=team-a":           {"inventory", "orders"},
		"?tier=1":                 {"orders"},
		"?lifecycle=deprecated":   {"inventory"},
		"?label=domain=stock":     {"inventory"},
		"?q=BILL":                 {"billing"},
		"?owner=team-a&tier=2":    {"inventory"},
		"?label=domain%3Dnothing": nil,
	} {
		if got := list(q); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", q, got, want)
		}
	}
	r = e.do("GET", "/api/v1/components?tier=9&lifecycle=beta&label=x", "", nil)
	expect(t, r, 400)
	if f := fieldsOf(r.problem(t)); !slices.Equal(f, []string{"tier", "lifecycle", "label"}) {
		t.Fatalf("got fields %v, want [tier lifecycle label]", f)
	}

	r = e.do("GET", "/api/v1/components/nope", "", nil)
	expect(t, r, 404)
	r.problem(t)
	expect(t, e.do("DELETE", "/api/v1/components/orders", tokenA, nil), 204)
	expect(t, e.do("GET", "/api/v1/components/orders", "", nil), 404)
	expect(t, e.do("DELETE", "/api/v1/components/orders", tokenA, nil), 404)
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t, func(o *server.Options) { o.MaxBodyBytes = 2048 })
	e.seed()
	okComp := `"owner":"team-a","type":"service","tier":2,"lifecycle":"production"`
	tests := []struct {
		name, path, body string
		status           int
		fields           []string
	}{
		{"unknown field", "/api/v1/components/orders", `{"name":"orders",` + okComp + `,"colour":"red"}`, 400, []string{"colour"}},
		{"duplicate key", "/api/v1/components/orders", `{"name":"orders",` + okComp + `,"tier":3}`, 400, []string{"tier"}},
		{"trailing data", "/api/v1/components/orders", `{"name":"orders",` + okComp + `}{}`, 400, []string{""}},
		{"not json", "/api/v1/components/orders", `name=orders`, 400, []string{""}},
		{"too large", "/api/v1/components/orders", `{"description":"` + strings.Repeat("x", 3000) + `"}`, 413, nil},
		{"invalid fields", "/api/v1/components/orders", `{"name":"orders",` + okComp + `,"links":{"runbook":"ftp://x"},"dependsOn":["Bad"]}`, 400, []string{"links.runbook", "dependsOn[0]"}},
		{"name mismatch", "/api/v1/components/orders", `{"name":"other",` + okComp + `}`, 400, []string{"name"}},
		{"metadata address", "/api/v1/components/orders/instances/i-9", `{"version":"1","addresses":{"admin":"169.254.169.254:80"},"startedAt":"2026-01-01T00:00:00Z","ttlSeconds":30,"status":"passing"}`, 400, []string{"addresses.admin"}},
		{"instance id mismatch", "/api/v1/components/orders/instances/i-9", `{"id":"i-8","component":"billing"}`, 400, []string{"component", "id"}},
		{"bad time", "/api/v1/components/orders/instances/i-9", `{"startedAt":"now"}`, 400, []string{"startedAt"}},
		{"scorecard invalid", "/api/v1/components/orders/scorecard", `{"instance":"i-1","ruleSetVersion":"1","score":101}`, 400, []string{"score"}},
		{"scorecard unknown instance", "/api/v1/components/orders/scorecard", `{"instance":"i-404","ruleSetVersion":"1","score":10}`, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", tt.path, tokenA, tt.body)
			expect(t, r, tt.status)
			p := r.problem(t)
			if tt.fields != nil && !slices.Equal(fieldsOf(p), tt.fields) {
				t.Fatalf("got fields %v, want %v (%s)", fieldsOf(p), tt.fields, r.body)
			}
		})
	}
	// Nothing was written by any of them.
	c, _ := e.st.GetComponent(t.Context(), "orders")
	if c.Tier != 2 || c.Links.Runbook != "https://wiki.example.com/orders" {
		t.Fatalf("got %+v, want orders as seeded", c)
	}
	set, _ := e.st.Instances(t.Context(), "orders")
	if !slices.Equal(instanceIDs(set), []string{"i-1"}) {
		t.Fatalf("got %v, want [i-1]", instanceIDs(set))
	}
}

func TestInstancesAPI(t *testing.T) {
	e := newEnv(t)
	e.seed()
	in := storetest.Instance("orders", "i-2")
	in.Component, in.ID = "", "" // taken from the path
	r := e.do("PUT", "/api/v1/components/orders/instances/i-2", tokenA, in)
	expect(t, r, 200)
	var stored catalog.Instance
	if err := json.Unmarshal(r.body, &stored); err != nil || stored.ID != "i-2" || stored.Component != "orders" || stored.LastHeartbeat.IsZero() {
		t.Fatalf("got %+v, %v, want i-2 of orders with a heartbeat time", stored, err)
	}
	sick := storetest.Instance("orders", "i-3")
	sick.Status = catalog.StatusCritical
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-3", tokenA, sick), 200)

	list := func(q string) (store.InstanceSet, resp) {
		r := e.do("GET", "/api/v1/components/orders/instances"+q, "", nil)
		expect(t, r, 200)
		var set store.InstanceSet
		if err := json.Unmarshal(r.body, &set); err != nil {
			t.Fatal(err)
		}
		return set, r
	}
	set, r := list("")
	if !slices.Equal(instanceIDs(set), []string{"i-1", "i-2"}) {
		t.Fatalf("healthy: got %v, want [i-1 i-2]", instanceIDs(set))
	}
	if r.header.Get(server.IndexHeader) == "" {
		t.Fatalf("got no %s header, want the index", server.IndexHeader)
	}
	set, _ = list("?status=all")
	if !slices.Equal(instanceIDs(set), []string{"i-1", "i-2", "i-3"}) {
		t.Fatalf("all: got %v, want [i-1 i-2 i-3]", instanceIDs(set))
	}
	expect(t, e.do("GET", "/api/v1/components/orders/instances?status=sick", "", nil), 400)
	expect(t, e.do("GET", "/api/v1/components/nope/instances", "", nil), 404)
	expect(t, e.do("DELETE", "/api/v1/components/orders/instances/i-2", tokenA, nil), 204)
	expect(t, e.do("DELETE", "/api/v1/components/orders/instances/i-2", tokenA, nil), 404)
	set, _ = list("?status=all")
	if !slices.Equal(instanceIDs(set), []string{"i-1", "i-3"}) {
		t.Fatalf("after deregister: got %v, want [i-1 i-3]", instanceIDs(set))
	}
}

func TestWatchOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.seed()
	r := e.do("GET", "/api/v1/components/orders/instances", "", nil)
	index := r.header.Get(server.IndexHeader)

	type result struct {
		r    resp
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		r := e.do("GET", "/api/v1/components/orders/instances?index="+index+"&wait=10s", "", nil)
		done <- result{r, time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond)
	registered := time.Now()
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-2", tokenA, storetest.Instance("orders", "i-2")), 200)
	res := <-done
	expect(t, res.r, 200)
	if d := time.Since(registered); d > time.Second {
		t.Fatalf("got the change after %v, want within 1s", d)
	}
	if res.took < 150*time.Millisecond {
		t.Fatalf("got an answer after %v, want the poll to block until the change", res.took)
	}
	var set store.InstanceSet
	_ = json.Unmarshal(res.r.body, &set)
	if !slices.Equal(instanceIDs(set), []string{"i-1", "i-2"}) || res.r.header.Get(server.IndexHeader) == index {
		t.Fatalf("got %v at index %s, want [i-1 i-2] at a new index", instanceIDs(set), res.r.header.Get(server.IndexHeader))
	}

	// Nothing changes: the poll answers after wait with the same index.
	idx := res.r.header.Get(server.IndexHeader)
	r = e.do("GET", "/api/v1/components/orders/instances?index="+idx+"&wait=300ms", "", nil)
	expect(t, r, 200)
	if r.header.Get(server.IndexHeader) != idx {
		t.Fatalf("got index %s, want %s unchanged", r.header.Get(server.IndexHeader), idx)
	}
	r = e.do("GET", "/api/v1/components/orders/instances?index=x&wait=soon", "", nil)
	expect(t, r, 400)
	if f := fieldsOf(r.problem(t)); !slices.Equal(f, []string{"index", "wait"}) {
		t.Fatalf("got fields %v, want [index wait]", f)
	}
}

// TTL expiry over real HTTP: a 1 s TTL, a 1 s grace, a 50 ms sweep.
func TestTTLExpiryOverHTTP(t *testing.T) {
	e := newEnv(t)
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, storetest.Component("orders", "team-a")), 201)
	in := storetest.Instance("orders", "i-1")
	in.TTLSeconds = 1
	start := time.Now()
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-1", tokenA, in), 200)
	index := e.do("GET", "/api/v1/components/orders/instances?status=all", "", nil).header.Get(server.IndexHeader)

	poll := func() store.InstanceSet {
		r := e.do("GET", "/api/v1/components/orders/instances?status=all&wait=5s&index="+index, "", nil)
		expect(t, r, 200)
		index = r.header.Get(server.IndexHeader)
		var set store.InstanceSet
		_ = json.Unmarshal(r.body, &set)
		return set
	}
	set := poll()
	if len(set.Instances) != 1 || !set.Instances[0].Expired || set.Instances[0].Status != catalog.StatusCritical {
		t.Fatalf("got %+v, want i-1 expired and critical", set.Instances)
	}
	if d := time.Since(start); d < time.Second || d > 2*time.Second {
		t.Fatalf("got expiry after %v, want between the 1s TTL and 2s", d)
	}
	healthy := e.do("GET", "/api/v1/components/orders/instances", "", nil)
	var hs store.InstanceSet
	_ = json.Unmarshal(healthy.body, &hs)
	if len(hs.Instances) != 0 {
		t.Fatalf("got %v healthy, want none", instanceIDs(hs))
	}
	set = poll()
	if len(set.Instances) != 0 {
		t.Fatalf("got %v, want i-1 removed after the grace period", instanceIDs(set))
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("got removal after %v, want after TTL + grace (2s)", d)
	}
}

// TestTargets: every live instance is published with its health, whatever its readiness,
// so Prometheus keeps scraping an instance that fails readiness (up stays 1 and its
// health check series stay); an expired one is not.
func TestTargets(t *testing.T) {
	e := newEnv(t)
	e.seed()
	sick := storetest.Instance("orders", "i-2")
	sick.Status = catalog.StatusCritical
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-2", tokenA, sick), 200)
	noAdmin := storetest.Instance("billing", "b-1")
	noAdmin.Addresses.Admin = ""
	expect(t, e.do("PUT", "/api/v1/components/billing/instances/b-1", tokenB, noAdmin), 200)
	prod := storetest.Instance("orders", "i-3")
	prod.Addresses.Admin = "127.0.0.1:9093"
	prod.Status = catalog.StatusWarning
	prod.Metadata = map[string]string{server.EnvironmentMetadata: "production"}
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-3", tokenA, prod), 200)
	gone := storetest.Instance("orders", "i-4")
	gone.TTLSeconds = 1
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-4", tokenA, gone), 200)

	labels := func(id, health string) map[string]string {
		return map[string]string{"component": "orders", "owner": "team-a", "tier": "2", "lifecycle": "production",
			"version": "1.0.0", "instance_id": id, "health": health}
	}
	want := []server.TargetGroup{
		{Targets: []string{"127.0.0.1:9090"}, Labels: labels("i-1", "passing")},
		{Targets: []string{"127.0.0.1:9090"}, Labels: labels("i-2", "critical")},
		{Targets: []string{"127.0.0.1:9093"}, Labels: labels("i-3", "warning")},
	}
	want[2].Labels["environment"] = "production"
	get := func() string {
		r := e.do("GET", "/api/v1/targets", "", nil)
		expect(t, r, 200)
		var groups []server.TargetGroup
		if err := json.Unmarshal(r.body, &groups); err != nil {
			t.Fatal(err)
		}
		return mustJSON(groups)
	}
	// i-4 is live until its 1 s TTL runs out, then expired (critical) for the 1 s grace:
	// it is published while live, not once expired.
	if got, w := get(), mustJSON(append(slices.Clone(want), server.TargetGroup{Targets: []string{"127.0.0.1:9090"}, Labels: labels("i-4", "passing")})); got != w {
		t.Fatalf("got %s, want %s", got, w)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("i-4 did not expire within 5s")
		}
		in, err := e.st.GetInstance(t.Context(), "orders", "i-4")
		if err != nil || !in.Expired {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		got := get()
		if in, err := e.st.GetInstance(t.Context(), "orders", "i-4"); err != nil || !in.Expired {
			t.Fatalf("i-4 was removed during the check (%v): the answer proves nothing", err)
		}
		if w := mustJSON(want); got != w {
			t.Fatalf("with i-4 expired: got %s, want %s", got, w)
		}
		break
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestScorecardAPI(t *testing.T) {
	e := newEnv(t)
	e.seed()
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-2", tokenA, storetest.Instance("orders", "i-2")), 200)
	for _, c := range []catalog.Scorecard{
		{Instance: "i-1", RuleSetVersion: "1", Score: 90, Passed: []string{"owner"}},
		{Instance: "i-2", RuleSetVersion: "1", Score: 55, Failed: []catalog.RuleResult{{ID: "runbook", Level: catalog.LevelError, Message: "missing"}}},
	} {
		expect(t, e.do("PUT", "/api/v1/components/orders/scorecard", tokenA, c), 204)
	}
	r := e.do("GET", "/api/v1/components/orders/scorecard", "", nil)
	expect(t, r, 200)
	var sc catalog.ComponentScorecard
	if err := json.Unmarshal(r.body, &sc); err != nil || sc.Score != 55 || len(sc.Instances) != 2 || sc.Instances[1].Failed[0].ID != "runbook" {
		t.Fatalf("got %+v, %v, want 2 cards and score 55", sc, err)
	}
	expect(t, e.do("GET", "/api/v1/components/nope/scorecard", "", nil), 404)
}

func TestUnknownPathAndMethod(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/nope", "", nil)
	expect(t, r, 404)
	r.problem(t)
	r = e.do("POST", "/api/v1/components", tokenA, "{}")
	expect(t, r, 405)
	r.problem(t)
	if r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("got Allow %q, want GET, HEAD", r.header.Get("Allow"))
	}
	r = e.do("PATCH", "/api/v1/components/orders/instances/i-1", tokenA, "{}")
	expect(t, r, 405)
	r.problem(t)
}

func TestReadToken(t *testing.T) {
	e := newEnv(t, func(o *server.Options) { o.ReadToken = "read-token-0123456789" })
	e.seed()
	r := e.do("GET", "/api/v1/components", "", nil)
	expect(t, r, 401)
	r.problem(t)
	expect(t, e.do("GET", "/api/v1/components", "wrong", nil), 401)
	expect(t, e.do("GET", "/api/v1/components", "read-token-0123456789", nil), 200)
	expect(t, e.do("GET", "/api/v1/targets", tokenB, nil), 200)
	expect(t, e.do("GET", "/api/v1/components/orders", adminToken, nil), 200)
	// The read token does not allow writes.
	expect(t, e.do("DELETE", "/api/v1/components/orders", "read-token-0123456789", nil), 401)
}

func TestOpenMode(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, func(o *server.Options) {
		o.Open = true
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !strings.Contains(logs.String(), "open mode") || !strings.Contains(logs.String(), "WARN") {
		t.Fatalf("got log %q, want an open-mode warning", logs.String())
	}
	expect(t, e.do("PUT", "/api/v1/components/orders", "", storetest.Component("orders", "team-a")), 201)
	expect(t, e.do("PUT", "/api/v1/components/orders/instances/i-1", "", storetest.Instance("orders", "i-1")), 200)
}

func TestParseTokens(t *testing.T) {
	const file = `# teams
team-a:team-a-token-0123456789   # trailing comment

team-b:sha256:` + "1b4f0e9851971998e732078544c96b36c3d01cedf7caa332359d6f1d83567014" + `
`
	tk, err := server.ParseTokens(strings.NewReader(file))
	if err != nil || tk.Len() != 2 {
		t.Fatalf("got %v, %v, want 2 tokens", tk, err)
	}
	for _, bad := range []struct{ file, want string }{
		{"team-a\n", "line 1"},
		{"# c\nTeam:abcdefghijklmnopq\n", "line 2"},
		{"team-a:short\n", "at least 16"},
		{"team-a:sha256:zz\n", "64 hex digits"},
	} {
		_, err := server.ParseTokens(strings.NewReader(bad.file))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want an error containing %q", bad.file, err, bad.want)
		}
		if err != nil && strings.Contains(err.Error(), "abcdefghijklmnopq") {
			t.Errorf("got %v, want no token quoted in errors", err)
		}
	}
}

// A hashed token authenticates the team it belongs to.
func TestHashedToken(t *testing.T) {
	// sha256("test") = 9f86d0...
	tk, err := server.ParseTokens(strings.NewReader("team-a:sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{})
	defer st.Close()
	h := server.New(st, server.Options{Tokens: tk})
	body := mustJSON(storetest.Component("orders", "team-a"))
	for token, want := range map[string]int{"test": 201, "tesT": 401} {
		req := httptest.NewRequestWithContext(context.Background(), "PUT", "/api/v1/components/orders", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("token %q: got %d, want %d", token, rec.Code, want)
		}
		_ = st.DeleteComponent(context.Background(), "orders")
	}
}
