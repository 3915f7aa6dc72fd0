package ui_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/apicheck"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
)

// seedAPIs fills a store with inventory providing an HTTP API (two versions, the
// second dropping POST /reservations), a gRPC API and an event API, and orders
// consuming the HTTP one.
func seedAPIs(t *testing.T) *memory.Store {
	t.Helper()
	ctx := context.Background()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "apicheck", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	v1, v2 := read("inventory.json"), read("inventory-no-reservations.json")
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	fds, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name: proto.String("shop/inventory/v1/inventory.proto"), Package: proto.String("shop.inventory.v1"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("ReserveRequest"), Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("sku"), Number: proto.Int32(1), Type: str, Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}}}},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Inventory"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Reserve"), InputType: proto.String(".shop.inventory.v1.ReserveRequest"), OutputType: proto.String(".shop.inventory.v1.ReserveRequest"), ServerStreaming: proto.Bool(true)}}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	events := []byte(`{"asyncapi":"3.0.0","info":{"title":"inventory events","version":"1.0.0"},
		"channels":{"low":{"address":"inventory.stock.low","summary":"Stock fell under its threshold","messages":{"StockLow":{}}}},
		"operations":{"sendLow":{"action":"send","channel":{"$ref":"#/channels/low"}}}}`)

	api := func(name string, kind catalog.APIKind, def []byte, version string) catalog.API {
		return catalog.API{Name: name, Kind: kind, MediaType: kind.MediaType(), Version: version, Digest: catalog.Digest(def), Size: len(def)}
	}
	inv := catalog.Component{Name: "inventory", Owner: "team-b", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction,
		ProvidesAPIs: []string{"inventory-http-v1", "shop.inventory.v1.Inventory", "inventory-events"},
		APIs: []catalog.API{api("inventory-http-v1", catalog.APIKindOpenAPI, v2, "2.0.0"), api("shop.inventory.v1.Inventory", catalog.APIKindGRPC, fds, ""),
			api("inventory-events", catalog.APIKindAsyncAPI, events, "1.0.0")}}
	orders := catalog.Component{Name: "orders", Owner: "team-a", Type: "service", Tier: 1, Lifecycle: catalog.LifecycleProduction,
		ConsumesAPIs: []string{"inventory-http-v1"},
		Uses:         []catalog.APIUse{{API: "inventory-http-v1", Provider: "inventory", Declared: true, Observed: true}, {API: "inventory-events", Provider: "inventory", Observed: true}}}
	for _, c := range []catalog.Component{inv, orders} {
		if _, err := st.PutComponent(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(-2 * time.Hour)
	put := func(a catalog.API, def []byte, prev []byte) {
		v := catalog.APIVersion{API: a, Provider: "inventory", PublishedAt: at}
		at = at.Add(time.Hour)
		if prev != nil {
			v.Previous = catalog.Digest(prev)
			if v.Breaking, err = apicheck.Check(a.Kind, prev, def); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.PutAPIVersion(ctx, v, def); err != nil {
			t.Fatal(err)
		}
	}
	put(api("inventory-http-v1", catalog.APIKindOpenAPI, v1, "1.0.0"), v1, nil)
	put(inv.APIs[0], v2, v1)
	put(inv.APIs[1], fds, nil)
	put(inv.APIs[2], events, nil)
	return st
}

func byID(d *html.Node, tag, id string) string {
	ns := find(d, tag, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == id })
	if len(ns) != 1 {
		return ""
	}
	return text(ns[0])
}

func TestAPIPages(t *testing.T) {
	st := seedAPIs(t)
	h, err := ui.New(st, ui.Options{})
	if err != nil {
		t.Fatal(err)
	}

	r := get(t, h, "/apis")
	if r.code != 200 {
		t.Fatalf("/apis: got %d, want 200", r.code)
	}
	rows := map[string]string{}
	for _, tr := range find(doc(t, r.body), "tr", func(n *html.Node) bool { _, ok := attr(n, "data-api"); return ok }) {
		name, _ := attr(tr, "data-api")
		rows[name] = text(tr)
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range rows {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, []string{"inventory-events", "inventory-http-v1", "shop.inventory.v1.Inventory"}) {
		t.Fatalf("/apis rows: got %v", got)
	}
	if row := rows["inventory-http-v1"]; !strings.Contains(row, "breaking") || !strings.Contains(row, "2.0.0") || !strings.Contains(row, "inventory") || !strings.Contains(row, "orders") {
		t.Errorf("/apis inventory-http-v1: got %q, want breaking, 2.0.0, inventory and orders", row)
	}
	if row := rows["shop.inventory.v1.Inventory"]; strings.Contains(row, "breaking") || !strings.Contains(row, "grpc") {
		t.Errorf("/apis gRPC row: got %q, want grpc and not breaking", row)
	}

	// The OpenAPI page: providers, consumers, the breaking change, the operations of
	// the latest version, the versions.
	r = get(t, h, "/apis/inventory-http-v1")
	if r.code != 200 {
		t.Fatalf("got %d, want 200", r.code)
	}
	d := doc(t, r.body)
	if got := byID(d, "dd", "providers"); got != "inventory" {
		t.Errorf("providers: got %q, want inventory", got)
	}
	if got := byID(d, "dd", "consumers"); got != "orders (declared, observed)" {
		t.Errorf("consumers: got %q, want orders (declared, observed)", got)
	}
	if got := byID(d, "section", "breaking"); !strings.Contains(got, "POST /reservations") || !strings.Contains(got, "api-path-removed-without-deprecation") {
		t.Errorf("breaking changes: got %q, want POST /reservations removed", got)
	}
	ops := find(d, "table", func(n *html.Node) bool { return hasClass(n, "operations") })
	if len(ops) != 1 || !strings.Contains(text(ops[0]), "GET /items/{sku}") || strings.Contains(text(ops[0]), "/reservations") {
		t.Errorf("operations of the latest version: got %v, want GET /items/{sku} alone", ops)
	}
	if vs := find(d, "tr", func(n *html.Node) bool { _, ok := attr(n, "data-digest"); return ok }); len(vs) != 2 ||
		!strings.HasPrefix(text(vs[0]), "2.0.0") || !strings.Contains(text(vs[0]), "1") || !strings.Contains(text(vs[1]), "first version") {
		t.Errorf("versions: got %d rows, want 2.0.0 (1 breaking change) then 1.0.0 (first version)", len(vs))
	}
	// An older version's operations by its digest.
	v1, _ := st.APIVersions(context.Background(), "inventory-http-v1")
	r = get(t, h, "/apis/inventory-http-v1?digest="+v1[0].Digest)
	ops = find(doc(t, r.body), "table", func(n *html.Node) bool { return hasClass(n, "operations") })
	if r.code != 200 || len(ops) != 1 || !strings.Contains(text(ops[0]), "POST /reservations") {
		t.Errorf("version 1.0.0: got %d, want its POST /reservations listed", r.code)
	}
	if r := get(t, h, "/apis/inventory-http-v1?digest=sha256:00"); r.code != 404 {
		t.Errorf("unknown digest: got %d, want 404", r.code)
	}

	// gRPC: services and methods. Events: subjects.
	r = get(t, h, "/apis/shop.inventory.v1.Inventory")
	if page := text(doc(t, r.body)); r.code != 200 || !strings.Contains(page, "shop.inventory.v1.Inventory") ||
		!strings.Contains(page, "Reserve shop.inventory.v1.ReserveRequest shop.inventory.v1.ReserveRequest server streaming") {
		t.Errorf("gRPC page: got %d %q, want the service and its method", r.code, page)
	}
	r = get(t, h, "/apis/inventory-events")
	if page := text(doc(t, r.body)); r.code != 200 || !strings.Contains(page, "inventory.stock.low send StockLow Stock fell under its threshold") ||
		!strings.Contains(byID(doc(t, r.body), "dd", "consumers"), "orders (observed, not declared)") {
		t.Errorf("events page: got %d %q, want the subject, and orders observed", r.code, page)
	}

	// API names elsewhere link to their page.
	d = doc(t, get(t, h, "/components/orders").body)
	links := find(d, "a", func(n *html.Node) bool { v, _ := attr(n, "href"); return v == "/apis/inventory-http-v1" })
	if len(links) != 1 {
		t.Errorf("orders' page: got %d links to /apis/inventory-http-v1, want 1", len(links))
	}
	if r := get(t, h, "/apis/nope-v1"); r.code != 404 {
		t.Errorf("unknown API: got %d, want 404", r.code)
	}
}

// In a real browser, the API page renders with its stylesheet: the breaking changes
// stand out, the operations are listed.
func TestBrowserShowsAPIPage(t *testing.T) {
	ctx := newBrowser(t)
	h, err := ui.New(seedAPIs(t), ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.SetLive(false) // ends the page's live-update stream, which Close would wait for
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/apis/inventory-http-v1"), chromedp.WaitVisible(chromedp.CSS("#breaking"))); err != nil {
		t.Fatal(err)
	}
	ops, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.operations")))
	if err != nil || !strings.Contains(ops, "/items/{sku}") {
		t.Fatalf("operations: got %q, %v", ops, err)
	}
	styles, err := chromedp.Run(ctx, chromedp.ComputedStyle(chromedp.CSS(`h1 .breaking`)))
	if err != nil {
		t.Fatal(err)
	}
	bg := ""
	for _, s := range styles {
		if s.Name == "background-color" {
			bg = s.Value
		}
	}
	if bg != "rgb(253, 231, 233)" {
		t.Errorf("the breaking badge: got background %q, want rgb(253, 231, 233) from the stylesheet", bg)
	}
	saveScreenshot(t, ctx, "api")
}
