package server_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/storetest"
)

const ordersOpenAPI = `{"openapi": "3.1.0", "info": {"title": "orders", "version": "1.2.0"},
  "paths": {"/orders": {"get": {"summary": "List orders", "responses": {"200": {"description": "ok"}}}}}}
`

// portalComponents are orders (an OpenAPI contract stored in the catalog, an API
// declared only, a declared and an observed consumed API) and inventory (a gRPC
// contract, binary, and an OpenAPI one the catalog has not stored).
func portalComponents() []catalog.Component {
	orders := storetest.Component("orders", "team-a")
	orders.Namespace = "shop"
	orders.DependsOn = []string{"inventory", "payments"}
	orders.ProvidesAPIs = []string{"orders-http-v1", "orders-events"}
	orders.APIs = []catalog.API{{Name: "orders-http-v1", Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI,
		Version: "1.2.0", Digest: catalog.Digest([]byte(ordersOpenAPI)), Size: len(ordersOpenAPI)}}
	orders.ConsumesAPIs = []string{"inventory-http-v1"}
	orders.Uses = []catalog.APIUse{{API: "inventory-http-v1", Provider: "inventory", Declared: true, Observed: true},
		{API: "shop.inventory.v1.Inventory", Provider: "inventory", Observed: true}}
	inventory := storetest.Component("inventory", "team-b")
	inventory.Lifecycle = catalog.LifecycleExperimental
	inventory.ProvidesAPIs = []string{"inventory-http-v1", "shop.inventory.v1.Inventory"}
	inventory.APIs = []catalog.API{
		{Name: "inventory-http-v1", Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI, Digest: catalog.Digest([]byte("x")), Size: 1},
		{Name: "shop.inventory.v1.Inventory", Kind: catalog.APIKindGRPC, MediaType: catalog.MediaTypeFileDescriptorSet, Digest: catalog.Digest([]byte{0x0a, 0x01}), Size: 2},
	}
	return []catalog.Component{orders, inventory}
}

// storeDefinitions stores what the catalog would have fetched from the instances:
// orders' OpenAPI document and inventory's descriptor set (binary); inventory's
// OpenAPI document is not stored.
func storeDefinitions(e *env) {
	e.t.Helper()
	for _, d := range []struct {
		api  catalog.API
		def  []byte
		prov string
	}{
		{portalComponents()[0].APIs[0], []byte(ordersOpenAPI), "orders"},
		{portalComponents()[1].APIs[1], []byte{0x0a, 0x01}, "inventory"},
	} {
		v := catalog.APIVersion{API: d.api, Provider: d.prov, PublishedAt: time.Now().UTC()}
		if _, err := e.st.PutAPIVersion(e.t.Context(), v, d.def); err != nil {
			e.t.Fatal(err)
		}
	}
}

func seedPortal(e *env) {
	e.t.Helper()
	for _, c := range portalComponents() {
		expect(e.t, e.do("PUT", "/api/v1/components/"+c.Name, adminToken, c), 201)
	}
}

// yamlDocs decodes every document of a YAML stream.
func yamlDocs(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding the YAML stream: %v\n%s", err, b)
		}
		out = append(out, doc)
	}
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// backstageValidate runs tools/backstage-validate on the files and returns its output
// and whether it accepted them; it skips without the tool (fails in CI).
func backstageValidate(t *testing.T, files ...string) (string, bool) {
	t.Helper()
	tool := os.Getenv("PAVED_TEST_BACKSTAGE_VALIDATE")
	if tool == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_BACKSTAGE_VALIDATE is not set, and PAVED_TEST_REQUIRE_SERVERS=1: install it with scripts/testenv.d/50-backstage-validate.sh (npm ci in tools/backstage-validate)")
		}
		t.Skip("PAVED_TEST_BACKSTAGE_VALIDATE is not set: no Backstage validator (scripts/testenv.d/50-backstage-validate.sh)")
	}
	out, err := exec.Command("node", append([]string{tool}, files...)...).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Fatalf("running %s: %v\n%s", tool, err, out)
	}
	return string(out), err == nil
}

// The Backstage stream holds every component and one API entity per provided API, with
// its definition when the catalog stores it as text, and a placeholder that says where
// it is served otherwise; Backstage's own validation accepts every document, and the
// location.
func TestBackstageExportWithAPIs(t *testing.T) {
	e := newEnv(t)
	seedPortal(e)
	storeDefinitions(e)
	r := e.do("GET", "/api/v1/export/catalog-info.yaml", "", nil)
	expect(t, r, 200)
	docs := yamlDocs(t, r.body)
	var got []string
	byName := map[string]map[string]any{}
	for _, d := range docs {
		name := get(d, "metadata", "name").(string)
		got = append(got, d["kind"].(string)+":"+name)
		byName[name] = d
	}
	want := []string{"Component:inventory", "Component:orders", "API:inventory-http-v1", "API:orders-events", "API:orders-http-v1", "API:shop.inventory.v1.Inventory"}
	if !slices.Equal(got, want) {
		t.Fatalf("got entities %v, want %v", got, want)
	}
	orders := byName["orders"]
	if c := strs(get(orders, "spec", "consumesApis")); !slices.Equal(c, []string{"inventory-http-v1", "shop.inventory.v1.Inventory"}) {
		t.Errorf("orders consumesApis: got %v, want the declared then the observed API", c)
	}
	if p := strs(get(orders, "spec", "providesApis")); !slices.Equal(p, []string{"orders-http-v1", "orders-events"}) {
		t.Errorf("orders providesApis: got %v", p)
	}
	api := byName["orders-http-v1"]
	for path, want := range map[string]string{"spec.type": "openapi", "spec.owner": "group:team-a", "spec.lifecycle": "production",
		"spec.system": "shop", "spec.definition": ordersOpenAPI, "metadata.annotations.paved.dev/api-version": "1.2.0",
		"metadata.annotations.paved.dev/provider": "orders"} {
		keys := strings.SplitN(path, ".", 3)
		if got := get(api, keys...); got != want {
			t.Errorf("orders-http-v1 %s: got %q, want %q", path, got, want)
		}
	}
	for name, want := range map[string]string{
		"shop.inventory.v1.Inventory": "served\n# by the catalog at /api/v1/apis/shop.inventory.v1.Inventory and by the instances of inventory at /apis/shop.inventory.v1.Inventory",
		"inventory-http-v1":           "/api/v1/apis/inventory-http-v1",
		"orders-events":               "without publishing its contract",
	} {
		if def := get(byName[name], "spec", "definition").(string); !strings.Contains(def, want) {
			t.Errorf("%s definition: got %q, want a placeholder containing %q", name, def, want)
		}
	}
	if typ := get(byName["orders-events"], "spec", "type"); typ != catalog.APITypeUnknown {
		t.Errorf("orders-events type: got %v, want %s", typ, catalog.APITypeUnknown)
	}
	if typ := get(byName["shop.inventory.v1.Inventory"], "spec", "type"); typ != "grpc" {
		t.Errorf("gRPC API type: got %v, want grpc", typ)
	}

	loc := e.do("GET", "/api/v1/export/backstage/location.yaml", "", nil)
	expect(t, loc, 200)
	l := yamlDocs(t, loc.body)
	if len(l) != 1 || l[0]["kind"] != "Location" || get(l[0], "spec", "type") != "url" || !slices.Equal(strs(get(l[0], "spec", "targets")), []string{"../catalog-info.yaml"}) {
		t.Fatalf("location: got %s, want a url Location targeting ../catalog-info.yaml", loc.body)
	}

	// A filter keeps the components it matches and the APIs they provide.
	r = e.do("GET", "/api/v1/export/catalog-info.yaml?owner=team-b", "", nil)
	expect(t, r, 200)
	if n := len(yamlDocs(t, r.body)); n != 3 {
		t.Errorf("owner=team-b: got %d documents, want 3 (inventory and its 2 APIs):\n%s", n, r.body)
	}

	dir := t.TempDir()
	stream, location := filepath.Join(dir, "catalog-info.yaml"), filepath.Join(dir, "location.yaml")
	writeFile(t, stream, e.do("GET", "/api/v1/export/catalog-info.yaml", "", nil).body)
	writeFile(t, location, loc.body)
	if out, ok := backstageValidate(t, stream, location); !ok {
		t.Fatalf("Backstage's validation refused the export:\n%s", out)
	}
}

// The validator refuses what Backstage refuses: the test above can fail.
func TestBackstageValidatorRefuses(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	c := portalComponents()[0]
	doc := string(catalog.BackstageAPIYAML(catalog.ProvidedAPI{Name: "orders-http-v1", Provider: c}, "x"))
	writeFile(t, bad, []byte(strings.Replace(doc, `owner: "group:team-a"`, `owner: ""`, 1)+"---\n"+
		strings.Replace(doc, `name: "orders-http-v1"`, `name: "orders http"`, 1)))
	out, ok := backstageValidate(t, bad)
	if ok || strings.Count(out, "document ") != 2 {
		t.Fatalf("got accepted %v, output\n%s\nwant both documents refused", ok, out)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// compassFields is the documented field list of compass.yml (Atlassian, "Structure and
// contents of a compass.yml file"), with the values each may take.
var compassFields = struct {
	top, fields, relationships, linkKeys, linkTypes, typeIDs, lifecycles []string
}{
	top:           []string{"configVersion", "id", "name", "description", "typeId", "ownerId", "fields", "links", "relationships", "labels", "customFields"},
	fields:        []string{"tier", "lifecycle", "isMonorepoProject"},
	relationships: []string{"DEPENDS_ON"},
	linkKeys:      []string{"name", "type", "url"},
	linkTypes:     []string{"DOCUMENT", "CHAT_CHANNEL", "REPOSITORY", "PROJECT", "DASHBOARD", "ON_CALL", "OTHER_LINK"},
	typeIDs:       []string{"SERVICE", "LIBRARY", "APPLICATION", "CAPABILITY", "CLOUD_RESOURCE", "DATA_PIPELINE", "MACHINE_LEARNING_MODEL", "UI_ELEMENT", "WEBSITE", "OTHER"},
	lifecycles:    []string{"Pre-release", "Active", "Deprecated"},
}

// checkCompassFile reports every way f departs from the documented field list.
func checkCompassFile(f map[string]any) []string {
	var bad []string
	for k, v := range f {
		if !slices.Contains(compassFields.top, k) {
			bad = append(bad, "unknown field "+k)
			continue
		}
		switch k {
		case "configVersion":
			if v != 1 {
				bad = append(bad, "configVersion must be 1")
			}
		case "name":
			if s, _ := v.(string); s == "" {
				bad = append(bad, "name must be a non-empty string")
			}
		case "id":
			if s, _ := v.(string); !strings.HasPrefix(s, "ari:cloud:compass:") || !strings.Contains(s, ":component/") {
				bad = append(bad, "id must be a component ARI")
			}
		case "ownerId":
			if s, ok := v.(string); v != nil && (!ok || !strings.HasPrefix(s, "ari:cloud:")) {
				bad = append(bad, "ownerId must be null or a team ARI")
			}
		case "typeId":
			if s, _ := v.(string); !slices.Contains(compassFields.typeIDs, s) {
				bad = append(bad, "typeId "+s+" is not a documented type")
			}
		case "fields":
			for fk, fv := range v.(map[string]any) {
				switch {
				case !slices.Contains(compassFields.fields, fk):
					bad = append(bad, "unknown fields."+fk)
				case fk == "tier" && !slices.Contains([]any{1, 2, 3, 4}, fv):
					bad = append(bad, "fields.tier must be 1-4")
				case fk == "lifecycle" && !slices.Contains(compassFields.lifecycles, fv.(string)):
					bad = append(bad, "fields.lifecycle is not documented")
				}
			}
		case "links":
			for _, l := range v.([]any) {
				for lk := range l.(map[string]any) {
					if !slices.Contains(compassFields.linkKeys, lk) {
						bad = append(bad, "unknown links[]."+lk)
					}
				}
				if t, _ := l.(map[string]any)["type"].(string); !slices.Contains(compassFields.linkTypes, t) {
					bad = append(bad, "link type "+t+" is not documented")
				}
			}
		case "labels":
			for _, l := range v.([]any) {
				if s, _ := l.(string); s == "" || len(s) > 40 || s != strings.ToLower(s) {
					bad = append(bad, "label "+s+" must be 1-40 lower-case characters")
				}
			}
		case "relationships":
			for rk, rv := range v.(map[string]any) {
				if !slices.Contains(compassFields.relationships, rk) {
					bad = append(bad, "unknown relationships."+rk)
				}
				for _, id := range rv.([]any) {
					if s, _ := id.(string); !strings.HasPrefix(s, "ari:cloud:compass:") {
						bad = append(bad, "relationships."+rk+" must list component ARIs")
					}
				}
			}
		}
	}
	for _, k := range []string{"name"} {
		if _, ok := f[k]; !ok {
			bad = append(bad, "missing "+k)
		}
	}
	return bad
}

const (
	ordersARI    = "ari:cloud:compass:cloud-1:component/11111111-1111-1111-1111-111111111111/a1"
	inventoryARI = "ari:cloud:compass:cloud-1:component/11111111-1111-1111-1111-111111111111/b2"
	teamAARI     = "ari:cloud:identity::team/aaaaaaaa-0000-0000-0000-000000000000"
)

// The Compass archive has one compass.yml per component, with the mapped ids: id,
// ownerId and DEPENDS_ON on the mapped dependencies (payments, unmapped, stays a
// label); every file keeps to the documented field list.
func TestCompassArchiveExport(t *testing.T) {
	ids := catalog.CompassIDs{Teams: map[string]string{"team-a": teamAARI},
		Components: map[string]string{"orders": ordersARI, "inventory": inventoryARI}}
	e := newEnv(t, func(o *server.Options) { o.CompassIDs = ids })
	seedPortal(e)
	r := e.do("GET", "/api/v1/export/compass.tar.gz", "", nil)
	expect(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/gzip" {
		t.Fatalf("got Content-Type %q, want application/gzip", ct)
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		names = append(names, h.Name)
		files[h.Name] = b
	}
	if want := []string{"inventory/compass.yml", "orders/compass.yml"}; !slices.Equal(names, want) {
		t.Fatalf("got files %v, want %v", names, want)
	}
	for name, b := range files {
		docs := yamlDocs(t, b)
		if len(docs) != 1 {
			t.Fatalf("%s: got %d documents, want 1 (Compass reads one component per file)", name, len(docs))
		}
		if bad := checkCompassFile(docs[0]); bad != nil {
			t.Errorf("%s departs from the documented compass.yml fields: %v\n%s", name, bad, b)
		}
	}
	want := `configVersion: 1
name: "orders"
id: "` + ordersARI + `"
description: "The orders service."
typeId: SERVICE
ownerId: "` + teamAARI + `"
fields:
  tier: 2
  lifecycle: "Active"
links:
  - name: "Runbook"
    type: DOCUMENT
    url: "https://wiki.example.com/orders"
labels:
  - "owner:team-a"
  - "depends-on:inventory"
  - "depends-on:payments"
  - "domain:sales"
relationships:
  DEPENDS_ON:
    - "` + inventoryARI + `"
`
	if got := string(files["orders/compass.yml"]); got != want {
		t.Errorf("orders/compass.yml: got\n%s\nwant\n%s", got, want)
	}
	inv := yamlDocs(t, files["inventory/compass.yml"])[0]
	if inv["ownerId"] != nil || inv["id"] != inventoryARI {
		t.Errorf("inventory: got ownerId %v id %v, want null (team-b is not mapped) and %s", inv["ownerId"], inv["id"], inventoryARI)
	}
	// The single-component export has the ids too.
	one := e.do("GET", "/api/v1/components/orders/compass.yml", "", nil)
	expect(t, one, 200)
	if string(one.body) != want {
		t.Errorf("components/orders/compass.yml: got\n%s\nwant\n%s", one.body, want)
	}
	// The checker catches what is not in the list.
	if bad := checkCompassFile(map[string]any{"name": "x", "owner": "y", "typeId": "SERVICES"}); len(bad) != 2 {
		t.Errorf("checker: got %v, want the unknown field and the bad typeId", bad)
	}
}

func TestCompassIDsValidate(t *testing.T) {
	ids := catalog.CompassIDs{Teams: map[string]string{"team-a": "team/1", "Bad Team": teamAARI},
		Components: map[string]string{"orders": "ari:cloud:compass:x", "inventory": inventoryARI, "billing": "ari:cloud:compass:c:component/1 2"}}
	var ve *catalog.ValidationError
	if err := ids.Validate(); !errors.As(err, &ve) || len(ve.Errors) != 3 {
		t.Fatalf("got %v, want 3 problems (team-a's id, the name Bad Team, billing's space; orders' short ARI is accepted)", err)
	}
	m, err := catalog.ParseCompassIDs([]string{"orders=" + ordersARI, "x", "orders=" + inventoryARI})
	if err == nil || m != nil || !strings.Contains(err.Error(), `item 2 "x"`) || !strings.Contains(err.Error(), "mapped twice") {
		t.Fatalf("got %v %v, want both bad items named", m, err)
	}
}
