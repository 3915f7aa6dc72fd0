package ui_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/memory"
)

// seed fills st with a small fleet:
//
//	orders    team-a tier 1 production   -> inventory, payments (not in the catalog)
//	          o1 passing v1.2.0 score 95, o2 warning v1.3.0 score 72: score 72 (amber)
//	inventory team-b tier 2 production   -> db;  i1 passing v2.0.0 score 95 (green)
//	db        team-b tier 3 experimental;        d1 critical v15 score 40 (red)
//	legacy    team-c tier 4 deprecated   -> orders; no instance, no scorecard (grey)
func seed(t testing.TB, st store.Store) {
	t.Helper()
	ctx := context.Background()
	comps := []catalog.Component{
		{Name: "orders", Owner: "team-a", Description: "Takes orders.", Type: "service", Tier: 1, Lifecycle: catalog.LifecycleProduction,
			DependsOn: []string{"inventory", "payments"}, Labels: map[string]string{"domain": "checkout"},
			Links: catalog.Links{Repository: "https://git.example/orders", Runbook: "https://wiki.example/orders?x=1&y=2"}},
		{Name: "inventory", Owner: "team-b", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"db"},
			Labels: map[string]string{"domain": "stock"}},
		{Name: "db", Owner: "team-b", Type: "service", Tier: 3, Lifecycle: catalog.LifecycleExperimental},
		{Name: "legacy", Owner: "team-c", Description: "The old monolith.", Type: "service", Tier: 4, Lifecycle: catalog.LifecycleDeprecated, DependsOn: []string{"orders"}},
	}
	for _, c := range comps {
		if _, err := st.PutComponent(ctx, c); err != nil {
			t.Fatalf("PutComponent(%s): %v", c.Name, err)
		}
	}
	type ins struct {
		comp, id, version string
		status            catalog.Status
		score             int
	}
	for _, i := range []ins{
		{"orders", "o1", "v1.2.0", catalog.StatusPassing, 95},
		{"orders", "o2", "v1.3.0", catalog.StatusWarning, 72},
		{"inventory", "i1", "v2.0.0", catalog.StatusPassing, 95},
		{"db", "d1", "v15", catalog.StatusCritical, 40},
	} {
		_, err := st.PutInstance(ctx, catalog.Instance{ID: i.id, Component: i.comp, Version: i.version,
			Addresses: catalog.Addresses{HTTP: "127.0.0.1:8080", Admin: "127.0.0.1:9090"},
			StartedAt: time.Now().Add(-time.Hour), TTLSeconds: 3600, Status: i.status})
		if err != nil {
			t.Fatalf("PutInstance(%s/%s): %v", i.comp, i.id, err)
		}
		sc := catalog.Scorecard{Component: i.comp, Instance: i.id, RuleSetVersion: "2026.1", Score: i.score,
			Passed: []string{"owner", "readiness-check"}}
		if i.score < 100 {
			sc.Failed = []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "no runbook link for " + i.id}}
		}
		if err := st.PutScorecard(ctx, sc); err != nil {
			t.Fatalf("PutScorecard(%s/%s): %v", i.comp, i.id, err)
		}
	}
}

// newUI returns a UI over a seeded memory store; the store closes with the test.
func newUI(t testing.TB, opts ui.Options) (*ui.Handler, *memory.Store) {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	seed(t, st)
	h, err := ui.New(st, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h, st
}

type response struct {
	code   int
	header http.Header
	body   string
}

func get(t testing.TB, h http.Handler, path string) response {
	t.Helper()
	return do(t, h, http.MethodGet, path)
}

func do(t testing.TB, h http.Handler, method, path string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{rec.Code, rec.Result().Header, string(b)}
}

// doc parses an HTML page.
func doc(t testing.TB, body string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return n
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// find returns the elements named tag for which match is true, in document order.
func find(root *html.Node, tag string, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range root.Descendants() {
		if n.Type == html.ElementNode && n.Data == tag && (match == nil || match(n)) {
			out = append(out, n)
		}
	}
	return out
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

var blocks = map[string]bool{"dt": true, "dd": true, "li": true, "td": true, "th": true, "tr": true, "p": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "div": true, "ul": true}

// text returns n's text with spaces normalized, block elements apart.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		switch {
		case d.Type == html.TextNode:
			b.WriteString(d.Data)
		case d.Type == html.ElementNode && blocks[d.Data]:
			b.WriteString(" ")
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// tableRows maps each row of the components table to its cells' text by class.
func tableRows(t testing.TB, body string) map[string]map[string]string {
	t.Helper()
	rows := map[string]map[string]string{}
	for _, tr := range find(doc(t, body), "tr", func(n *html.Node) bool { _, ok := attr(n, "data-name"); return ok }) {
		name, _ := attr(tr, "data-name")
		cells := map[string]string{}
		for _, td := range find(tr, "td", nil) {
			cl, _ := attr(td, "class")
			cells[strings.Fields(cl)[0]] = text(td)
		}
		for _, sp := range find(tr, "span", func(n *html.Node) bool { return hasClass(n, "score") }) {
			cl, _ := attr(sp, "class")
			cells["scoreClass"] = strings.Fields(cl)[1]
		}
		rows[name] = cells
	}
	return rows
}

// failingStore is a fake store.Store whose reads fail with an internal error, to show
// that store errors become a 500 page that withholds the cause.
type failingStore struct{ store.Store }

var errSecret = errors.New("bbolt: page 42 checksum mismatch at /var/lib/secret-path")

func (failingStore) ListComponents(context.Context, catalog.ComponentFilter) ([]catalog.Component, error) {
	return nil, errSecret
}
func (failingStore) GetComponent(context.Context, string) (catalog.Component, error) {
	return catalog.Component{}, errSecret
}

// hostileStore is a fake store.Store returning values no validating store would accept
// (as a corrupted or older store might), to show the UI escapes them and renders no
// dangerous link.
type hostileStore struct {
	store.Store
	comps []catalog.Component
}

func (s hostileStore) ListComponents(context.Context, catalog.ComponentFilter) ([]catalog.Component, error) {
	return s.comps, nil
}
func (s hostileStore) GetComponent(_ context.Context, name string) (catalog.Component, error) {
	for _, c := range s.comps {
		if c.Name == name {
			return c, nil
		}
	}
	return catalog.Component{}, store.ErrNotFound
}
func (s hostileStore) Instances(context.Context, string) (store.InstanceSet, error) {
	return store.InstanceSet{}, nil
}
func (s hostileStore) Scorecard(_ context.Context, name string) (catalog.ComponentScorecard, error) {
	return catalog.ComponentScorecard{Component: name, Score: -1}, nil
}

// logBuffer is a logger writing into a buffer, for asserting what was logged.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

// withoutOwnScripts returns body without the UI's own script elements (sort.js and
// live.js), so that a test can tell that no other script came in.
func withoutOwnScripts(body string) string {
	for _, s := range []string{"sort.js", "live.js"} {
		body = strings.ReplaceAll(body, `<script src="/static/`+s+`" defer></script>`, "")
	}
	return body
}
