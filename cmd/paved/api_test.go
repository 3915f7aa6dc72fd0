package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
)

// apiCatalog runs a catalog (the real server, over a memory store) that keeps version
// 1.0.0 of inventory-http-v1, examples/inventory's document, consumed by orders.
func apiCatalog(t *testing.T, readToken string) string {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	def := readTestdata(t, "inventory.json")
	ctx := context.Background()
	a := catalog.API{Name: "inventory-http-v1", Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI, Version: "1.0.0", Digest: catalog.Digest(def), Size: len(def)}
	for _, c := range []catalog.Component{
		{Name: "inventory", Owner: "team-b", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction, ProvidesAPIs: []string{a.Name}, APIs: []catalog.API{a}},
		{Name: "orders", Owner: "team-a", Type: "service", Tier: 1, Lifecycle: catalog.LifecycleProduction, ConsumesAPIs: []string{a.Name}},
	} {
		if _, err := st.PutComponent(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.PutAPIVersion(ctx, catalog.APIVersion{API: a, Provider: "inventory", PublishedAt: time.Now()}, def); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(st, server.Options{ReadToken: readToken, AdminToken: "admin-token-0123456789"}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "catalog", "server", "apicheck", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testdataPath(name string) string {
	return filepath.Join("..", "..", "catalog", "server", "apicheck", "testdata", name)
}

// paved api check --file: exit 1 listing the breaking change and its consumers, 0 for
// a compatible document or an API the catalog does not keep.
func TestAPICheckFiles(t *testing.T) {
	cat := apiCatalog(t, "")
	broken, _ := filepath.Abs(testdataPath("inventory-no-reservations.json"))
	same, _ := filepath.Abs(testdataPath("inventory-compatible.json"))

	code, out, errOut := paved(t, "", "api", "check", "--against", cat, "--file", "inventory-http-v1="+broken)
	if code != 1 || !strings.Contains(out, "inventory-http-v1 (openapi): FAIL 1 breaking change(s) against the catalog's version 1.0.0") ||
		!strings.Contains(out, "consumed by orders") || !strings.Contains(out, "POST /reservations: ") || !strings.Contains(out, "[api-path-removed-without-deprecation]") {
		t.Fatalf("breaking: got exit %d\n%s%s\nwant 1 and the change listed", code, out, errOut)
	}
	code, out, errOut = paved(t, "", "api", "check", "--against", cat, "--file", "inventory-http-v1="+same, "--file", "payments-v1="+broken)
	if code != 0 || !strings.Contains(out, "inventory-http-v1 (openapi): ok") || !strings.Contains(out, "payments-v1 (openapi): not in the catalog yet") {
		t.Fatalf("compatible: got exit %d\n%s%s\nwant 0", code, out, errOut)
	}
	code, out, _ = paved(t, "", "api", "check", "--against", cat, "--file", "inventory-http-v1="+broken, "--format", "json")
	var rep struct {
		APIs []struct {
			Name     string
			Against  *catalog.APIVersion
			Breaking []catalog.BreakingChange
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 1 || err != nil || len(rep.APIs) != 1 || rep.APIs[0].Against == nil || len(rep.APIs[0].Breaking) != 1 ||
		rep.APIs[0].Breaking[0].Operation != "POST /reservations" {
		t.Fatalf("json: got exit %d, %v\n%s", code, err, out)
	}
}

func TestAPICheckReadToken(t *testing.T) {
	cat := apiCatalog(t, "read-token-0123456789")
	broken, _ := filepath.Abs(testdataPath("inventory-no-reservations.json"))
	code, _, errOut := paved(t, "", "api", "check", "--against", cat, "--file", "inventory-http-v1="+broken)
	if code != 2 || !strings.Contains(errOut, "CATALOG_TOKEN") {
		t.Fatalf("without the read token: got exit %d %s, want 2 naming CATALOG_TOKEN", code, errOut)
	}
	if code, out, errOut := paved(t, "", "api", "check", "--against", cat, "--token", "read-token-0123456789", "--file", "inventory-http-v1="+broken); code != 1 {
		t.Fatalf("with the read token: got exit %d\n%s%s, want 1", code, out, errOut)
	}
}

func TestAPICheckUsageErrors(t *testing.T) {
	cat := apiCatalog(t, "")
	doc, _ := filepath.Abs(testdataPath("inventory.json"))
	notJSON := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(notJSON, []byte("openapi: 3.1.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no subcommand", []string{"api"}, []string{"want the subcommand check"}},
		{"nothing", []string{"api", "check"}, []string{"--against is required", "give either --admin"}},
		{"both sources", []string{"api", "check", "--against", cat, "--admin", "http://127.0.0.1:1", "--file", "a=" + doc}, []string{"not both or neither"}},
		{"bad file flag", []string{"api", "check", "--against", cat, "--file", "bad name=" + doc, "--file", "x=/nonexistent/doc.json", "--format", "xml"},
			[]string{`--file "bad name=`, "--file x: open /nonexistent/doc.json", "--format must be text or json"}},
		{"not JSON", []string{"api", "check", "--against", cat, "--file", "x=" + notJSON}, []string{"is not JSON", ".protoset"}},
		{"bad catalog URL", []string{"api", "check", "--against", "catalog:8080", "--file", "x=" + doc}, []string{"--against"}},
		{"catalog unreachable", []string{"api", "check", "--against", "http://127.0.0.1:1", "--file", "inventory-http-v1=" + doc}, []string{"--against http://127.0.0.1:1"}},
		{"service unreachable", []string{"api", "check", "--against", cat, "--admin", "http://127.0.0.1:1"}, []string{"is the service running"}},
	} {
		code, out, errOut := paved(t, "", tc.args...)
		if code != 2 {
			t.Errorf("%s: got exit %d\n%s%s\nwant 2", tc.name, code, out, errOut)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: got stderr %q, want %q in it", tc.name, errOut, w)
			}
		}
	}
}
