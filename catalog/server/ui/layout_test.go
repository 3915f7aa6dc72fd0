package ui

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
)

// fleetOf makes a fleet from name -> dependencies, with no instances and no scores.
func fleetOf(deps map[string][]string) fleet {
	fl := fleet{instances: map[string][]catalog.Instance{}, scores: map[string]int{}}
	for name, d := range deps {
		fl.components = append(fl.components, catalog.Component{Name: name, DependsOn: d})
	}
	return fl
}

// crossings counts pairs of edges between the same two adjacent layers that cross.
func crossings(g *graph) int {
	n := 0
	for i, a := range g.edges {
		for _, b := range g.edges[i+1:] {
			fa, ta, fb, tb := g.nodes[a.from], g.nodes[a.to], g.nodes[b.from], g.nodes[b.to]
			if fa.layer != fb.layer || ta.layer != tb.layer || ta.layer != fa.layer+1 {
				continue
			}
			if (fa.pos-fb.pos)*(ta.pos-tb.pos) < 0 {
				n++
			}
		}
	}
	return n
}

func TestLayoutBarycentreRemovesCrossing(t *testing.T) {
	// In name order the second layer would be [y, z] under [a, b], crossing a->z and
	// b->y; ordering by barycentre puts z under a and y under b.
	g := layoutGraph(buildGraph(fleetOf(map[string][]string{"a": {"z"}, "b": {"y"}, "y": nil, "z": nil}), ""))
	if got := crossings(g); got != 0 {
		t.Errorf("got %d crossings, want 0", got)
	}
	var second []string
	for _, i := range g.layers[1] {
		second = append(second, g.nodes[i].Name)
	}
	if want := []string{"z", "y"}; !slices.Equal(second, want) {
		t.Errorf("got second layer %v, want %v", second, want)
	}
}

func TestLayoutLongestPath(t *testing.T) {
	// a -> b -> c and a -> c: c is two layers below a, not one.
	g := layoutGraph(buildGraph(fleetOf(map[string][]string{"a": {"b", "c"}, "b": {"c"}, "c": nil}), ""))
	layer := map[string]int{}
	for _, n := range g.nodes {
		layer[n.Name] = n.layer
	}
	if want := map[string]int{"a": 0, "b": 1, "c": 2}; fmt.Sprint(layer) != fmt.Sprint(want) {
		t.Errorf("got layers %v, want %v", layer, want)
	}
}

func TestLayoutDeterministicAndLayered(t *testing.T) {
	// A random fleet of 60 components, some with cycles, given in shuffled orders.
	rng := rand.New(rand.NewPCG(1, 2))
	deps := map[string][]string{}
	for i := range 60 {
		name := fmt.Sprintf("svc-%02d", i)
		var d []string
		for j := range 60 {
			if j != i && rng.IntN(20) == 0 {
				d = append(d, fmt.Sprintf("svc-%02d", j))
			}
		}
		deps[name] = d
	}
	var first []byte
	for round := range 5 {
		fl := fleetOf(deps)
		rand.New(rand.NewPCG(uint64(round), 9)).Shuffle(len(fl.components), func(i, j int) {
			fl.components[i], fl.components[j] = fl.components[j], fl.components[i]
		})
		g := layoutGraph(buildGraph(fl, ""))
		out := g.svg()
		if round == 0 {
			first = out
			// Every edge goes between distinct layers; all but the cycle-closing ones go
			// down, and each layer's nodes are apart.
			up := 0
			for _, e := range g.edges {
				a, b := g.nodes[e.from], g.nodes[e.to]
				if a.layer == b.layer {
					t.Errorf("edge %s->%s within layer %d", a.Name, b.Name, a.layer)
				}
				if a.layer > b.layer {
					up++
				}
			}
			if up == 0 || up > len(g.edges)/3 {
				t.Errorf("got %d of %d edges going up, want a few (the random fleet has cycles)", up, len(g.edges))
			}
			checkApart(t, g)
			if os.Getenv("PAVED_TEST_SVG_OUT") != "" {
				_ = os.WriteFile(os.Getenv("PAVED_TEST_SVG_OUT"), out, 0o644)
			}
			continue
		}
		if string(out) != string(first) {
			t.Fatalf("round %d: got a different picture for the same fleet", round)
		}
	}
}

// checkApart fails the test when two nodes overlap or a node leaves the picture.
func checkApart(t *testing.T, g *graph) {
	t.Helper()
	for i, a := range g.nodes {
		if a.x < 0 || a.y < 0 || a.x+g.nodeW > g.w || a.y+nodeH > g.h {
			t.Errorf("node %s at (%v, %v) leaves the %vx%v picture", a.Name, a.x, a.y, g.w, g.h)
		}
		for _, b := range g.nodes[i+1:] {
			if a.x < b.x+g.nodeW && b.x < a.x+g.nodeW && a.y < b.y+nodeH && b.y < a.y+nodeH {
				t.Errorf("nodes %s (%v, %v) and %s (%v, %v) overlap", a.Name, a.x, a.y, b.Name, b.x, b.y)
			}
		}
	}
}

func TestLayoutWrapsWideLayers(t *testing.T) {
	deps := map[string][]string{}
	var leaves []string
	for i := range 25 {
		leaf := fmt.Sprintf("leaf-%02d", i)
		leaves = append(leaves, leaf)
		deps[leaf] = nil
	}
	deps["root"] = leaves
	g := layoutGraph(buildGraph(fleetOf(deps), ""))
	checkApart(t, g)
	rowsAt := map[float64]int{}
	for _, n := range g.nodes {
		rowsAt[n.y]++
	}
	// root alone, then 25 leaves in rows of at most maxRow.
	if len(rowsAt) != 4 {
		t.Errorf("got rows %v, want 4 (root, then 10, 10 and 5 leaves)", rowsAt)
	}
	if limit := float64(maxRow)*(g.nodeW+gapX) + 2*margin; g.w > limit {
		t.Errorf("got width %v, want at most %v", g.w, limit)
	}
}

func TestHTTPURL(t *testing.T) {
	tests := map[string]string{
		"https://example.com/x?a=1":            "https://example.com/x?a=1",
		"HTTP://example.com":                   "http://example.com",
		"javascript:alert(1)":                  "",
		"JavaScript://example.com/%0Aalert(1)": "",
		"data:text/html,hi":                    "",
		"//example.com":                        "",
		"/relative":                            "",
		"https://user:pw@example.com":          "",
		"ftp://example.com":                    "",
		"":                                     "",
	}
	for in, want := range tests {
		if got := httpURL(in); got != want {
			t.Errorf("httpURL(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := mustTime(t, "2026-01-02T03:04:05Z")
	h := &Handler{now: func() time.Time { return now }}
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "just now"}, {0, "just now"}, {59 * time.Second, "59s ago"}, {61 * time.Second, "1m ago"},
		{90 * time.Minute, "1h ago"}, {47 * time.Hour, "47h ago"}, {72 * time.Hour, "3d ago"},
	}
	for _, tt := range tests {
		if got := h.ago(now.Add(-tt.d)); got != tt.want {
			t.Errorf("ago(now-%v): got %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := h.ago(time.Time{}); got != "never" {
		t.Errorf("ago(zero): got %q, want never", got)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
