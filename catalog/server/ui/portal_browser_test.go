package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/paved-road/paved/compliance"
)

// registerUsing is register for a component that also reports the components it was
// observed calling (its "uses").
func (cs *catalogServer) registerUsing(t *testing.T, team, name, id, version string, score int, dependsOn, uses string) {
	t.Helper()
	cs.call(t, team, "PUT", "/api/v1/components/"+name,
		`{"owner":"`+team+`","type":"service","tier":2,"lifecycle":"production","description":"The `+name+` service.","dependsOn":[`+dependsOn+`],"uses":[`+uses+`],"links":{"onCall":"https://oncall.example.com/`+team+`"}}`, http.StatusCreated)
	cs.call(t, team, "PUT", "/api/v1/components/"+name+"/instances/"+id,
		fmt.Sprintf(`{"version":%q,"addresses":{"http":"127.0.0.1:18080","admin":"127.0.0.1:19090"},"startedAt":%q,"ttlSeconds":30,"status":"passing","metadata":{"environment":"production"}}`,
			version, time.Now().UTC().Add(-90*time.Minute).Format(time.RFC3339)), http.StatusOK)
	cs.call(t, team, "PUT", "/api/v1/components/"+name+"/scorecard",
		fmt.Sprintf(`{"instance":%q,"ruleSetVersion":"2026.1","score":%d,"passed":["owner-set","readiness-check"],"failed":[{"id":"runbook-link","level":"warning","message":"no runbook link"}]}`,
			id, score), http.StatusNoContent)
}

// browse loads url and waits for sel to be visible, within 20 s.
func browse(t *testing.T, ctx context.Context, url, sel string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(c, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("load %s and wait for %s: %v", url, sel, err)
	}
}

// textOf returns the text of the first element sel matches.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// waitTrue polls a JavaScript expression until it is true, for at most 15 s: the page
// updates by itself, without a reload.
func waitTrue(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("%s: %v (expression %s)", what, err, expr)
	}
}

// The team page, the incident view and the scorecards view render in Chromium, update
// by themselves after a registration, and sort their tables.
func TestBrowserPortalPages(t *testing.T) {
	ctx := newBrowser(t)
	cs := startCatalog(t)
	cs.registerUsing(t, "team-a", "orders", "orders-1", "v1.4.2", 95, `"inventory"`, `{"provider":"inventory","api":"inventory-v1","observed":true}`)
	cs.registerUsing(t, "team-b", "inventory", "inventory-1", "v2.0.0", 75, "", "")
	cs.registerUsing(t, "team-b", "ledger", "ledger-1", "v0.9.0", 40, "", `{"provider":"inventory","observed":true}`)

	// The team page: components with their scores, the failing rule with its fix,
	// on-call, DORA's keys and the charts.
	browse(t, ctx, cs.url+"/teams/team-b", "#components")
	rows := textOf(t, ctx, "#components tbody")
	if !strings.Contains(rows, "inventory") || !strings.Contains(rows, "ledger") || !strings.Contains(rows, "75") || !strings.Contains(rows, "40") {
		t.Errorf("team-b's components: got %q, want inventory (75) and ledger (40)", rows)
	}
	rl, _ := compliance.DefaultRuleSet().Rule("runbook-link")
	if got := textOf(t, ctx, `#failing tr[data-rule="runbook-link"]`); !strings.Contains(got, rl.Fix) || !strings.Contains(got, "inventory, ledger") {
		t.Errorf("failing rule: got %q, want its fix %q and both components", got, rl.Fix)
	}
	if got := textOf(t, ctx, "#contact"); !strings.Contains(got, "https://oncall.example.com/team-b") {
		t.Errorf("contact: got %q, want the on-call link", got)
	}
	if got := textOf(t, ctx, "#dora"); !strings.Contains(got, "Deployment frequency") {
		t.Errorf("DORA: got %q, want the four keys", got)
	}
	// The two charts are drawn: their images have a size.
	waitTrue(t, ctx, "the DORA trend and the deployment timeline are drawn",
		`Array.from(document.querySelectorAll("figure.chart img")).filter(i => i.complete && i.naturalWidth > 100).length === 2`)
	// Sorting: the Score column, ascending then descending.
	order := `Array.from(document.querySelectorAll("#components tbody tr")).map(r => r.dataset.name).join(",")`
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#components th:nth-child(5) button.sort`))); err != nil {
		t.Fatalf("sort: %v", err)
	}
	waitTrue(t, ctx, "sorted by score, ascending", order+` === "ledger,inventory"`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#components th:nth-child(5) button.sort`))); err != nil {
		t.Fatalf("sort: %v", err)
	}
	waitTrue(t, ctx, "sorted by score, descending", order+` === "inventory,ledger"`)
	saveScreenshot(t, ctx, "team")

	// Live: a new component of team-b shows up without a reload, and the chosen order
	// holds.
	waitTrue(t, ctx, "the live stream is open", `document.documentElement.dataset.live === "on"`)
	cs.registerUsing(t, "team-b", "payments", "payments-1", "v3.0.0", 85, "", "")
	waitTrue(t, ctx, "payments appears on the team page", order+` === "payments,inventory,ledger"`)

	// The incident view of inventory: dependents declared and observed told apart,
	// where it runs, who to contact, the failing rule with its fix.
	browse(t, ctx, cs.url+"/components/inventory", "#incident")
	for name, want := range map[string]string{"orders": "yes,yes", "ledger": "no,yes"} {
		sel := `#incident tr[data-name="` + name + `"] td.`
		if got := textOf(t, ctx, sel+"declared") + "," + textOf(t, ctx, sel+"observed"); got != want {
			t.Errorf("%s calls inventory: got declared,observed %q, want %q", name, got, want)
		}
	}
	where := textOf(t, ctx, `#incident tr[data-env="production"]`)
	if !strings.Contains(where, "v2.0.0 ×1") || !strings.Contains(where, "1/1") || !strings.Contains(where, "127.0.0.1:18080") || !strings.Contains(where, "1h 30m") {
		t.Errorf("where inventory runs: got %q, want v2.0.0 ×1, 1/1, its address and its age", where)
	}
	if got := textOf(t, ctx, `#incident tr[data-rule="runbook-link"]`); !strings.Contains(got, rl.Fix) || !strings.Contains(got, "inventory-1") {
		t.Errorf("failing rule: got %q, want the instance and the fix", got)
	}
	if got := textOf(t, ctx, "#contact"); !strings.Contains(got, "team-b") || !strings.Contains(got, "https://oncall.example.com/team-b") {
		t.Errorf("contact: got %q, want the owner and the on-call link", got)
	}
	saveScreenshot(t, ctx, "incident")
	// Live: a second instance, critical, shows in the view by itself.
	waitTrue(t, ctx, "the live stream is open", `document.documentElement.dataset.live === "on"`)
	cs.call(t, "team-b", "PUT", "/api/v1/components/inventory/instances/inventory-2",
		fmt.Sprintf(`{"version":"v2.1.0","addresses":{"http":"127.0.0.1:18081"},"startedAt":%q,"ttlSeconds":30,"status":"critical","metadata":{"environment":"production"}}`,
			time.Now().UTC().Format(time.RFC3339)), http.StatusOK)
	waitTrue(t, ctx, "inventory-2 shows as not ready", `(document.querySelector("#unready")||{}).textContent.includes("inventory-2")`)
	if got := textOf(t, ctx, `#incident tr[data-env="production"]`); !strings.Contains(got, "1/2") || !strings.Contains(got, "v2.1.0 ×1") {
		t.Errorf("where inventory runs after inventory-2: got %q, want 1/2 and v2.1.0", got)
	}

	// The scorecards view, filtered by ?failing=.
	browse(t, ctx, cs.url+"/scorecards?failing=runbook-link", "#rules")
	if got := textOf(t, ctx, `#rules tr[data-rule="runbook-link"]`); !strings.Contains(got, rl.Title) || !strings.Contains(got, rl.Fix) ||
		!strings.Contains(got, "inventory, ledger, orders, payments") {
		t.Errorf("runbook-link: got %q, want its title, fix and the four components failing it", got)
	}
	saveScreenshot(t, ctx, "scorecards")
	waitTrue(t, ctx, "the live stream is open", `document.documentElement.dataset.live === "on"`)
	cs.registerUsing(t, "team-a", "shipping", "shipping-1", "v1.0.0", 60, "", "")
	waitTrue(t, ctx, "shipping appears as failing runbook-link", `document.querySelector('#rules tr[data-rule="runbook-link"] .failing-components').textContent.includes("shipping")`)
	// Live on a scorecard alone, no instance changing: ledger now passes runbook-link.
	cs.call(t, "team-b", "PUT", "/api/v1/components/ledger/scorecard",
		`{"instance":"ledger-1","ruleSetVersion":"2026.1","score":90,"passed":["owner-set","readiness-check","runbook-link"]}`, http.StatusNoContent)
	waitTrue(t, ctx, "ledger no longer fails runbook-link", `!document.querySelector('#rules tr[data-rule="runbook-link"] .failing-components').textContent.includes("ledger")`)
	browse(t, ctx, cs.url+"/scorecards", "#rules")
	saveScreenshot(t, ctx, "scorecards-all")
	browse(t, ctx, cs.url+"/components/orders", "#incident")
	saveScreenshot(t, ctx, "component-portal")
}

// With JavaScript off, every page of the portal still works: same content, no live
// updates, no sort buttons.
func TestBrowserPortalWithoutJavaScript(t *testing.T) {
	ctx := newBrowser(t)
	cs := startCatalog(t)
	cs.registerUsing(t, "team-a", "orders", "orders-1", "v1.4.2", 95, `"inventory"`, `{"provider":"inventory","observed":true}`)
	cs.registerUsing(t, "team-b", "inventory", "inventory-1", "v2.0.0", 75, "", "")
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	for _, p := range []struct{ path, sel, want, shot string }{
		{"/teams", "#teams", "team-b", "teams-nojs"},
		{"/teams/team-b", "#components", "inventory", "team-nojs"},
		{"/components/inventory", "#incident", "orders", "incident-nojs"},
		{"/scorecards?failing=runbook-link", "#rules", "inventory, orders", "scorecards-nojs"},
		{"/?failing=runbook-link", "#components", "inventory", "components-failing-nojs"},
	} {
		browse(t, ctx, cs.url+p.path, p.sel)
		if got := textOf(t, ctx, p.sel); !strings.Contains(got, p.want) {
			t.Errorf("%s: got %q, want %q in it", p.path, got, p.want)
		}
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.documentElement.dataset.live || "off") + "," + document.querySelectorAll("button.sort").length`))
		if err == nil && state != "off,0" {
			// Evaluate runs even with page scripts disabled; the page's own did not.
			t.Errorf("%s: got live,sort-buttons %q, want off,0 (no script ran)", p.path, state)
		}
		saveScreenshot(t, ctx, p.shot)
	}
	// A link from the components table to a team page is a plain link.
	browse(t, ctx, cs.url+"/", "#components")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-name="orders"] a.team-link`)), chromedp.WaitVisible(chromedp.CSS("#failing"))); err != nil {
		t.Fatalf("follow the owner link: %v", err)
	}
	if got := textOf(t, ctx, "h1"); !strings.Contains(got, "team-a") {
		t.Errorf("owner link: got %q, want team-a's page", got)
	}
}
