package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// apiCases are the conformance cases of the API versions (store.APIStore).
func apiCases(h Harness) []testCase {
	return []testCase{
		{"APIVersionsPutListDefinition", testAPIVersions},
		{"APIVersionInvalidWritesNothing", testAPIVersionInvalid},
		{"APIDefinitionOfMaximumSize", testAPIDefinitionLarge},
		{"APIVersionsOutliveComponents", testAPIVersionsOutlive},
		{"APIVersionConcurrentPutsCreateOnce", testAPIVersionConcurrent},
		{"APIVersionsSurviveRestart", func(t *testing.T, s store.Store) { testAPIRestart(t, h, s) }},
	}
}

// APIVersion returns a valid version of API name published by provider at a fixed
// time plus n minutes, and its definition (which n and name make distinct).
func APIVersion(name, provider string, n int) (catalog.APIVersion, []byte) {
	def := fmt.Appendf(nil, `{"openapi":"3.1.0","info":{"title":%q,"version":"1.%d.0"},"paths":{}}`, name, n)
	return catalog.APIVersion{
		API: catalog.API{Name: name, Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI,
			Version: fmt.Sprintf("1.%d.0", n), Digest: catalog.Digest(def), Size: len(def)},
		Provider:    provider,
		PublishedAt: time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
	}, def
}

func digests(vs []catalog.APIVersion) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name + "@" + v.Version
	}
	return out
}

func testAPIVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.APIVersions(ctx, "orders-http-v1")
	mustNotFound(t, err)
	if all := must(s.APIVersions(ctx, ""))(t); len(all) != 0 {
		t.Fatalf("empty store: got %v, want no versions", digests(all))
	}
	// No component is needed: versions are the APIs' history, not a component's.
	v1, d1 := APIVersion("orders-http-v1", "orders", 1)
	if created := must(s.PutAPIVersion(ctx, v1, d1))(t); !created {
		t.Fatal("first put: got created false, want true")
	}
	// The same name and digest again: kept as first stored.
	again := v1
	again.Provider = "impostor"
	if created := must(s.PutAPIVersion(ctx, again, d1))(t); created {
		t.Fatal("second put of the same digest: got created true, want false")
	}
	v2, d2 := APIVersion("orders-http-v1", "orders", 2)
	v2.Previous = v1.Digest
	v2.Breaking = []catalog.BreakingChange{{ID: "api-path-removed-without-deprecation", Operation: "GET /orders/{id}", Message: "api path removed without deprecation"}}
	must(s.PutAPIVersion(ctx, v2, d2))(t)
	o1, od1 := APIVersion("inventory-http-v1", "inventory", 3)
	must(s.PutAPIVersion(ctx, o1, od1))(t)

	got := must(s.APIVersions(ctx, "orders-http-v1"))(t)
	if want := []string{"orders-http-v1@1.1.0", "orders-http-v1@1.2.0"}; !slices.Equal(digests(got), want) {
		t.Fatalf("versions: got %v, want %v (oldest first)", digests(got), want)
	}
	if got[0].Provider != "orders" || !got[0].PublishedAt.Equal(v1.PublishedAt) || got[0].Digest != v1.Digest || got[0].Size != v1.Size {
		t.Fatalf("first version: got %+v, want %+v", got[0], v1)
	}
	if got[1].Previous != v1.Digest || len(got[1].Breaking) != 1 || got[1].Breaking[0] != v2.Breaking[0] {
		t.Fatalf("second version: got previous %q breaking %+v, want %q and %+v", got[1].Previous, got[1].Breaking, v1.Digest, v2.Breaking)
	}
	all := must(s.APIVersions(ctx, ""))(t)
	if want := []string{"inventory-http-v1@1.3.0", "orders-http-v1@1.1.0", "orders-http-v1@1.2.0"}; !slices.Equal(digests(all), want) {
		t.Fatalf("all versions: got %v, want %v (by name, then oldest first)", digests(all), want)
	}

	def := must(s.APIDefinition(ctx, "orders-http-v1", v1.Digest))(t)
	if !bytes.Equal(def, d1) {
		t.Fatalf("definition: got %q, want %q", def, d1)
	}
	def[0] = 'X' // the caller's copy
	if def := must(s.APIDefinition(ctx, "orders-http-v1", v1.Digest))(t); !bytes.Equal(def, d1) {
		t.Fatalf("definition after the caller changed its copy: got %q, want %q", def, d1)
	}
	_, err = s.APIDefinition(ctx, "orders-http-v1", o1.Digest) // another API's digest
	mustNotFound(t, err)
	_, err = s.APIDefinition(ctx, "payments-v1", v1.Digest)
	mustNotFound(t, err)
}

func testAPIVersionInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	v, def := APIVersion("orders-http-v1", "orders", 1)
	bad := []struct {
		name  string
		v     catalog.APIVersion
		def   []byte
		field string
	}{
		{"definition of another digest", v, append(bytes.Clone(def[:len(def)-1]), ' '), "definition"},
		{"definition of another size", v, append(bytes.Clone(def), ' '), "definition"},
		{"invalid name", func() catalog.APIVersion { w := v; w.Name = "orders/v1"; return w }(), def, "api.name"},
		{"no provider", func() catalog.APIVersion { w := v; w.Provider = ""; return w }(), def, "provider"},
		{"no time", func() catalog.APIVersion { w := v; w.PublishedAt = time.Time{}; return w }(), def, "publishedAt"},
	}
	for _, tc := range bad {
		_, err := s.PutAPIVersion(ctx, tc.v, tc.def)
		var ve *catalog.ValidationError
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Errors, func(fe catalog.FieldError) bool { return fe.Field == tc.field }) {
			t.Fatalf("%s: got %v, want a validation error naming %s", tc.name, err, tc.field)
		}
	}
	if all := must(s.APIVersions(ctx, ""))(t); len(all) != 0 {
		t.Fatalf("after invalid puts: got %v, want nothing stored", digests(all))
	}
}

func testAPIDefinitionLarge(t *testing.T, s store.Store) {
	ctx := t.Context()
	def := make([]byte, catalog.MaxAPIDefinitionBytes)
	for i := range def {
		def[i] = byte('a' + i%26)
	}
	def[len(def)-1] = '!'
	v, _ := APIVersion("big-v1", "orders", 1)
	v.Kind, v.MediaType, v.Size, v.Digest = catalog.APIKindGRPC, catalog.MediaTypeFileDescriptorSet, len(def), catalog.Digest(def)
	must(s.PutAPIVersion(ctx, v, def))(t)
	got := must(s.APIDefinition(ctx, "big-v1", v.Digest))(t)
	if !bytes.Equal(got, def) {
		t.Fatalf("a %d-byte definition: got %d bytes back, not the same", len(def), len(got))
	}
}

func testAPIVersionsOutlive(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s, "orders")
	v, def := APIVersion("orders-http-v1", "orders", 1)
	must(s.PutAPIVersion(ctx, v, def))(t)
	if err := s.DeleteComponent(ctx, "orders"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if got := must(s.APIVersions(ctx, "orders-http-v1"))(t); len(got) != 1 {
		t.Fatalf("after the provider was deleted: got %v, want the version kept", digests(got))
	}
	must(s.APIDefinition(ctx, "orders-http-v1", v.Digest))(t)
}

func testAPIVersionConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	v, def := APIVersion("orders-http-v1", "orders", 1)
	var created atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			ok, err := s.PutAPIVersion(ctx, v, def)
			if err != nil {
				errs <- err
			}
			if ok {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent put: got %v, want nil", err)
	}
	if n := created.Load(); n != 1 {
		t.Fatalf("8 concurrent puts of one version: got %d created, want 1", n)
	}
}

func testAPIRestart(t *testing.T, h Harness, s store.Store) {
	if h.Reopen == nil {
		t.Skip("the store keeps nothing across a restart")
	}
	v, def := APIVersion("orders-http-v1", "orders", 1)
	must(s.PutAPIVersion(t.Context(), v, def))(t)
	if err := s.Close(); err != nil {
		t.Fatalf("close: got %v, want nil", err)
	}
	s2 := h.Reopen(t, s)
	t.Cleanup(func() { _ = s2.Close() })
	if got := must(s2.APIVersions(t.Context(), "orders-http-v1"))(t); len(got) != 1 || got[0].Digest != v.Digest {
		t.Fatalf("after a restart: got %v, want the version", digests(got))
	}
	if got := must(s2.APIDefinition(t.Context(), "orders-http-v1", v.Digest))(t); !bytes.Equal(got, def) {
		t.Fatalf("after a restart: got definition %q, want %q", got, def)
	}
}
