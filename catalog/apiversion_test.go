package catalog_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
)

func apiVersion(name, version string, def string) catalog.APIVersion {
	return catalog.APIVersion{API: catalog.API{Name: name, Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI,
		Version: version, Digest: catalog.Digest([]byte(def)), Size: len(def)}, Provider: "inventory", PublishedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func TestAPIVersionValidate(t *testing.T) {
	v := apiVersion("inventory-http-v1", "1.0.0", "{}")
	if err := v.Validate(); err != nil {
		t.Fatalf("valid version: got %v", err)
	}
	bad := v
	bad.Provider = ""
	bad.PublishedAt = time.Time{}
	bad.Previous = "md5:abc"
	bad.Breaking = []catalog.BreakingChange{{ID: "", Message: strings.Repeat("x", catalog.MaxMetadataValue+1)}}
	bad.Name = "no spaces allowed"
	var ve *catalog.ValidationError
	if err := bad.Validate(); !errors.As(err, &ve) {
		t.Fatalf("got %v, want a validation error", err)
	}
	var fields []string
	for _, fe := range ve.Errors {
		fields = append(fields, fe.Field)
	}
	if want := []string{"api.name", "provider", "publishedAt", "previous", "breaking[0].id", "breaking[0].message"}; !slices.Equal(fields, want) {
		t.Fatalf("got fields %v, want every problem at once: %v", fields, want)
	}
	self := v
	self.Previous = v.Digest
	if err := self.Validate(); err == nil {
		t.Fatal("a version checked against itself: got nil, want an error")
	}
}

func TestSummarizeAPIs(t *testing.T) {
	inv := catalog.Component{Name: "inventory", ProvidesAPIs: []string{"inventory-http-v1", "inventory-legacy"},
		APIs: []catalog.API{apiVersion("inventory-http-v1", "2.0.0", "v2").API}}
	orders := catalog.Component{Name: "orders", ConsumesAPIs: []string{"inventory-http-v1"},
		Uses: []catalog.APIUse{{API: "inventory-http-v1", Provider: "inventory", Declared: true, Observed: true}, {Provider: "payments", Observed: true}}}
	audit := catalog.Component{Name: "audit", Uses: []catalog.APIUse{{API: "inventory-http-v1", Provider: "inventory", Observed: true}}}
	v1 := apiVersion("inventory-http-v1", "1.0.0", "v1")
	v2 := apiVersion("inventory-http-v1", "2.0.0", "v2")
	v2.PublishedAt = v2.PublishedAt.Add(time.Hour)
	v2.Previous = v1.Digest
	v2.Breaking = []catalog.BreakingChange{{ID: "api-path-removed-without-deprecation", Operation: "POST /reservations", Message: "removed"}}
	gone := apiVersion("old-v1", "0.1.0", "old")

	got := catalog.SummarizeAPIs([]catalog.Component{audit, inv, orders}, []catalog.APIVersion{v1, v2, gone})
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if want := []string{"inventory-http-v1", "inventory-legacy", "old-v1"}; !slices.Equal(names, want) {
		t.Fatalf("names: got %v, want %v", names, want)
	}
	s := got[0]
	if !slices.Equal(s.Providers, []string{"inventory"}) || s.Kind != catalog.APIKindOpenAPI || s.VersionCount != 2 ||
		s.Latest == nil || s.Latest.Digest != v2.Digest || s.Versions[0].Digest != v2.Digest || s.Versions[1].Digest != v1.Digest || !s.Breaking() {
		t.Fatalf("inventory-http-v1: got %+v, want provider inventory, 2 versions newest first, breaking", s)
	}
	if want := []catalog.APIConsumer{{Component: "audit", Observed: true}, {Component: "orders", Declared: true, Observed: true}}; !slices.Equal(s.Consumers, want) {
		t.Fatalf("consumers: got %+v, want %+v", s.Consumers, want)
	}
	if l := got[1]; l.Kind != "" || l.Latest != nil || l.VersionCount != 0 || !slices.Equal(l.Providers, []string{"inventory"}) || l.Breaking() {
		t.Fatalf("a name without contract: got %+v", l)
	}
	if o := got[2]; len(o.Providers) != 0 || o.VersionCount != 1 {
		t.Fatalf("a stored API nobody provides now: got %+v, want its version, no provider", o)
	}
}
