package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog/server"
)

// The OpenAPI document describes exactly the routes the server serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(server.OpenAPI(), &doc); err != nil {
		t.Fatalf("got %v, want a JSON document", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("got openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var inDoc, served []string
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				inDoc = append(inDoc, strings.ToUpper(m)+" "+path)
			}
		}
	}
	for _, r := range server.Routes() {
		served = append(served, r.Method+" "+r.Pattern)
	}
	slices.Sort(inDoc)
	slices.Sort(served)
	if !slices.Equal(inDoc, served) {
		t.Fatalf("got documented %v, want the served %v", inDoc, served)
	}

	e := newEnv(t)
	r := e.do("GET", "/api/v1/openapi.json", "", nil)
	expect(t, r, 200)
	if string(r.body) != string(server.OpenAPI()) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %s (%s), want the embedded document", r.header.Get("Content-Type"), r.body[:min(len(r.body), 80)])
	}
}

// The document states the heartbeat's If-Match and 412, and the failing filter.
func TestOpenAPIDocumentsHeartbeatAndFailing(t *testing.T) {
	type param struct {
		Name string `json:"name"`
		In   string `json:"in"`
	}
	type op struct {
		Parameters []param                    `json:"parameters"`
		Responses  map[string]json.RawMessage `json:"responses"`
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(server.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	get := func(path, method string) op {
		var o op
		if err := json.Unmarshal(doc.Paths[path][method], &o); err != nil {
			t.Fatalf("%s %s: got %v, want an operation", method, path, err)
		}
		return o
	}
	has := func(o op, name, in string) bool {
		return slices.Contains(o.Parameters, param{name, in})
	}
	put := get("/api/v1/components/{name}/instances/{id}", "put")
	if !has(put, "If-Match", "header") || put.Responses["412"] == nil {
		t.Errorf("PUT instance: got parameters %v and responses without 412 or If-Match, want both", put.Parameters)
	}
	if list := get("/api/v1/components", "get"); !has(list, "failing", "query") {
		t.Errorf("GET components: got parameters %v, want failing", list.Parameters)
	}
}

// docs/openapi.json is a copy of the served document; copy it again when this fails:
// cp catalog/server/openapi.json docs/openapi.json
func TestDocsOpenAPIIsCurrent(t *testing.T) {
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.json"))
	if err != nil {
		t.Fatalf("got %v, want docs/openapi.json", err)
	}
	if !bytes.Equal(docs, server.OpenAPI()) {
		t.Fatal("docs/openapi.json differs from catalog/server/openapi.json: run cp catalog/server/openapi.json docs/openapi.json")
	}
}

// The document lists the answers every operation may give before its handler runs, as
// the server gives them: 400 for several Authorization headers, 415 for a write whose
// body is not JSON, and 429 with Retry-After when a rate limit is spent.
func TestOpenAPIDocumentsGuardAnswers(t *testing.T) {
	type response struct {
		Ref     string                     `json:"$ref"`
		Headers map[string]json.RawMessage `json:"headers"`
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses map[string]response `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(server.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	// documented returns the response op documents for status, following a $ref.
	documented := func(rt server.Route, status int) (response, bool) {
		var op struct {
			Responses map[string]response `json:"responses"`
		}
		if err := json.Unmarshal(doc.Paths[rt.Pattern][strings.ToLower(rt.Method)], &op); err != nil {
			t.Fatalf("%s %s: %v", rt.Method, rt.Pattern, err)
		}
		r, ok := op.Responses[strconv.Itoa(status)]
		if name, found := strings.CutPrefix(r.Ref, "#/components/responses/"); found {
			r, ok = doc.Components.Responses[name]
		}
		return r, ok
	}
	path := func(rt server.Route) string {
		return strings.NewReplacer("{name}", "orders", "{id}", "i-1").Replace(rt.Pattern)
	}
	check := func(rt server.Route, got resp, want int) {
		t.Helper()
		if got.status != want {
			t.Fatalf("%s %s: got status %d, want %d (body %s)", rt.Method, rt.Pattern, got.status, want, got.body)
		}
		r, ok := documented(rt, want)
		if !ok {
			t.Errorf("%s %s: the server answers %d, the document does not list it", rt.Method, rt.Pattern, want)
			return
		}
		if want == http.StatusTooManyRequests && r.Headers["Retry-After"] == nil {
			t.Errorf("%s %s: the documented 429 has no Retry-After header", rt.Method, rt.Pattern)
		}
	}

	e := newEnv(t)
	for _, rt := range server.Routes() {
		h := http.Header{"Authorization": {"Bearer " + adminToken, "Bearer " + tokenA}}
		check(rt, e.doHeader(rt.Method, path(rt), "", h, nil), http.StatusBadRequest)
		if rt.Method == http.MethodPut {
			ct := http.Header{"Content-Type": {"text/plain"}}
			check(rt, e.doHeader(rt.Method, path(rt), adminToken, ct, "{}"), http.StatusUnsupportedMediaType)
		}
	}
	limited := newEnv(t, func(o *server.Options) { o.Limits = server.Limits{ClientRate: 0.001, ClientBurst: 1} })
	_ = limited.do("GET", "/api/v1/components", "", nil) // spends the client's one request
	for _, rt := range server.Routes() {
		check(rt, limited.do(rt.Method, path(rt), adminToken, nil), http.StatusTooManyRequests)
	}
}
