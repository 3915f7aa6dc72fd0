package server_test

import (
	"encoding/json"
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
