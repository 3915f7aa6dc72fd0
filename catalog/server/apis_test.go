package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// adminServer is an instance's admin address serving /apis/{name}, as a Paved service
// does: the definition it serves can change, as a new version of the service would.
type adminServer struct {
	*httptest.Server
	mu   sync.Mutex
	defs map[string][]byte
	hits int
}

func newAdminServer(t *testing.T) *adminServer {
	a := &adminServer{defs: map[string][]byte{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.hits++
		def, ok := a.defs[strings.TrimPrefix(r.URL.Path, "/apis/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", catalog.MediaTypeOpenAPI)
		_, _ = w.Write(def)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *adminServer) serve(name string, def []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.defs[name] = def
}

func (a *adminServer) addr() string { return strings.TrimPrefix(a.URL, "http://") }

// syncBuffer is a log sink tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newRunningEnv is newEnv with the server's Run going (it fetches API definitions),
// and its log kept.
func newRunningEnv(t *testing.T) (*env, *syncBuffer) {
	t.Helper()
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + tokenA + "\nteam-b:" + tokenB + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	st := memory.New(memory.Options{Grace: time.Second, SweepInterval: 50 * time.Millisecond})
	srv := server.New(st, server.Options{Tokens: tokens, AdminToken: adminToken, Development: true,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(ctx) }()
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		cancel()
		<-done
		ts.Close()
		_ = st.Close()
	})
	return &env{t: t, st: st, url: ts.URL}, logs
}

func inventoryDoc(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("apicheck", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func descriptor(name string, def []byte, version string) catalog.API {
	return catalog.API{Name: name, Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI, Version: version, Digest: catalog.Digest(def), Size: len(def)}
}

// waitFor polls the catalog until ok says yes, for at most 10 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) apiSummary(name string) (catalog.APISummary, int) {
	e.t.Helper()
	r := e.do("GET", "/api/v1/apis/"+name, "", nil)
	var s catalog.APISummary
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &s); err != nil {
			e.t.Fatalf("got %v decoding %s", err, r.body)
		}
	}
	return s, r.status
}

func (e *env) failing(component string) []catalog.RuleResult {
	e.t.Helper()
	r := e.do("GET", "/api/v1/components/"+component+"/scorecard", "", nil)
	expect(e.t, r, 200)
	var sc catalog.ComponentScorecard
	if err := json.Unmarshal(r.body, &sc); err != nil {
		e.t.Fatal(err)
	}
	return sc.Failing
}

// A registration with a new digest makes the catalog fetch the definition from the
// instance's admin address and keep it; a version that removes an endpoint a
// declared consumer uses is recorded as breaking, and fails api-compatible for its
// provider until the consumer stops declaring it.
func TestAPIVersionsFetchedCheckedAndServed(t *testing.T) {
	e, logs := newRunningEnv(t)
	admin := newAdminServer(t)
	const api = "inventory-http-v1"
	v1, v2 := inventoryDoc(t, "inventory.json"), inventoryDoc(t, "inventory-no-reservations.json")
	admin.serve(api, v1)

	inv := storetest.Component("inventory", "team-a")
	inv.ProvidesAPIs = []string{api}
	inv.APIs = []catalog.API{descriptor(api, v1, "1.0.0")}
	expect(t, e.do("PUT", "/api/v1/components/inventory", tokenA, inv), 201)
	orders := storetest.Component("orders", "team-b")
	orders.ConsumesAPIs = []string{api}
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenB, orders), 201)

	// Before any instance registered: the API is known by name, no version stored.
	s, status := e.apiSummary(api)
	if status != 200 || s.VersionCount != 0 || !slices.Equal(s.Providers, []string{"inventory"}) ||
		!slices.Equal(s.Consumers, []catalog.APIConsumer{{Component: "orders", Declared: true}}) {
		t.Fatalf("before registration: got %d %+v, want inventory providing, orders declaring, no version", status, s)
	}
	expect(t, e.do("GET", "/api/v1/apis/"+api+"/definition", "", nil), 404)

	in := storetest.Instance("inventory", "i-1")
	in.Addresses.Admin = admin.addr()
	expect(t, e.do("PUT", "/api/v1/components/inventory/instances/i-1", tokenA, in), 200)
	waitFor(t, "the first version", func() bool { s, _ := e.apiSummary(api); return s.VersionCount == 1 })

	r := e.do("GET", "/api/v1/apis/"+api+"/definition", "", nil)
	expect(t, r, 200)
	if !bytes.Equal(r.body, v1) || r.header.Get("Content-Type") != catalog.MediaTypeOpenAPI || r.header.Get("ETag") != `"`+catalog.Digest(v1)+`"` {
		t.Fatalf("definition: got %s with ETag %s and %d bytes, want the document, its media type and digest", r.header.Get("Content-Type"), r.header.Get("ETag"), len(r.body))
	}
	r = e.doHeader("GET", "/api/v1/apis/"+api+"/definition", "", http.Header{"If-None-Match": {`"` + catalog.Digest(v1) + `"`}}, nil)
	expect(t, r, 304)
	if f := e.failing("inventory"); len(f) != 0 {
		t.Fatalf("one compatible version: got failing %+v, want none", f)
	}

	// The next version of inventory drops POST /reservations.
	admin.serve(api, v2)
	inv.APIs = []catalog.API{descriptor(api, v2, "2.0.0")}
	expect(t, e.do("PUT", "/api/v1/components/inventory", tokenA, inv), 200)
	in.Version = "2.0.0"
	expect(t, e.doHeader("PUT", "/api/v1/components/inventory/instances/i-1", tokenA, http.Header{"If-Match": {"*"}}, in), 200)
	waitFor(t, "the second version", func() bool { s, _ := e.apiSummary(api); return s.VersionCount == 2 })

	s, _ = e.apiSummary(api)
	latest := s.Versions[0]
	if latest.Digest != catalog.Digest(v2) || latest.Previous != catalog.Digest(v1) || latest.Provider != "inventory" || latest.Version != "2.0.0" {
		t.Fatalf("latest version: got %+v, want 2.0.0 checked against 1.0.0", latest)
	}
	if len(latest.Breaking) != 1 || latest.Breaking[0].ID != "api-path-removed-without-deprecation" || latest.Breaking[0].Operation != "POST /reservations" {
		t.Fatalf("breaking changes: got %+v, want POST /reservations removed", latest.Breaking)
	}
	if !s.Breaking() || s.Latest == nil || s.Latest.Digest != latest.Digest {
		t.Fatalf("summary: got latest %+v, want the breaking version", s.Latest)
	}
	failing := e.failing("inventory")
	if len(failing) != 1 || failing[0].ID != "api-compatible" || failing[0].Level != catalog.LevelError ||
		!strings.Contains(failing[0].Message, "POST /reservations") || !strings.Contains(failing[0].Message, "orders") {
		t.Fatalf("inventory's failing rules: got %+v, want api-compatible naming POST /reservations and orders", failing)
	}
	r = e.do("GET", "/api/v1/components?failing=api-compatible", "", nil)
	expect(t, r, 200)
	if !strings.Contains(string(r.body), `"inventory"`) || strings.Contains(string(r.body), `"name":"orders"`) {
		t.Fatalf("?failing=api-compatible: got %s, want inventory alone", r.body)
	}
	// The older version stays readable by digest and by version.
	for _, q := range []string{"?digest=" + catalog.Digest(v1), "?version=1.0.0"} {
		r = e.do("GET", "/api/v1/apis/"+api+"/definition"+q, "", nil)
		expect(t, r, 200)
		if !bytes.Equal(r.body, v1) {
			t.Fatalf("definition%s: got %d bytes, want the first version", q, len(r.body))
		}
	}
	if r := e.do("GET", "/api/v1/apis/"+api+"/definition?digest=abc&color=red", "", nil); r.status != 400 || !slices.Equal(fieldsOf(r.problem(t)), []string{"color", "digest"}) {
		t.Fatalf("bad query: got %d %s, want 400 naming color and digest", r.status, r.body)
	}
	expect(t, e.do("GET", "/api/v1/apis/"+api+"/definition?version=9.9.9", "", nil), 404)
	expect(t, e.do("GET", "/api/v1/apis/nope-v1", "", nil), 404)

	// The list has the API with its latest version, without the versions themselves.
	r = e.do("GET", "/api/v1/apis", "", nil)
	expect(t, r, 200)
	var list struct{ APIs []catalog.APISummary }
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.APIs) != 1 || list.APIs[0].VersionCount != 2 || list.APIs[0].Versions != nil || !list.APIs[0].Breaking() {
		t.Fatalf("list: got %s, %v, want inventory-http-v1 with 2 versions, its latest breaking", r.body, err)
	}

	// orders stops consuming the API: inventory passes again.
	orders.ConsumesAPIs = nil
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenB, orders), 200)
	if f := e.failing("inventory"); len(f) != 0 {
		t.Fatalf("no consumer left: got failing %+v, want none", f)
	}
	if strings.Contains(logs.String(), "level=WARN") || strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("log: got %s, want no warning", logs)
	}
}

// An instance serving another definition than the digest it registered is not
// believed: nothing is stored, and the log says why.
func TestAPIDefinitionOfAnotherDigestRefused(t *testing.T) {
	e, logs := newRunningEnv(t)
	admin := newAdminServer(t)
	const api = "inventory-http-v1"
	admin.serve(api, inventoryDoc(t, "inventory-no-reservations.json"))
	inv := storetest.Component("inventory", "team-a")
	inv.ProvidesAPIs = []string{api}
	inv.APIs = []catalog.API{descriptor(api, inventoryDoc(t, "inventory.json"), "1.0.0")}
	expect(t, e.do("PUT", "/api/v1/components/inventory", tokenA, inv), 201)
	in := storetest.Instance("inventory", "i-1")
	in.Addresses.Admin = admin.addr()
	expect(t, e.do("PUT", "/api/v1/components/inventory/instances/i-1", tokenA, in), 200)
	waitFor(t, "the failed fetch in the log", func() bool { return strings.Contains(logs.String(), "fetching an API definition failed") })
	if !strings.Contains(logs.String(), "serves another version than it registered") {
		t.Fatalf("log: got %s, want the digest mismatch explained", logs)
	}
	if s, _ := e.apiSummary(api); s.VersionCount != 0 {
		t.Fatalf("got %d versions, want none stored", s.VersionCount)
	}
	// A heartbeat right after does not fetch again (at most once a minute per digest).
	hits := func() int { admin.mu.Lock(); defer admin.mu.Unlock(); return admin.hits }
	before := hits()
	expect(t, e.doHeader("PUT", "/api/v1/components/inventory/instances/i-1", tokenA, http.Header{"If-Match": {"*"}}, in), 200)
	time.Sleep(100 * time.Millisecond)
	if got := hits(); got != before {
		t.Fatalf("a heartbeat right after a failed fetch: got %d fetches, want %d", got, before)
	}
}
