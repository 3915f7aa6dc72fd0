package ui_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/ui"
	"golang.org/x/net/html"
)

// eventEdges reads the event edges of an SVG graph: "from->to apis", with their style.
func eventEdges(t *testing.T, body string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		e, ok := tok.(xml.StartElement)
		if !ok || e.Name.Local != "path" {
			continue
		}
		a := map[string]string{}
		for _, at := range e.Attr {
			a[at.Name.Local] = at.Value
		}
		if a["class"] != "edge event" {
			continue
		}
		if a["stroke-dasharray"] == "" || a["marker-end"] != "url(#arrow-event)" {
			t.Errorf("event edge %s->%s: got dasharray %q, marker %q, want dashed with the event arrowhead", a["data-from"], a["data-to"], a["stroke-dasharray"], a["marker-end"])
		}
		out = append(out, a["data-from"]+"->"+a["data-to"]+" "+a["data-apis"])
	}
}

// newEventUI seeds the usual fleet plus billing, which publishes the event API
// invoices.issued; mailer uses it (observed, as a natsjs consumer records it) and
// orders declares it in consumesApis.
func newEventUI(t *testing.T) *ui.Handler {
	t.Helper()
	_, st := newUI(t, ui.Options{})
	def := []byte(`{"asyncapi":"3.0.0"}`)
	for _, c := range []catalog.Component{
		{Name: "billing", Owner: "team-b", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction,
			ProvidesAPIs: []string{"invoices.issued"},
			APIs: []catalog.API{{Name: "invoices.issued", Kind: catalog.APIKindAsyncAPI, MediaType: catalog.MediaTypeAsyncAPI,
				Version: "1.0.0", Digest: catalog.Digest(def), Size: len(def)}}},
		{Name: "mailer", Owner: "team-c", Type: "service", Tier: 3, Lifecycle: catalog.LifecycleProduction,
			ConsumesAPIs: []string{"invoices.issued"}, Uses: []catalog.APIUse{{API: "invoices.issued", Observed: true}}},
	} {
		if _, err := st.PutComponent(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	o, err := st.GetComponent(context.Background(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	o.ConsumesAPIs = append(o.ConsumesAPIs, "invoices.issued")
	if _, err := st.PutComponent(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	h2, err := ui.New(st, ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h2
}

// The fleet graph draws an event flow from the publisher of an event API to each
// consumer as a dashed edge of its own style, beside the dependency edges; a
// component's neighbourhood draws the flows that touch it.
func TestGraphDrawsEventFlows(t *testing.T) {
	h := newEventUI(t)
	r := get(t, h, "/graph.svg")
	if r.code != 200 {
		t.Fatalf("GET /graph.svg: %d", r.code)
	}
	if got, want := eventEdges(t, r.body), []string{"billing->mailer invoices.issued", "billing->orders invoices.issued"}; !slices.Equal(got, want) {
		t.Errorf("fleet event edges: got %v, want %v", got, want)
	}
	g := parseSVG(t, r.body)
	if _, ok := g.nodes["billing"]; !ok {
		t.Errorf("fleet graph: got nodes %v, want billing", g.nodes)
	}
	if !strings.Contains(r.body, "4 dependencies, 2 event flows") {
		t.Errorf("fleet graph title: want 4 dependencies, 2 event flows in\n%s", r.body)
	}
	checkNoOverlap(t, g)

	r = get(t, h, "/components/mailer/graph.svg")
	if got, want := eventEdges(t, r.body), []string{"billing->mailer invoices.issued"}; !slices.Equal(got, want) {
		t.Errorf("mailer's neighbourhood: got event edges %v, want %v", got, want)
	}
	if g := parseSVG(t, r.body); len(g.nodes) != 2 {
		t.Errorf("mailer's neighbourhood: got nodes %v, want billing and mailer", g.nodes)
	}
}

// The component page lists the event APIs a component publishes, with their
// consumers, and those it consumes, with their publishers.
func TestComponentPageShowsEvents(t *testing.T) {
	h := newEventUI(t)
	page := doc(t, get(t, h, "/components/billing").body)
	pub := find(page, "ul", func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "publishes-events" })
	if len(pub) != 1 || text(pub[0]) != "invoices.issued → mailer, orders" {
		t.Errorf("billing publishes: got %q, want invoices.issued → mailer, orders", texts(pub))
	}
	page = doc(t, get(t, h, "/components/mailer").body)
	con := find(page, "ul", func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "consumes-events" })
	if len(con) != 1 || text(con[0]) != "invoices.issued ← billing" {
		t.Errorf("mailer consumes: got %q, want invoices.issued ← billing", texts(con))
	}
	// A component without event APIs shows no event lists.
	page = doc(t, get(t, h, "/components/db").body)
	if n := find(page, "ul", func(n *html.Node) bool { v, _ := attr(n, "id"); return strings.Contains(v, "events") }); len(n) != 0 {
		t.Errorf("db: got event lists %q, want none", texts(n))
	}
}

func texts(ns []*html.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, text(n))
	}
	return out
}
