package ui_test

import (
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
)

type svgNode struct {
	health, score, href, text, fill, stroke, dash string
	x, y, w, h                                    float64
}

type svgGraph struct {
	nodes map[string]svgNode
	edges []string // "from->to", in document order
}

// parseSVG checks that body is well-formed XML with an <svg> root and reads its nodes
// and edges.
func parseSVG(t testing.TB, body string) svgGraph {
	t.Helper()
	g := svgGraph{nodes: map[string]svgNode{}}
	dec := xml.NewDecoder(strings.NewReader(body))
	dec.Strict = true
	var cur string // the node being read
	var inText bool
	depth, root := 0, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, body)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				root = e.Name.Local
				if e.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("got namespace %q, want the SVG namespace", e.Name.Space)
				}
			}
			a := map[string]string{}
			for _, at := range e.Attr {
				a[at.Name.Local] = at.Value
			}
			switch {
			case e.Name.Local == "g" && a["class"] == "node":
				cur = a["data-name"]
				g.nodes[cur] = svgNode{health: a["data-health"], score: a["data-score"]}
			case e.Name.Local == "path" && a["class"] == "edge":
				g.edges = append(g.edges, a["data-from"]+"->"+a["data-to"])
				if a["marker-end"] != "url(#arrow)" {
					t.Errorf("edge %s->%s: got marker-end %q, want an arrowhead", a["data-from"], a["data-to"], a["marker-end"])
				}
			case cur != "" && e.Name.Local == "a":
				n := g.nodes[cur]
				n.href = a["href"]
				g.nodes[cur] = n
			case cur != "" && e.Name.Local == "rect":
				n := g.nodes[cur]
				n.fill, n.stroke, n.dash = a["fill"], a["stroke"], a["stroke-dasharray"]
				n.x, _ = strconv.ParseFloat(a["x"], 64)
				n.y, _ = strconv.ParseFloat(a["y"], 64)
				n.w, _ = strconv.ParseFloat(a["width"], 64)
				n.h, _ = strconv.ParseFloat(a["height"], 64)
				g.nodes[cur] = n
			case cur != "" && e.Name.Local == "text":
				inText = true
			}
		case xml.CharData:
			if inText {
				n := g.nodes[cur]
				n.text += string(e) + "|"
				g.nodes[cur] = n
			}
		case xml.EndElement:
			depth--
			inText = false
			if e.Name.Local == "g" {
				cur = ""
			}
		}
	}
	if root != "svg" {
		t.Fatalf("got root element %q, want svg", root)
	}
	return g
}

func TestFleetGraph(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	r := get(t, h, "/graph.svg")
	if r.code != 200 || r.header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("got %d %q, want 200 image/svg+xml", r.code, r.header.Get("Content-Type"))
	}
	g := parseSVG(t, r.body)
	wantNodes := map[string]struct{ health, score, href, stroke, dash string }{
		"orders":    {"degraded", "72", "/components/orders", "#c77c02", ""},
		"inventory": {"ok", "95", "/components/inventory", "#1e8e3e", ""},
		"db":        {"down", "40", "/components/db", "#c5221f", ""},
		"legacy":    {"none", "-1", "/components/legacy", "#8a8a8a", ""},
		"payments":  {"none", "-1", "", "#8a8a8a", "5,4"}, // depended on, not in the catalog
	}
	if got := slices.Sorted(maps.Keys(g.nodes)); !slices.Equal(got, slices.Sorted(maps.Keys(wantNodes))) {
		t.Fatalf("got nodes %v, want %v", got, slices.Sorted(maps.Keys(wantNodes)))
	}
	for name, w := range wantNodes {
		n := g.nodes[name]
		if n.health != w.health || n.score != w.score || n.href != w.href || n.stroke != w.stroke || n.dash != w.dash {
			t.Errorf("node %s: got health %q score %q href %q stroke %q dash %q, want %q %q %q %q %q",
				name, n.health, n.score, n.href, n.stroke, n.dash, w.health, w.score, w.href, w.stroke, w.dash)
		}
		if !strings.HasPrefix(n.text, name+"|") {
			t.Errorf("node %s: got text %q, want the name first", name, n.text)
		}
	}
	// Fills differ by health.
	fills := map[string]string{}
	for _, n := range g.nodes {
		if f, ok := fills[n.health]; ok && f != n.fill {
			t.Errorf("health %s drawn in %s and %s", n.health, f, n.fill)
		}
		fills[n.health] = n.fill
	}
	if len(slices.Compact(slices.Sorted(maps.Values(fills)))) != 4 {
		t.Errorf("got fills %v, want one colour per health class", fills)
	}
	if !strings.Contains(g.nodes["orders"].text, "score 72") || !strings.Contains(g.nodes["orders"].text, "2/2 healthy") {
		t.Errorf("orders label: got %q, want its score and instances", g.nodes["orders"].text)
	}
	wantEdges := []string{"inventory->db", "legacy->orders", "orders->inventory", "orders->payments"}
	if got := slices.Sorted(slices.Values(g.edges)); !slices.Equal(got, wantEdges) {
		t.Errorf("got edges %v, want %v", got, wantEdges)
	}
	// Layered: each component sits above what it depends on; nodes do not overlap.
	for _, e := range g.edges {
		from, to, _ := strings.Cut(e, "->")
		if g.nodes[from].y >= g.nodes[to].y {
			t.Errorf("edge %s: got y %v above %v, want the dependency lower", e, g.nodes[from].y, g.nodes[to].y)
		}
	}
	checkNoOverlap(t, g)
	// Deterministic.
	if again := get(t, h, "/graph.svg"); again.body != r.body {
		t.Errorf("got a different picture on the second request")
	}
}

func checkNoOverlap(t *testing.T, g svgGraph) {
	t.Helper()
	names := slices.Sorted(maps.Keys(g.nodes))
	for i, a := range names {
		for _, b := range names[i+1:] {
			p, q := g.nodes[a], g.nodes[b]
			if p.x < q.x+q.w && q.x < p.x+p.w && p.y < q.y+q.h && q.y < p.y+p.h {
				t.Errorf("nodes %s %v and %s %v overlap", a, p, b, q)
			}
		}
	}
}

func TestComponentGraph(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	tests := []struct {
		name  string
		nodes []string
		edges []string
	}{
		{"orders", []string{"inventory", "legacy", "orders", "payments"}, []string{"legacy->orders", "orders->inventory", "orders->payments"}},
		{"inventory", []string{"db", "inventory", "orders"}, []string{"inventory->db", "orders->inventory"}},
		{"db", []string{"db", "inventory"}, []string{"inventory->db"}},
		{"legacy", []string{"legacy", "orders"}, []string{"legacy->orders"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, h, "/components/"+tt.name+"/graph.svg")
			if r.code != 200 {
				t.Fatalf("got status %d, want 200", r.code)
			}
			g := parseSVG(t, r.body)
			if got := slices.Sorted(maps.Keys(g.nodes)); !slices.Equal(got, tt.nodes) {
				t.Errorf("got nodes %v, want %v", got, tt.nodes)
			}
			if got := slices.Sorted(slices.Values(g.edges)); !slices.Equal(got, tt.edges) {
				t.Errorf("got edges %v, want %v", got, tt.edges)
			}
			checkNoOverlap(t, g)
		})
	}
}

func TestGraphEmptyAndCycle(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	h, err := ui.New(st, ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := parseSVG(t, get(t, h, "/graph.svg").body)
	if len(g.nodes) != 0 || len(g.edges) != 0 {
		t.Errorf("empty catalog: got %v, want no nodes and no edges", g)
	}
	// a -> b -> c -> a: a cycle still draws every edge, and the page still renders.
	for _, c := range []catalog.Component{
		{Name: "a", Owner: "t", Type: "service", Tier: 1, Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"b"}},
		{Name: "b", Owner: "t", Type: "service", Tier: 1, Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"c"}},
		{Name: "c", Owner: "t", Type: "service", Tier: 1, Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"a"}},
	} {
		if _, err := st.PutComponent(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	g = parseSVG(t, get(t, h, "/graph.svg").body)
	if got, want := slices.Sorted(slices.Values(g.edges)), []string{"a->b", "b->c", "c->a"}; !slices.Equal(got, want) {
		t.Errorf("got edges %v, want %v", got, want)
	}
	checkNoOverlap(t, g)
	if g.nodes["a"].y >= g.nodes["b"].y || g.nodes["b"].y >= g.nodes["c"].y {
		t.Errorf("got a, b, c at y %v %v %v, want three layers down", g.nodes["a"].y, g.nodes["b"].y, g.nodes["c"].y)
	}
}

func TestGraphEscapesNames(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	evil := `a"<b>&'c`
	hs := hostileStore{Store: st, comps: []catalog.Component{
		{Name: evil, Owner: "t", Type: "service", Tier: 1, Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"x</text><script>alert(1)</script>"}},
	}}
	h, err := ui.New(hs, ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, h, "/graph.svg")
	if strings.Contains(r.body, "<script") {
		t.Fatalf("got an unescaped script in %s", r.body)
	}
	g := parseSVG(t, r.body)
	if _, ok := g.nodes[evil]; !ok {
		t.Errorf("got nodes %v, want %q among them", slices.Collect(maps.Keys(g.nodes)), evil)
	}
	if got, want := g.edges, []string{evil + "->x</text><script>alert(1)</script>"}; !slices.Equal(got, want) {
		t.Errorf("got edges %q, want %q", got, want)
	}
	if !strings.HasPrefix(g.nodes[evil].text, evil+"|") {
		t.Errorf("got text %q, want the name as text", g.nodes[evil].text)
	}
}

func TestGraphPage(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	r := get(t, h, "/graph")
	if r.code != 200 {
		t.Fatalf("got status %d, want 200", r.code)
	}
	imgs := find(doc(t, r.body), "img", nil)
	if len(imgs) != 1 {
		t.Fatalf("got %d images, want 1", len(imgs))
	}
	if src, _ := attr(imgs[0], "src"); src != "/graph.svg" {
		t.Errorf("got src %q, want /graph.svg", src)
	}
}
