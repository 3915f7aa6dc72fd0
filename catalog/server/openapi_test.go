package server_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
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
