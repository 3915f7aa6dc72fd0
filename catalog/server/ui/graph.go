package ui

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// gnode is a node of a dependency graph.
type gnode struct {
	Name    string
	Known   bool   // false for a name depended on that the catalog does not have
	Focus   bool   // the component whose neighbourhood is drawn
	Health  string // healthOK, healthDegraded, healthDown or healthNone
	Healthy int
	Total   int
	Score   int // -1 without scorecard

	layer, pos int
	x, y       float64
}

// gedge goes from a component to one it depends on, as indexes into graph.nodes; an
// event edge goes from a publisher to a consumer of one of its event APIs.
type gedge struct {
	from, to int
	event    bool
}

// graph is a dependency graph; nodes are sorted by name and edges by (from, to).
type graph struct {
	nodes []*gnode
	edges []gedge
	// apis names the event APIs of each event edge.
	apis   map[gedge][]string
	layers [][]int // node indexes per layer, in drawing order
	w, h   float64 // of the whole picture
	nodeW  float64
}

// buildGraph makes the graph of the fleet or, when focus is set, of focus's
// neighbourhood: the components it depends on and those depending on it.
func buildGraph(fl fleet, focus string) *graph {
	byName := map[string]int{}
	for i, c := range fl.components {
		byName[c.Name] = i
	}
	include := map[string]bool{}
	flows := eventFlows(fl.components)
	for _, f := range flows {
		if focus == "" || f.Publisher == focus || f.Consumer == focus {
			include[f.Publisher], include[f.Consumer] = true, true
		}
	}
	if focus == "" {
		for _, c := range fl.components {
			include[c.Name] = true
			for _, d := range c.DependsOn {
				include[d] = true
			}
		}
	} else {
		include[focus] = true
		if i, ok := byName[focus]; ok {
			for _, d := range fl.components[i].DependsOn {
				include[d] = true
			}
		}
		for _, c := range fl.components {
			if slices.Contains(c.DependsOn, focus) {
				include[c.Name] = true
			}
		}
	}
	g := &graph{}
	for _, name := range slices.Sorted(maps.Keys(include)) {
		n := &gnode{Name: name, Focus: name == focus, Health: healthNone, Score: -1}
		if _, ok := byName[name]; ok {
			n.Known = true
			ins := fl.instances[name]
			n.Health, n.Healthy = healthOf(ins)
			n.Total = len(ins)
			if s, ok := fl.scores[name]; ok {
				n.Score = s
			}
		}
		g.nodes = append(g.nodes, n)
	}
	index := map[string]int{}
	for i, n := range g.nodes {
		index[n.Name] = i
	}
	for _, n := range g.nodes {
		i, ok := byName[n.Name]
		if !ok {
			continue
		}
		for _, d := range fl.components[i].DependsOn {
			// In a neighbourhood, draw only the edges touching the focus.
			if j, ok := index[d]; ok && d != n.Name && (focus == "" || n.Name == focus || d == focus) {
				g.edges = append(g.edges, gedge{index[n.Name], j, false})
			}
		}
	}
	g.apis = map[gedge][]string{}
	for _, f := range flows {
		i, iok := index[f.Publisher]
		j, jok := index[f.Consumer]
		if iok && jok && (focus == "" || f.Publisher == focus || f.Consumer == focus) {
			e := gedge{i, j, true}
			if _, ok := g.apis[e]; !ok {
				g.edges = append(g.edges, e)
			}
			g.apis[e] = append(g.apis[e], f.API)
		}
	}
	slices.SortFunc(g.edges, func(a, b gedge) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to), boolCompare(a.event, b.event))
	})
	g.edges = slices.Compact(g.edges)
	return g
}

// boolCompare orders false before true.
func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// Layout constants, in SVG user units (pixels).
const (
	nodeH      = 46.0
	gapX       = 28.0
	gapY       = 64.0
	margin     = 20.0
	charW      = 8.2  // of the 13px bold sans-serif name, generously
	labelCharW = 6.4  // of the 11px line under it
	gapRow     = 18.0 // between the rows of one wrapped layer
	maxRow     = 10   // nodes in a row before a layer wraps
	minNodeW   = 130.0
	sweeps     = 4
	emptyText  = "No components in the catalog yet."
)

// layoutGraph places the nodes: layers by longest path from the components nothing
// depends on (edges that close a cycle are left out of the layering), then a few sweeps
// of barycentre ordering within layers. The result depends only on the graph.
func layoutGraph(g *graph) *graph {
	n := len(g.nodes)
	out := make([][]int, n)
	for _, e := range g.edges {
		out[e.from] = append(out[e.from], e.to)
	}
	// Depth-first walk in name order: back edges close cycles; the reversed post-order of
	// the rest is a topological order.
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, n)
	back := map[[2]int]bool{}
	var post []int
	var visit func(int)
	visit = func(u int) {
		state[u] = active
		for _, v := range out[u] {
			switch state[v] {
			case unseen:
				visit(v)
			case active:
				back[[2]int{u, v}] = true
			}
		}
		state[u] = done
		post = append(post, u)
	}
	for u := range n {
		if state[u] == unseen {
			visit(u)
		}
	}
	for i := range g.nodes {
		g.nodes[i].layer = 0
	}
	for i := len(post) - 1; i >= 0; i-- {
		u := post[i]
		for _, v := range out[u] {
			if !back[[2]int{u, v}] {
				g.nodes[v].layer = max(g.nodes[v].layer, g.nodes[u].layer+1)
			}
		}
	}
	depth := 0
	for _, nd := range g.nodes {
		depth = max(depth, nd.layer+1)
	}
	g.layers = make([][]int, depth)
	for i, nd := range g.nodes { // name order
		g.layers[nd.layer] = append(g.layers[nd.layer], i)
	}
	neighbours := make([][]int, n)
	for _, e := range g.edges {
		neighbours[e.from] = append(neighbours[e.from], e.to)
		neighbours[e.to] = append(neighbours[e.to], e.from)
	}
	setPos := func() {
		for _, l := range g.layers {
			for p, i := range l {
				g.nodes[i].pos = p
			}
		}
	}
	setPos()
	order := func(l int, fromAbove bool) {
		key := map[int]float64{}
		for _, i := range g.layers[l] {
			sum, k := 0.0, 0
			for _, j := range neighbours[i] {
				if lj := g.nodes[j].layer; (fromAbove && lj < l) || (!fromAbove && lj > l) {
					sum += float64(g.nodes[j].pos)
					k++
				}
			}
			if k == 0 {
				key[i] = float64(g.nodes[i].pos)
			} else {
				key[i] = sum / float64(k)
			}
		}
		slices.SortStableFunc(g.layers[l], func(a, b int) int {
			return cmp.Or(cmp.Compare(key[a], key[b]), cmp.Compare(g.nodes[a].pos, g.nodes[b].pos))
		})
		for p, i := range g.layers[l] {
			g.nodes[i].pos = p
		}
	}
	for range sweeps {
		for l := 1; l < len(g.layers); l++ {
			order(l, true)
		}
		for l := len(g.layers) - 2; l >= 0; l-- {
			order(l, false)
		}
	}
	setPos()

	g.nodeW = minNodeW
	for _, nd := range g.nodes {
		_, label := nd.labels()
		g.nodeW = max(g.nodeW, float64(len(nd.Name))*charW+24, float64(utf8.RuneCountInString(label))*labelCharW+20)
	}
	// A layer wider than maxRow nodes wraps onto several rows, so a big fleet stays
	// readable; rows of one layer sit closer together than layers.
	widest := 0
	for _, l := range g.layers {
		widest = max(widest, min(len(l), maxRow))
	}
	inner := float64(widest)*g.nodeW + float64(max(widest-1, 0))*gapX
	g.w = max(inner+2*margin, float64(len(emptyText))*charW+2*margin)
	y := margin
	for l, idx := range g.layers {
		if l > 0 {
			y += gapY - gapRow
		}
		for start := 0; start < len(idx); start += maxRow {
			row := idx[start:min(start+maxRow, len(idx))]
			span := float64(len(row))*g.nodeW + float64(len(row)-1)*gapX
			x0 := (g.w - span) / 2
			for p, i := range row {
				g.nodes[i].x = x0 + float64(p)*(g.nodeW+gapX)
				g.nodes[i].y = y
			}
			y += nodeH + gapRow
		}
	}
	g.h = max(y-gapRow+margin, 80)
	return g
}

// Colours of node fills by health, and of outlines by score class.
var (
	healthFill = map[string]string{healthOK: "#c9efd0", healthDegraded: "#fde7b0", healthDown: "#f7c6c2", healthNone: "#e6e6e6"}
	scoreLine  = map[string]string{"good": "#1e8e3e", "fair": "#c77c02", "poor": "#c5221f", "none": "#8a8a8a"}
)

// labels returns the node's status ("2/3 healthy") and the line under its name.
func (n *gnode) labels() (status, label string) {
	if !n.Known {
		return "not in catalog", "not in catalog"
	}
	status = fmt.Sprintf("%d/%d healthy", n.Healthy, n.Total)
	if n.Score < 0 {
		return status, "no score · " + status
	}
	return status, "score " + strconv.Itoa(n.Score) + " · " + status
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// svg renders the laid-out graph as a standalone SVG document.
func (g *graph) svg() []byte {
	var b bytes.Buffer
	f := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	f(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" role="img" aria-label="dependency graph">`+"\n",
		g.w, g.h, g.w, g.h)
	events := 0
	for _, e := range g.edges {
		if e.event {
			events++
		}
	}
	f(`<title>Dependency graph: %d components, %d dependencies, %d event flows</title>`+"\n", len(g.nodes), len(g.edges)-events, events)
	f(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker><marker id="arrow-event" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1a73e8"/></marker></defs>` + "\n")
	f(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	if len(g.nodes) == 0 {
		f(`<text x="%.0f" y="%.0f" font-size="14" fill="#555">%s</text>`+"\n", margin, g.h/2, esc(emptyText))
	}
	for _, e := range g.edges {
		a, z := g.nodes[e.from], g.nodes[e.to]
		x1, x2 := a.x+g.nodeW/2, z.x+g.nodeW/2
		var y1, y2 float64
		if z.layer > a.layer {
			y1, y2 = a.y+nodeH, z.y
		} else { // a back edge, closing a cycle: from the top of a to the bottom of z
			y1, y2 = a.y, z.y+nodeH
		}
		my := (y1 + y2) / 2
		if e.event {
			// Events: dashed and blue, from the publisher to the consumer, offset so
			// that a dependency edge between the same two stays visible.
			apis := strings.Join(g.apis[e], ", ")
			f(`<path class="edge event" data-from="%s" data-to="%s" data-apis="%s" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="#1a73e8" stroke-width="1.5" stroke-dasharray="6,4" marker-end="url(#arrow-event)"><title>%s publishes %s, consumed by %s</title></path>`+"\n",
				esc(a.Name), esc(z.Name), esc(apis), x1+8, y1, x1+8, my, x2+8, my, x2+8, y2, esc(a.Name), esc(apis), esc(z.Name))
			continue
		}
		f(`<path class="edge" data-from="%s" data-to="%s" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"><title>%s depends on %s</title></path>`+"\n",
			esc(a.Name), esc(z.Name), x1, y1, x1, my, x2, my, x2, y2, esc(a.Name), esc(z.Name))
	}
	for _, n := range g.nodes {
		sc := scoreClass(n.Score)
		dash, width := "", 3.0
		if !n.Known {
			dash, width = ` stroke-dasharray="5,4"`, 1.5
		}
		if n.Focus {
			width = 5
		}
		status, label := n.labels()
		f(`<g class="node" data-name="%s" data-health="%s" data-score="%d">`, esc(n.Name), n.Health, n.Score)
		if n.Known {
			f(`<a href="/components/%s">`, esc(url.PathEscape(n.Name)))
		}
		f(`<title>%s: %s, score %s</title>`, esc(n.Name), esc(status), esc(scoreText(n.Score)))
		f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="%s" stroke="%s" stroke-width="%.1f"%s/>`,
			n.x, n.y, g.nodeW, nodeH, healthFill[n.Health], scoreLine[sc], width, dash)
		f(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="13" font-weight="bold" fill="#202124">%s</text>`,
			n.x+g.nodeW/2, n.y+19, esc(n.Name))
		f(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="%s">%s</text>`,
			n.x+g.nodeW/2, n.y+36, scoreLine[sc], esc(label))
		if n.Known {
			f(`</a>`)
		}
		f("</g>\n")
	}
	f("</svg>\n")
	return b.Bytes()
}

func writeSVG(w http.ResponseWriter, g *graph) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(g.svg())
}
