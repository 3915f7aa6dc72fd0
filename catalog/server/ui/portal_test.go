package ui_test

import (
	"bufio"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/compliance"
)

// newPortal returns the UI over the catalog API's store, with the API's insights, on
// the seeded fleet; legacy is also observed calling inventory.
func newPortal(t *testing.T) (*ui.Handler, *memory.Store) {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	seed(t, st)
	legacy, err := st.GetComponent(context.Background(), "legacy")
	if err != nil {
		t.Fatal(err)
	}
	legacy.Uses = []catalog.APIUse{{Provider: "inventory", API: "inventory-v1", Observed: true}}
	if _, err := st.PutComponent(context.Background(), legacy); err != nil {
		t.Fatal(err)
	}
	api := server.New(st, server.Options{Open: true})
	h, err := ui.New(api.Store(), ui.Options{Insights: api})
	if err != nil {
		t.Fatal(err)
	}
	return h, st
}

// rowsBy returns the text of each row of body that has attribute key, by its value.
func rowsBy(t *testing.T, body, key string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tr := range find(doc(t, body), "tr", func(n *html.Node) bool { _, ok := attr(n, key); return ok }) {
		v, _ := attr(tr, key)
		out[v] = strings.Join(strings.Fields(text(tr)), " ")
	}
	return out
}

func TestTeamPages(t *testing.T) {
	h, _ := newPortal(t)
	r := get(t, h, "/teams")
	if r.code != 200 {
		t.Fatalf("/teams: got %d, want 200", r.code)
	}
	teams := rowsBy(t, r.body, "data-team")
	if len(teams) != 3 || !strings.HasPrefix(teams["team-b"], "team-b 2 2 40") || !strings.HasPrefix(teams["team-c"], "team-c 1 0 no scorecard") {
		t.Errorf("/teams: got %q, want team-a, team-b (2 components, 2 running, score 40), team-c (1, none running, no score)", teams)
	}

	r = get(t, h, "/teams/team-b")
	if r.code != 200 {
		t.Fatalf("/teams/team-b: got %d, want 200", r.code)
	}
	comps := rowsBy(t, r.body, "data-name")
	if !strings.Contains(comps["inventory"], "1/1 95") || !strings.Contains(comps["db"], "0/1 40") {
		t.Errorf("team-b's components: got %q, want inventory 1/1 95 and db 0/1 40", comps)
	}
	rl, _ := compliance.DefaultRuleSet().Rule("runbook-link")
	if got := rowsBy(t, r.body, "data-rule")["runbook-link"]; !strings.Contains(got, rl.Title) || !strings.Contains(got, "db, inventory") || !strings.Contains(got, rl.Fix) {
		t.Errorf("team-b's failing rule: got %q, want its title, db and inventory, and its fix", got)
	}
	for _, img := range []string{"/teams/team-b/dora.svg", "/teams/team-b/deployments.svg"} {
		if !strings.Contains(r.body, `src="`+img+`"`) {
			t.Errorf("team page: no chart %s", img)
		}
	}
	for path, code := range map[string]int{"/teams/nobody": 404, "/teams/Not_A_Team": 404} {
		if r := get(t, h, path); r.code != code {
			t.Errorf("%s: got %d, want %d", path, r.code, code)
		}
	}
	// Owners link to their team everywhere.
	for _, p := range []string{"/", "/components/orders"} {
		if r := get(t, h, p); !strings.Contains(r.body, `<a class="team-link" href="/teams/team-a">team-a</a>`) {
			t.Errorf("%s: the owner is no link to its team page", p)
		}
	}
}

func TestPortalPagesNeedInsights(t *testing.T) {
	h, _ := newUI(t, ui.Options{})
	for _, p := range []string{"/teams", "/teams/team-a", "/scorecards"} {
		if r := get(t, h, p); r.code != 404 || !strings.Contains(r.body, "ui.Options.Insights") {
			t.Errorf("%s without insights: got %d, want 404 naming ui.Options.Insights", p, r.code)
		}
	}
	// The component page still renders, without DORA's keys.
	if r := get(t, h, "/components/orders"); r.code != 200 || !strings.Contains(r.body, `id="incident"`) {
		t.Errorf("component page without insights: got %d, want 200 with the incident view", r.code)
	}
}

func TestComponentsTableHonoursFailing(t *testing.T) {
	h, _ := newPortal(t)
	r := get(t, h, "/?failing=runbook-link")
	rows := tableRows(t, r.body)
	if r.code != 200 || len(rows) != 3 || rows["legacy"] != nil {
		t.Errorf("?failing=runbook-link: got %d %v, want orders, inventory and db", r.code, rows)
	}
	if r := get(t, h, "/?failing=owner-set"); len(tableRows(t, r.body)) != 0 || !strings.Contains(r.body, "No component matches the filter.") {
		t.Errorf("?failing=owner-set: got rows, want none")
	}
	if r := get(t, h, "/?failing=a+b"); r.code != 400 || !strings.Contains(r.body, "must be one rule id") {
		t.Errorf("?failing=a b: got %d, want 400 naming the field", r.code)
	}
}

func TestScorecardsView(t *testing.T) {
	h, _ := newPortal(t)
	r := get(t, h, "/scorecards")
	rules := rowsBy(t, r.body, "data-rule")
	def := compliance.DefaultRuleSet()
	if r.code != 200 || len(rules) < def.Len()+len(catalog.DevOpsRules()) {
		t.Fatalf("/scorecards: got %d with %d rules, want every default and DevOps health rule", r.code, len(rules))
	}
	for _, rl := range def.Rules() {
		if got := rules[rl.ID]; !strings.Contains(got, rl.Title) || !strings.Contains(got, rl.Fix) {
			t.Errorf("rule %s: got %q, want its title and fix", rl.ID, got)
		}
	}
	if got := rules["deploys-weekly"]; !strings.Contains(got, catalog.DevOpsHealthScorecard) {
		t.Errorf("deploys-weekly: got %q, want it in the DevOps health scorecard", got)
	}
	r = get(t, h, "/scorecards?failing=runbook-link")
	rules = rowsBy(t, r.body, "data-rule")
	if len(rules) != 1 || !strings.HasSuffix(rules["runbook-link"], "db, inventory, orders") {
		t.Errorf("?failing=runbook-link: got %q, want that rule alone, failed by db, inventory and orders", rules)
	}
	if r := get(t, h, "/scorecards?failing=%00"); r.code != 400 {
		t.Errorf("?failing=NUL: got %d, want 400", r.code)
	}
}

func TestIncidentView(t *testing.T) {
	h, st := newPortal(t)
	r := get(t, h, "/components/inventory")
	dependents := rowsBy(t, r.body, "data-name")
	if got := dependents["orders"]; got != "orders team-a yes no" {
		t.Errorf("orders: got %q, want declared, not observed", got)
	}
	if got := dependents["legacy"]; got != "legacy team-c no yes inventory-v1" {
		t.Errorf("legacy: got %q, want observed calling inventory-v1, not declared", got)
	}
	where := rowsBy(t, r.body, "data-env")
	if got := where["unknown"]; !strings.Contains(got, "v2.0.0 ×1 1/1 127.0.0.1:8080 1h 0m to 1h 0m") {
		t.Errorf("where inventory runs: got %q", got)
	}
	rl, _ := compliance.DefaultRuleSet().Rule("runbook-link")
	if got := rowsBy(t, r.body, "data-rule")["runbook-link"]; !strings.Contains(got, "i1") || !strings.Contains(got, rl.Fix) {
		t.Errorf("failing rule: got %q, want the instance i1 and the fix", got)
	}
	if !strings.Contains(r.body, "No on-call link: set links.onCall.") {
		t.Error("no warning that inventory has no on-call link")
	}
	// db's instances are critical: the view says which and why, naming the checks an
	// instance reported failing.
	if _, err := st.PutInstance(context.Background(), catalog.Instance{ID: "d2", Component: "db", Version: "v15",
		Addresses: catalog.Addresses{HTTP: "127.0.0.1:8082"}, StartedAt: time.Now(), TTLSeconds: 60, Status: catalog.StatusCritical,
		Metadata: map[string]string{catalog.FailingChecksMetadata: "disk,replication"}}); err != nil {
		t.Fatal(err)
	}
	r = get(t, h, "/components/db")
	d := doc(t, r.body)
	unready := map[string]string{}
	for _, li := range find(d, "li", func(n *html.Node) bool { _, ok := attr(n, "data-instance"); return ok }) {
		id, _ := attr(li, "data-instance")
		unready[id] = text(li)
	}
	if got := unready["d1"]; !strings.Contains(got, "critical") || !strings.Contains(got, "a readiness check fails") {
		t.Errorf("db's d1: got %q, want it critical with its readiness failing", got)
	}
	if got := unready["d2"]; !strings.Contains(got, "reports critical: failing readiness checks: disk, replication;") {
		t.Errorf("db's d2: got %q, want the checks it reported failing", got)
	}
}

func TestChartsAreSVG(t *testing.T) {
	h, _ := newPortal(t)
	for _, p := range []string{"/components/orders/deployments.svg", "/components/orders/dora.svg", "/components/orders/score.svg",
		"/teams/team-a/dora.svg", "/teams/team-a/deployments.svg"} {
		r := get(t, h, p)
		if r.code != 200 || r.header.Get("Content-Type") != "image/svg+xml" {
			t.Errorf("%s: got %d %q, want 200 image/svg+xml", p, r.code, r.header.Get("Content-Type"))
			continue
		}
		dec := xml.NewDecoder(strings.NewReader(r.body))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Errorf("%s: not well-formed XML: %v", p, err)
				break
			}
		}
	}
	for _, p := range []string{"/components/nope/deployments.svg", "/components/nope/dora.svg", "/teams/nobody/dora.svg", "/teams/nobody/deployments.svg"} {
		if r := get(t, h, p); r.code != 404 || r.header.Get("Content-Type") != catalog.ProblemContentType {
			t.Errorf("%s: got %d %q, want 404 problem", p, r.code, r.header.Get("Content-Type"))
		}
	}
}

// The live-update stream says when an instance registers, and ends when live updates
// are turned off; a stream asked for while they are off ends at once.
func TestLiveStream(t *testing.T) {
	h, st := newPortal(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("got Content-Type %q, want text/event-stream", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	next := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), prefix) {
				return lines.Text()
			}
		}
		t.Fatalf("the stream ended (%v) before a line %q", lines.Err(), prefix)
		return ""
	}
	next("event: index")
	if _, err := st.PutInstance(context.Background(), catalog.Instance{ID: "i2", Component: "inventory", Version: "v2.1.0",
		Addresses: catalog.Addresses{HTTP: "127.0.0.1:8081"}, StartedAt: time.Now(), TTLSeconds: 60, Status: catalog.StatusPassing}); err != nil {
		t.Fatal(err)
	}
	next("event: change")
	h.SetLive(false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for lines.Scan() {
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end when live updates were turned off")
	}
	r := get(t, h, "/events")
	if r.code != 200 || !strings.HasPrefix(r.body, "retry: ") || strings.Contains(r.body, "event:") {
		t.Errorf("a stream while off: got %d %q, want only a retry hint", r.code, r.body)
	}
	h.SetLive(true)
}

// On an empty store (change index 0) the stream waits, and says when the first
// component's instance registers.
func TestLiveStreamFromEmptyStore(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	h, err := ui.New(st, ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	ctx := context.Background()
	c := catalog.Component{Name: "first", Owner: "t", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction}
	if _, err := st.PutComponent(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutInstance(ctx, catalog.Instance{ID: "f1", Component: "first", Version: "1", Addresses: catalog.Addresses{HTTP: "127.0.0.1:1"},
		StartedAt: time.Now(), TTLSeconds: 60, Status: catalog.StatusPassing}); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		if lines.Text() == "event: change" {
			return
		}
	}
	t.Fatalf("the stream ended (%v) without a change event", lines.Err())
}

// The live-update stream also says when a component, a scorecard or a deployment
// changes without any instance changing: each such write through the API wakes it.
func TestLiveStreamWakesOnCatalogWrites(t *testing.T) {
	st := memory.New(memory.Options{})
	t.Cleanup(func() { _ = st.Close() })
	seed(t, st)
	api := server.New(st, server.Options{Open: true})
	h, err := ui.New(api.Store(), ui.Options{Insights: api})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	apiSrv := httptest.NewServer(api)
	defer apiSrv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(prefix, after string) {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before a line %q after %s", prefix, after)
				}
				if strings.HasPrefix(l, prefix) {
					return
				}
			case <-timeout:
				t.Fatalf("no line %q within 5 s after %s", prefix, after)
			}
		}
	}
	next("event: index", "opening the stream")
	call := func(method, path, body string) {
		t.Helper()
		req, err := http.NewRequest(method, apiSrv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode/100 != 2 {
			t.Fatalf("%s %s: got %s %s", method, path, r.Status, b)
		}
	}
	// One write each (the scorecard's is two: the card and the history keeping it),
	// so that no event left over from one answers for the next.
	call("POST", "/api/v1/events", `{"component":"db","displayName":"db 7","url":"https://ci.example.com/db","lastUpdated":"2026-12-01T10:05:00Z",
		"updateSequenceNumber":1,"version":"16","deploymentProperties":{"sequenceNumber":7,"state":"successful","startedAt":"2026-12-01T10:00:00Z",
		"completedAt":"2026-12-01T10:05:00Z","environment":{"category":"production"},"pipeline":{"pipelineId":"deploy-db"}}}`)
	next("event: change", "a deployment event was posted")
	call("PUT", "/api/v1/components/db", `{"name":"db","owner":"team-b","type":"service","tier":3,"lifecycle":"experimental","description":"Now described."}`)
	next("event: change", "a component changed")
	call("PUT", "/api/v1/components/db/scorecard", `{"component":"db","instance":"d1","ruleSetVersion":"1","score":99}`)
	next("event: change", "a scorecard changed")
	if n := api.ChangeCount(); n != 4 {
		t.Errorf("the API counted %d writes, want 4 (event, component, scorecard and its history)", n)
	}
	resp.Body.Close()
	for range lines {
	}
}
