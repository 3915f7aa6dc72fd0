package catalog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
)

// withAPIs returns a valid component that publishes an OpenAPI contract and uses
// inventory's.
func withAPIs() catalog.Component {
	c := validComponent()
	def := []byte(`{"openapi":"3.1.0"}`)
	c.APIs = []catalog.API{{Name: "orders.v1", Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI,
		Version: "1.2.0", Digest: catalog.Digest(def), Size: len(def)}}
	c.ConsumesAPIs = []string{"inventory-http-v1"}
	c.Uses = []catalog.APIUse{
		{API: "inventory-http-v1", Provider: "inventory", Declared: true, Observed: true},
		{Provider: "payments", Observed: true},
	}
	return c
}

func TestComponentValidateAPIs(t *testing.T) {
	c := withAPIs()
	if err := c.Validate(); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	tests := []struct {
		name   string
		mutate func(c *catalog.Component)
		want   []string
	}{
		{"api not in providesApis", func(c *catalog.Component) { c.ProvidesAPIs = nil }, []string{"apis[0].name"}},
		{"api name bad", func(c *catalog.Component) { c.APIs[0].Name = "orders v1" }, []string{"apis[0].name"}},
		{"api kind bad", func(c *catalog.Component) { c.APIs[0].Kind = "soap" }, []string{"apis[0].kind"}},
		{"api media type bad", func(c *catalog.Component) { c.APIs[0].MediaType = "json" }, []string{"apis[0].mediaType"}},
		{"api version with space", func(c *catalog.Component) { c.APIs[0].Version = "1 2" }, []string{"apis[0].version"}},
		{"api digest upper-case", func(c *catalog.Component) { c.APIs[0].Digest = strings.ToUpper(c.APIs[0].Digest) }, []string{"apis[0].digest"}},
		{"api digest md5", func(c *catalog.Component) { c.APIs[0].Digest = "md5:00" }, []string{"apis[0].digest"}},
		{"api size 0", func(c *catalog.Component) { c.APIs[0].Size = 0 }, []string{"apis[0].size"}},
		{"api size too big", func(c *catalog.Component) { c.APIs[0].Size = catalog.MaxAPIDefinitionBytes + 1 }, []string{"apis[0].size"}},
		{"api duplicate", func(c *catalog.Component) { c.APIs = append(c.APIs, c.APIs[0]) }, []string{"apis[1].name"}},
		{"consumes bad name", func(c *catalog.Component) { c.ConsumesAPIs = []string{"x", "a/b"} }, []string{"consumesApis[1]"}},
		{"consumes duplicate", func(c *catalog.Component) { c.ConsumesAPIs = []string{"x", "x"} }, []string{"consumesApis[1]"}},
		{"use empty", func(c *catalog.Component) { c.Uses[1] = catalog.APIUse{Observed: true} }, []string{"uses[1]"}},
		{"use neither declared nor observed", func(c *catalog.Component) { c.Uses[1].Observed = false }, []string{"uses[1]"}},
		{"use of itself", func(c *catalog.Component) { c.Uses[1].Provider = "orders" }, []string{"uses[1].provider"}},
		{"use provider bad", func(c *catalog.Component) { c.Uses[1].Provider = "Payments" }, []string{"uses[1].provider"}},
		{"use api bad", func(c *catalog.Component) { c.Uses[1].API = "a b" }, []string{"uses[1].api"}},
		{"use duplicate", func(c *catalog.Component) { c.Uses[1] = c.Uses[0] }, []string{"uses[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := withAPIs()
			tt.mutate(&c)
			if got := fields(t, c.Validate()); !slices.Equal(got, tt.want) {
				t.Fatalf("got fields %v, want %v (err: %v)", got, tt.want, c.Validate())
			}
		})
	}
}

// The descriptors travel in the component's JSON under the names the docs give.
func TestComponentAPIsJSON(t *testing.T) {
	b, err := json.Marshal(withAPIs())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"apis":[{"name":"orders.v1","kind":"openapi","mediaType":"application/vnd.oai.openapi+json","version":"1.2.0","digest":"sha256:`,
		`"consumesApis":["inventory-http-v1"]`, `"uses":[{"api":"inventory-http-v1","provider":"inventory","declared":true,"observed":true},{"provider":"payments","observed":true}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("got %s, want it to contain %s", b, want)
		}
	}
}

func TestAPIKindMediaType(t *testing.T) {
	for k, want := range map[catalog.APIKind]string{
		catalog.APIKindOpenAPI:  "application/vnd.oai.openapi+json",
		catalog.APIKindAsyncAPI: "application/vnd.aai.asyncapi+json",
		catalog.APIKindGRPC:     `application/x-protobuf; messageType="google.protobuf.FileDescriptorSet"`,
	} {
		if got := k.MediaType(); got != want || !k.Valid() {
			t.Errorf("%s: got %q (valid %v), want %q", k, got, k.Valid(), want)
		}
	}
}
