package ui_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/html"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
)

func TestNewNeedsStore(t *testing.T) {
	h, err := ui.New(nil, ui.Options{})
	if !errors.Is(err, ui.ErrNoStore) || h != nil {
		t.Fatalf("got %v, %v, want nil, %v", h, err, ui.ErrNoStore)
	}
}

func TestComponentsTable(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	r := get(t, h, "/")
	if r.code != 200 {
		t.Fatalf("got status %d, want 200", r.code)
	}
	rows := tableRows(t, r.body)
	want := map[string]map[string]string{
		"orders": {"name": "orders", "owner": "team-a", "tier": "1", "lifecycle": "production", "instances": "2/2",
			"versions": "v1.2.0, v1.3.0", "score-cell": "72", "scoreClass": "score-fair"},
		"inventory": {"name": "inventory", "owner": "team-b", "tier": "2", "lifecycle": "production", "instances": "1/1",
			"versions": "v2.0.0", "score-cell": "95", "scoreClass": "score-good"},
		"db": {"name": "db", "owner": "team-b", "tier": "3", "lifecycle": "experimental", "instances": "0/1",
			"versions": "v15", "score-cell": "40", "scoreClass": "score-poor"},
		"legacy": {"name": "legacy", "owner": "team-c", "tier": "4", "lifecycle": "deprecated", "instances": "0/0",
			"versions": "none running", "score-cell": "no scorecard", "scoreClass": "score-none"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got rows %v, want %v", rows, want)
	}
	for name, cells := range want {
		for k, v := range cells {
			if got := rows[name][k]; got != v {
				t.Errorf("%s %s: got %q, want %q", name, k, got, v)
			}
		}
	}
	// Names link to their pages.
	links := find(doc(t, r.body), "a", func(n *html.Node) bool { v, _ := attr(n, "href"); return strings.HasPrefix(v, "/components/") })
	var hrefs []string
	for _, a := range links {
		v, _ := attr(a, "href")
		hrefs = append(hrefs, v)
	}
	wantHrefs := []string{"/components/db", "/components/inventory", "/components/legacy", "/components/orders"}
	if !slices.Equal(hrefs, wantHrefs) {
		t.Errorf("got links %v, want %v", hrefs, wantHrefs)
	}
}

func TestComponentsTableFilters(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"db", "inventory", "legacy", "orders"}},
		{"owner=team-b", []string{"db", "inventory"}},
		{"tier=1", []string{"orders"}},
		{"lifecycle=deprecated", []string{"legacy"}},
		{"label=domain%3Dstock", []string{"inventory"}},
		{"label=domain%3Dcheckout&owner=team-a", []string{"orders"}},
		{"label=domain%3Dstock+%2C+domain%3Dstock", []string{"inventory"}},
		{"label=domain%3Dstock+other%3Dx", nil},
		{"q=MONOLITH", []string{"legacy"}},
		{"q=ord", []string{"orders"}},
		{"q=or", []string{"inventory", "orders"}},
		{"owner=&tier=&lifecycle=&label=&q=", []string{"db", "inventory", "legacy", "orders"}},
		{"owner=nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := get(t, h, "/?"+tt.query)
			if r.code != 200 {
				t.Fatalf("got status %d, want 200", r.code)
			}
			var got []string
			for name := range tableRows(t, r.body) {
				got = append(got, name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// The form keeps what was asked.
	r := get(t, h, "/?owner=team-b&tier=2&lifecycle=production")
	d := doc(t, r.body)
	if in := find(d, "input", func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "owner" }); len(in) != 1 {
		t.Fatalf("got %d owner inputs, want 1", len(in))
	} else if v, _ := attr(in[0], "value"); v != "team-b" {
		t.Errorf("owner input: got %q, want %q", v, "team-b")
	}
	sel := find(d, "option", func(n *html.Node) bool { _, ok := attr(n, "selected"); return ok })
	var selected []string
	for _, o := range sel {
		v, _ := attr(o, "value")
		selected = append(selected, v)
	}
	if want := []string{"2", "production"}; !slices.Equal(selected, want) {
		t.Errorf("selected options: got %v, want %v", selected, want)
	}
}

func TestComponentsTableBadFilter(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	tests := []struct{ query, field, says string }{
		{"tier=9", "tier", "must be a number from 1 to 4, got \"9\""},
		{"tier=x", "tier", "must be a number from 1 to 4, got \"x\""},
		{"lifecycle=retired", "lifecycle", "must be one of experimental, production, deprecated, got \"retired\""},
		{"label=justakey", "label", "must be key=value"},
		{"label=domain%3Dcheckout&label=domain%3Dstock", "label", `key "domain" is given twice, as "checkout" and "stock"`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := get(t, h, "/?"+tt.query)
			if r.code != 400 {
				t.Fatalf("got status %d, want 400", r.code)
			}
			alerts := find(doc(t, r.body), "div", func(n *html.Node) bool { return hasClass(n, "errors") })
			if len(alerts) != 1 {
				t.Fatalf("got %d error boxes, want 1", len(alerts))
			}
			if got := text(alerts[0]); !strings.Contains(got, tt.field) || !strings.Contains(got, tt.says) {
				t.Errorf("got %q, want it to name %q and say %q", got, tt.field, tt.says)
			}
			if rows := tableRows(t, r.body); len(rows) != 0 {
				t.Errorf("got rows %v, want none", rows)
			}
		})
	}
}

func TestComponentPage(t *testing.T) {
	now := time.Now().Add(90 * time.Second)
	h, _ := newUI(t, ui.Options{Now: func() time.Time { return now }})
	r := get(t, h, "/components/orders")
	if r.code != 200 {
		t.Fatalf("got status %d, want 200", r.code)
	}
	d := doc(t, r.body)
	page := text(d)
	for _, want := range []string{
		"Takes orders.", "Owner team-a", "Tier 1", "Lifecycle production", "2/2 healthy", "domain=checkout",
		"Repository: https://git.example/orders",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Links are links, with their query intact.
	var hrefs []string
	for _, a := range find(d, "a", nil) {
		v, _ := attr(a, "href")
		hrefs = append(hrefs, v)
	}
	for _, want := range []string{"https://git.example/orders", "https://wiki.example/orders?x=1&y=2", "/components/inventory", "/components/legacy"} {
		if !slices.Contains(hrefs, want) {
			t.Errorf("got links %v, want %q among them", hrefs, want)
		}
	}
	// Dependencies both ways; payments is not in the catalog, so it is not a link.
	deps := find(d, "ul", func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "depends-on" })
	if len(deps) != 1 || text(deps[0]) != "inventory payments (not in the catalog)" {
		t.Errorf("depends on: got %q, want %q", text(deps[0]), "inventory payments (not in the catalog)")
	}
	if slices.Contains(hrefs, "/components/payments") {
		t.Errorf("got a link to payments, which is not in the catalog")
	}
	by := find(d, "ul", func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "depended-on-by" })
	if len(by) != 1 || text(by[0]) != "legacy" {
		t.Errorf("depended on by: got %v, want legacy", by)
	}
	// Instances with status, last heartbeat and score.
	inst := map[string]string{}
	for _, tr := range find(d, "tr", func(n *html.Node) bool { _, ok := attr(n, "data-id"); return ok }) {
		id, _ := attr(tr, "data-id")
		inst[id] = text(tr)
	}
	for id, want := range map[string][]string{
		"o1": {"v1.2.0", "passing", "1m ago", "3600s", "http 127.0.0.1:8080", "admin 127.0.0.1:9090", "95"},
		"o2": {"v1.3.0", "warning", "1m ago", "72"},
	} {
		for _, w := range want {
			if !strings.Contains(inst[id], w) {
				t.Errorf("instance %s: got %q, want %q in it", id, inst[id], w)
			}
		}
	}
	if len(inst) != 2 {
		t.Errorf("got instances %v, want o1 and o2", inst)
	}
	// Scorecards: rules passed and failed, with messages, per instance.
	cards := map[string]string{}
	for _, a := range find(d, "article", func(n *html.Node) bool { return hasClass(n, "card") }) {
		id, _ := attr(a, "data-instance")
		cards[id] = text(a)
	}
	for id, want := range map[string][]string{
		"o1": {"95", "Rule set 2026.1", "Failed runbook-link warning: no runbook link for o1", "Passed owner readiness-check"},
		"o2": {"72", "no runbook link for o2"},
	} {
		for _, w := range want {
			if !strings.Contains(cards[id], w) {
				t.Errorf("scorecard %s: got %q, want %q in it", id, cards[id], w)
			}
		}
	}
	// The neighbourhood graph and the charts are embedded as images.
	var srcs []string
	for _, img := range find(d, "img", nil) {
		src, _ := attr(img, "src")
		srcs = append(srcs, src)
	}
	want := []string{"/components/orders/deployments.svg", "/components/orders/dora.svg", "/components/orders/graph.svg", "/components/orders/score.svg"}
	if !slices.Equal(srcs, want) {
		t.Errorf("images: got %v, want %v", srcs, want)
	}
}

func TestComponentPageNoInstances(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	r := get(t, h, "/components/legacy")
	if r.code != 200 {
		t.Fatalf("got status %d, want 200", r.code)
	}
	page := text(doc(t, r.body))
	for _, want := range []string{"No instance is running.", "No instance has reported a scorecard.", "no scorecard", "0/0 healthy"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestExpiredInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New(memory.Options{Grace: time.Hour})
		defer st.Close()
		ctx := context.Background()
		if _, err := st.PutComponent(ctx, catalog.Component{Name: "orders", Owner: "team-a", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.PutInstance(ctx, catalog.Instance{ID: "o1", Component: "orders", Version: "v1",
			Addresses: catalog.Addresses{HTTP: "127.0.0.1:8080"}, StartedAt: time.Now(), TTLSeconds: 5, Status: catalog.StatusPassing}); err != nil {
			t.Fatal(err)
		}
		h, err := ui.New(st, ui.Options{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		if got := text(doc(t, get(t, h, "/components/orders").body)); !strings.Contains(got, "passing 3s ago") {
			t.Errorf("before the TTL: got %q, want %q in it", got, "passing 3s ago")
		}
		if rows := tableRows(t, get(t, h, "/").body); rows["orders"]["instances"] != "1/1" {
			t.Errorf("before the TTL: got %q healthy/total, want 1/1", rows["orders"]["instances"])
		}
		time.Sleep(4 * time.Second) // past the TTL, and past the store's 1 s sweep
		synctest.Wait()
		if got := text(doc(t, get(t, h, "/components/orders").body)); !strings.Contains(got, "critical, expired 7s ago") {
			t.Errorf("after the TTL: got %q, want %q in it", got, "critical, expired 7s ago")
		}
		if rows := tableRows(t, get(t, h, "/").body); rows["orders"]["instances"] != "0/1" {
			t.Errorf("after the TTL: got %q healthy/total, want 0/1", rows["orders"]["instances"])
		}
	})
}

func TestNotFoundAndMethods(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	tests := []struct {
		method, path string
		code         int
		says         string
	}{
		{"GET", "/components/nope", 404, "no component named nope"},
		{"GET", "/components/Not_A_Name", 404, "a component name is a DNS label"},
		{"GET", "/components/%3Cscript%3E", 404, "a component name is a DNS label"},
		{"GET", "/no/such/page", 404, "There is no page at this address."},
		{"POST", "/", 405, "method POST is not allowed"},
		{"PUT", "/graph.svg", 405, "method PUT is not allowed"},
		{"DELETE", "/components/orders", 405, "method DELETE is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := do(t, h, tt.method, tt.path)
			if r.code != tt.code {
				t.Fatalf("got status %d, want %d", r.code, tt.code)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("got Content-Type %q, want text/html", ct)
			}
			if !strings.Contains(r.body, tt.says) {
				t.Errorf("got %q, want it to say %q", r.body, tt.says)
			}
			if strings.Contains(withoutOwnScripts(r.body), "<script") {
				t.Errorf("got a reflected script tag: %q", r.body)
			}
		})
	}
	if r := do(t, h, "HEAD", "/components/orders"); r.code != 200 {
		t.Errorf("HEAD: got status %d, want 200", r.code)
	}
	if r := do(t, h, "POST", "/"); r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("got Allow %q, want %q", r.header.Get("Allow"), "GET, HEAD")
	}
	// The component graph of an unknown component is a problem document.
	r := get(t, h, "/components/nope/graph.svg")
	if r.code != 404 || r.header.Get("Content-Type") != catalog.ProblemContentType {
		t.Errorf("got %d %q, want 404 %q", r.code, r.header.Get("Content-Type"), catalog.ProblemContentType)
	}
}

func TestStoreErrorIsWithheld(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	seed(t, st)
	logger, logs := logBuffer()
	h, err := ui.New(failingStore{st}, ui.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/components/orders", "/graph", "/graph.svg", "/components/orders/graph.svg"} {
		logs.Reset()
		r := get(t, h, p)
		if r.code != 500 {
			t.Errorf("%s: got status %d, want 500", p, r.code)
		}
		if strings.Contains(r.body, "checksum") || strings.Contains(r.body, "secret-path") {
			t.Errorf("%s: got the internal error in the page: %q", p, r.body)
		}
		if !strings.Contains(logs.String(), "secret-path") {
			t.Errorf("%s: got log %q, want the cause in it", p, logs.String())
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	for _, p := range []string{"/", "/components/orders", "/graph", "/graph.svg", "/components/orders/graph.svg", "/static/style.css", "/nope"} {
		r := get(t, h, p)
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "img-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: got CSP %q, want %q in it", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") || !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "connect-src 'self';") {
			t.Errorf("%s: got CSP %q, want scripts and connections from the UI only, nothing unsafe", p, csp)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: got X-Content-Type-Options %q, want nosniff", p, got)
		}
		if strings.Contains(strings.ToLower(withoutOwnScripts(r.body)), "<script") || strings.Contains(r.body, " style=") || strings.Contains(r.body, "<style") {
			t.Errorf("%s: got an inline script or style, which the CSP would block", p)
		}
	}
	r := get(t, h, "/static/style.css")
	if r.code != 200 || r.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(r.body, ".score-good") {
		t.Errorf("stylesheet: got %d %q, want 200 text/css with the score classes", r.code, r.header.Get("Content-Type"))
	}
}

func TestOpenModeBanner(t *testing.T) {
	for _, open := range []bool{false, true} {
		h, _ := newUI(t, ui.Options{Open: open})
		for _, p := range []string{"/", "/components/orders", "/graph", "/nope"} {
			r := get(t, h, p)
			banner := find(doc(t, r.body), "div", func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "open-mode" })
			if got := len(banner) == 1; got != open {
				t.Errorf("open %v, %s: got banner %v, want %v", open, p, got, open)
			}
			if open && len(banner) == 1 && !strings.Contains(text(banner[0]), "writes need no token: development only") {
				t.Errorf("got banner %q", text(banner[0]))
			}
		}
	}
}

func TestHostileValuesAreEscaped(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	evil := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	hs := hostileStore{Store: st, comps: []catalog.Component{
		{Name: "evil", Owner: "team-x" + evil, Description: evil, Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction,
			DependsOn: []string{`x"><svg onload=alert(3)>`, "good"},
			Labels:    map[string]string{"k" + evil: "v" + evil},
			Links: catalog.Links{
				Repository: "javascript:alert(4)",
				Docs:       "JaVaScRiPt:alert(5)",
				Runbook:    "data:text/html,<script>alert(6)</script>",
				OnCall:     "//evil.example/no-scheme",
				Dashboard:  "https://dash.example/d?a=1&b=<x>",
			}},
		{Name: "good", Owner: "team-y", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"evil"}},
	}}
	h, err := ui.New(hs, ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/components/evil", "/components/good"} {
		r := get(t, h, p)
		if r.code != 200 {
			t.Fatalf("%s: got status %d, want 200", p, r.code)
		}
		if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<img src=x") || strings.Contains(r.body, "<svg onload") {
			t.Errorf("%s: a hostile value came through unescaped", p)
		}
		d := doc(t, r.body)
		for n := range d.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			if src, _ := attr(n, "src"); n.Data == "script" && ((src != "/static/sort.js" && src != "/static/live.js") || n.FirstChild != nil) {
				t.Errorf("%s: got a script element other than the UI's own", p)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: got an event handler attribute %s=%q on <%s>", p, a.Key, a.Val, n.Data)
				}
			}
			if n.Data == "a" {
				href, _ := attr(n, "href")
				u, err := url.Parse(href)
				if err != nil {
					t.Errorf("%s: got an unparsable link %q", p, href)
					continue
				}
				if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
					t.Errorf("%s: got a link %q, want only http, https and relative links", p, href)
				}
				if u.Scheme == "" && !strings.HasPrefix(href, "/") {
					t.Errorf("%s: got a link %q, want only absolute paths among relative links", p, href)
				}
			}
		}
	}
	r := get(t, h, "/components/evil")
	page := text(doc(t, r.body))
	// Hostile text is shown as text.
	for _, want := range []string{evil, "Repository: javascript:alert(4)", "Docs: JaVaScRiPt:alert(5)", "On-call: //evil.example/no-scheme"} {
		if !strings.Contains(page, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("page lacks the text %q", want)
		}
	}
	// The one http(s) link is a link.
	var hrefs []string
	for _, a := range find(doc(t, r.body), "a", nil) {
		v, _ := attr(a, "href")
		hrefs = append(hrefs, v)
	}
	if !slices.ContainsFunc(hrefs, func(h string) bool {
		u, err := url.Parse(h)
		return err == nil && u.Host == "dash.example" && u.Query().Get("b") == "<x>"
	}) {
		t.Errorf("got links %v, want the dashboard's among them", hrefs)
	}
}

// Nothing forgotten: a component whose last instance has gone is shown as not running,
// with its last scorecard, its deployments and when it stopped.
func TestComponentPageNotRunningKeepsHistory(t *testing.T) {
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if _, err := st.PutComponent(ctx, catalog.Component{Name: "billing", Owner: "finance", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).UTC()
	if _, err := st.UpdateHistory(ctx, "billing", "staging", func(h *catalog.History) (bool, error) {
		h.StoppedAt = at.Add(30 * time.Minute)
		h.Deployments = []catalog.Deployment{
			{ID: "o-1", Component: "billing", Environment: "staging", Source: catalog.SourceObserved, Version: "2.0.0", State: catalog.DeploymentSuccessful, StartedAt: at},
			{ID: "o-2", Component: "billing", Environment: "staging", Source: catalog.SourceObserved, Version: "2.1.0", PreviousVersion: "2.0.0",
				State: catalog.DeploymentRolledBack, StartedAt: at.Add(time.Minute)},
		}
		h.Scorecard = &catalog.Scorecard{Component: "billing", Instance: "b1", RuleSetVersion: "1", Score: 80, ReportedAt: at,
			Failed: []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning}}}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	h, err := ui.New(server.New(st, server.Options{}).Store(), ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, h, "/components/billing")
	if r.code != 200 {
		t.Fatalf("got status %d, want 200", r.code)
	}
	d := doc(t, r.body)
	page := text(d)
	for _, want := range []string{"not running", "The last one was seen 30m ago", "The last scorecards reported before the instances went.", "runbook-link", "rolled_back"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	var ids []string
	for _, tr := range find(d, "tr", func(n *html.Node) bool { _, ok := attr(n, "data-environment"); return ok }) {
		id, _ := attr(tr, "data-id")
		ids = append(ids, id)
	}
	if !slices.Equal(ids, []string{"o-2", "o-1"}) {
		t.Errorf("deployments: got %v, want o-2 then o-1", ids)
	}
}
