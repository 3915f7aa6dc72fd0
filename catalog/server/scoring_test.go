package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/storetest"
	"github.com/paved-road/paved/compliance"
)

// platformScorecards is a platform team's file: tier 1 in production must have a
// runbook (weight 10); pci components are scored on pprof-off alone.
const platformScorecards = `{
  "version": 1,
  "scorecards": [
    {"name": "critical-services", "appliesTo": {"tiers": [1], "environments": ["production"]},
     "rules": [{"id": "runbook-link", "level": "required", "weight": 10}]},
    {"name": "pci", "appliesTo": {"labels": {"pci": "true"}}, "onlyListed": true,
     "rules": [{"id": "pprof-off"}]}
  ]
}`

// seedScored registers orders (tier 1) with a production and a development instance,
// both reporting that the runbook link (recommended) is missing, and billing (tier 2)
// with a clean card.
func seedScored(t *testing.T, e *env) {
	t.Helper()
	orders := storetest.Component("orders", "team-a")
	orders.Tier = 1
	expect(t, e.do("PUT", "/api/v1/components/orders", tokenA, orders), 201)
	expect(t, e.do("PUT", "/api/v1/components/billing", tokenB, storetest.Component("billing", "team-b")), 201)
	for _, x := range []struct{ comp, id, env, token string }{
		{"orders", "i-prod", "production", tokenA}, {"orders", "i-dev", "development", tokenA}, {"billing", "b-1", "production", tokenB},
	} {
		in := storetest.Instance(x.comp, x.id)
		in.Metadata = map[string]string{server.EnvironmentMetadata: x.env}
		expect(t, e.do("PUT", "/api/v1/components/"+x.comp+"/instances/"+x.id, x.token, in), 200)
	}
	for _, c := range []catalog.Scorecard{
		{Component: "orders", Instance: "i-prod", RuleSetVersion: compliance.DefaultVersion, Score: 75, Passed: []string{"owner-set", "readiness-check"},
			Failed: []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "runbook link is not set"}}},
		{Component: "orders", Instance: "i-dev", RuleSetVersion: compliance.DefaultVersion, Score: 75, Passed: []string{"owner-set", "readiness-check"},
			Failed: []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "runbook link is not set"}}},
	} {
		expect(t, e.do("PUT", "/api/v1/components/orders/scorecard", tokenA, c), 204)
	}
	expect(t, e.do("PUT", "/api/v1/components/billing/scorecard", tokenB, catalog.Scorecard{Instance: "b-1", RuleSetVersion: compliance.DefaultVersion,
		Score: 100, Passed: []string{"owner-set", "runbook-link"}}), 204)
}

func getScorecard(t *testing.T, e *env, name string) catalog.ComponentScorecard {
	t.Helper()
	r := e.do("GET", "/api/v1/components/"+name+"/scorecard", "", nil)
	expect(t, r, 200)
	var sc catalog.ComponentScorecard
	if err := json.Unmarshal(r.body, &sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

func listFailing(t *testing.T, e *env, q string) []string {
	t.Helper()
	r := e.do("GET", "/api/v1/components?"+q, "", nil)
	expect(t, r, 200)
	var list []catalog.Component
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, c := range list {
		names = append(names, c.Name)
	}
	return names
}

// Without a scorecards file the cards are as reported; the API lists the failing rules
// and finds the components failing a rule.
func TestScoreAsReported(t *testing.T) {
	e := newEnv(t)
	seedScored(t, e)
	sc := getScorecard(t, e, "orders")
	if sc.Score != 75 || len(sc.Scorecards) != 0 {
		t.Fatalf("got score %d scorecards %v, want 75 (as reported) and none", sc.Score, sc.Scorecards)
	}
	want := []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "runbook link is not set"}}
	if !slices.Equal(sc.Failing, want) {
		t.Fatalf("got failing %+v, want %+v", sc.Failing, want)
	}
	if got := getScorecard(t, e, "billing").Failing; got == nil || len(got) != 0 {
		t.Fatalf("billing: got failing %#v, want an empty list", got)
	}
	if got := listFailing(t, e, "failing=runbook-link"); !slices.Equal(got, []string{"orders"}) {
		t.Fatalf("failing=runbook-link: got %v, want [orders]", got)
	}
	if got := listFailing(t, e, "failing=owner-set"); len(got) != 0 {
		t.Fatalf("failing=owner-set: got %v, want none", got)
	}
	// The other filters apply too.
	if got := listFailing(t, e, "failing=runbook-link&owner=team-b"); len(got) != 0 {
		t.Fatalf("failing=runbook-link&owner=team-b: got %v, want none", got)
	}
	for _, q := range []string{"failing=", "failing=a%20b", "failing=a&failing=b"} {
		r := e.do("GET", "/api/v1/components?"+q, "", nil)
		expect(t, r, 400)
		if p := r.problem(t); !slices.Equal(fieldsOf(p), []string{"failing"}) {
			t.Fatalf("%s: got fields %v, want [failing]", q, fieldsOf(p))
		}
	}
}

// With the platform team's scorecards file, the score and the failing rules are the
// file's: runbook-link is required with weight 10 for tier 1 in production, so the
// production instance scores (3+3)*100/(3+3+10) and fails it as an error, while the
// development instance stays as reported.
func TestScorecardsFileScores(t *testing.T) {
	set := compliance.DefaultRuleSet()
	file, err := compliance.ParseScorecards(strings.NewReader(platformScorecards), set)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *server.Options) { o.Scorecards = &file })
	seedScored(t, e)
	owner, _ := set.Rule("owner-set")
	ready, _ := set.Rule("readiness-check")
	wantProd := (owner.Weight + ready.Weight) * 100 / (owner.Weight + ready.Weight + 10)
	sc := getScorecard(t, e, "orders")
	if sc.Score != wantProd || !slices.Equal(sc.Scorecards, []string{"critical-services"}) {
		t.Fatalf("got score %d scorecards %v, want %d and [critical-services]", sc.Score, sc.Scorecards, wantProd)
	}
	byID := map[string]catalog.Scorecard{}
	for _, c := range sc.Instances {
		byID[c.Instance] = c
	}
	if got := byID["i-prod"]; got.Score != wantProd || len(got.Failed) != 1 || got.Failed[0].Level != catalog.LevelError {
		t.Fatalf("i-prod: got %+v, want score %d failing runbook-link as an error", got, wantProd)
	}
	if got := byID["i-dev"]; got.Score != 75 || got.Failed[0].Level != catalog.LevelWarning {
		t.Fatalf("i-dev: got %+v, want the card as reported (75, warning)", got)
	}
	if len(sc.Failing) != 1 || sc.Failing[0].ID != "runbook-link" || sc.Failing[0].Level != catalog.LevelError {
		t.Fatalf("got failing %+v, want runbook-link at level error", sc.Failing)
	}
	if got := listFailing(t, e, "failing=runbook-link"); !slices.Equal(got, []string{"orders"}) {
		t.Fatalf("failing=runbook-link: got %v, want [orders]", got)
	}
	// billing is tier 2: no scorecard applies.
	if got := getScorecard(t, e, "billing"); got.Score != 100 || len(got.Scorecards) != 0 {
		t.Fatalf("billing: got score %d scorecards %v, want 100 and none", got.Score, got.Scorecards)
	}
	// A pci label brings in the pci scorecard, which lists a rule the cards do not
	// hold: it fails as not evaluated.
	billing := storetest.Component("billing", "team-b")
	billing.Labels = map[string]string{"pci": "true"}
	expect(t, e.do("PUT", "/api/v1/components/billing", tokenB, billing), 200)
	got := getScorecard(t, e, "billing")
	if got.Score != 0 || !slices.Equal(got.Scorecards, []string{"pci"}) || len(got.Failing) != 1 || got.Failing[0].ID != "pprof-off" ||
		!strings.Contains(got.Failing[0].Message, "not evaluated") {
		t.Fatalf("billing with pci: got %+v, want score 0 under pci, pprof-off failing as not evaluated", got)
	}
	if got := listFailing(t, e, "failing=pprof-off"); !slices.Equal(got, []string{"billing"}) {
		t.Fatalf("failing=pprof-off: got %v, want [billing]", got)
	}
}

// The UI shows the score the API computes when it reads the server's Store.
func TestUIShowsAPIScore(t *testing.T) {
	file, err := compliance.ParseScorecards(strings.NewReader(platformScorecards), compliance.DefaultRuleSet())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *server.Options) { o.Scorecards = &file })
	seedScored(t, e)
	api := server.New(e.st, server.Options{Scorecards: &file})
	page, err := ui.New(api.Store(), ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(page)
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/components/orders")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := getScorecard(t, e, "orders").Score
	if want == 75 {
		t.Fatalf("got the reported score 75 from the API, want the file's")
	}
	if mark := `data-score="` + strconv.Itoa(want) + `">`; !strings.Contains(string(body), mark) {
		t.Fatalf("got a page without %s, want the API's score %d shown", mark, want)
	}
	// The production instance's row shows its card as the file scores it.
	_, row, _ := strings.Cut(string(body), `<tr data-id="i-prod">`)
	row, _, _ = strings.Cut(row, "</tr>")
	if mark := `data-score="` + strconv.Itoa(want) + `">`; !strings.Contains(row, mark) {
		t.Fatalf("got i-prod row %q, want the API's score %d", row, want)
	}
}
