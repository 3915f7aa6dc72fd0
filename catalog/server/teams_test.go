package server_test

import (
	"context"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/compliance"
)

// checkTeams asserts the team pages' data of the synthetic fleet at 500 s (called by
// TestSyntheticFleet): finance's components (billing running with its failing rule,
// ledger not running and never scored), the rule it fails, its DORA keys, its links and
// each component's DevOps health scorecard.
func checkTeams(t *testing.T, f *fleet) {
	t.Helper()
	billingHealth := catalog.DevOpsHealth{Score: 66, Passed: []string{"deploys-weekly", "restores-within-a-day"},
		Failed:        []catalog.RuleResult{{ID: "change-failure-under-15", Level: catalog.LevelWarning, Message: "1 of 1 deployments failed (100%), want at most 15%"}},
		NotApplicable: []string{"lead-time-under-a-week"}}
	ledgerHealth := catalog.DevOpsHealth{Score: 100, Passed: []string{"deploys-weekly", "lead-time-under-a-week", "change-failure-under-15", "restores-within-a-day"},
		Failed: []catalog.RuleResult{}, NotApplicable: []string{}}
	want := catalog.Team{Name: "finance", Score: 80, WindowSeconds: 86400,
		Components: []catalog.TeamComponent{
			{Name: "billing", Tier: 2, Lifecycle: catalog.LifecycleProduction, Score: 80, Running: true, Instances: 1, Healthy: 1,
				Failing: []string{"runbook-link"}, DevOpsHealth: billingHealth},
			{Name: "ledger", Tier: 2, Lifecycle: catalog.LifecycleProduction, Score: -1, Failing: []string{}, DevOpsHealth: ledgerHealth},
		},
		Failing: []catalog.TeamRule{{ID: "runbook-link", Level: catalog.LevelWarning, Components: []string{"billing"}}},
		DORA: catalog.DORA{Deployments: 2, DeploymentsPerDay: 2, LeadTimeSeconds: ptr(100), FailedDeployments: 1,
			ChangeFailureRate: ptr(0.5), Incidents: 1, Restored: 1, TimeToRestoreSeconds: ptr(30)},
		OnCall: []string{}, Links: []string{"https://wiki.example.com/billing", "https://wiki.example.com/ledger"},
	}
	sameJSON(t, "team finance", decode[catalog.Team](t, f.call("GET", "/api/v1/teams/finance?window=1d", "", nil)), want)
	teams := decode[[]catalog.Team](t, f.call("GET", "/api/v1/teams?window=1d", "", nil))
	if len(teams) != 2 || teams[0].Name != "finance" || teams[1].Name != "sales" {
		t.Fatalf("got teams %+v, want finance and sales", teams)
	}
	sameJSON(t, "finance in the list", teams[0], want)
	expect(t, f.call("GET", "/api/v1/teams/nobody", "", nil), 404)
	expect(t, f.call("GET", "/api/v1/teams/finance?window=0d", "", nil), 400)

	// The score history: billing's card of 50 s.
	hs, err := f.st.Histories(context.Background(), "billing")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "billing's score history", hs[0].Scores, []catalog.ScorePoint{{At: f.ts(50), Score: 80}})

	// The scorecards view: runbook-link (of the default rule set) fails for billing;
	// owner, a rule of another rule set, passes for it; DevOps health for all three.
	rules := decode[[]catalog.RuleSummary](t, f.call("GET", "/api/v1/rules?window=1d", "", nil))
	byID := map[string]catalog.RuleSummary{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	def := compliance.DefaultRuleSet()
	if len(rules) != def.Len()+1+len(catalog.DevOpsRules()) || rules[0].ID != def.IDs()[0] {
		t.Fatalf("got %d rules starting with %s, want the %d default rules in order, owner, then the DevOps health rules", len(rules), rules[0].ID, def.Len())
	}
	rl, _ := def.Rule("runbook-link")
	sameJSON(t, "runbook-link", byID["runbook-link"], catalog.RuleSummary{ID: "runbook-link", Scorecard: "compliance", Title: rl.Title, Why: rl.Why, Fix: rl.Fix,
		Level: string(rl.Level), Weight: rl.Weight, Passing: []string{}, Failing: []string{"billing"}})
	sameJSON(t, "owner", byID["owner"], catalog.RuleSummary{ID: "owner", Scorecard: "compliance", Level: "recommended", Passing: []string{"billing"}, Failing: []string{}})
	cf := byID["change-failure-under-15"]
	if cf.Scorecard != catalog.DevOpsHealthScorecard || cf.Title == "" || cf.Fix == "" {
		t.Fatalf("got %+v, want a DevOps health rule with title and fix", cf)
	}
	sameJSON(t, "change-failure-under-15 components", [][]string{cf.Passing, cf.Failing}, [][]string{{"ledger"}, {"billing", "orders"}})
}
