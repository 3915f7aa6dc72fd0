package compliance_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
)

func loadTestScorecards(t *testing.T) compliance.ScorecardFile {
	t.Helper()
	file, err := compliance.LoadScorecards(filepath.Join("testdata", "scorecards.json"), compliance.DefaultRuleSet())
	if err != nil {
		t.Fatalf("LoadScorecards: got %v, want nil", err)
	}
	return file
}

func TestParseScorecardsGood(t *testing.T) {
	file := loadTestScorecards(t)
	if file.Version != 1 || len(file.Scorecards) != 3 {
		t.Fatalf("got version %d with %d scorecards, want 1 with 3", file.Version, len(file.Scorecards))
	}
	crit := file.Scorecards[0]
	if crit.Name != "critical-services" || !slices.Equal(crit.AppliesTo.Tiers, []int{1, 2}) || !slices.Equal(crit.AppliesTo.Environments, []string{"production"}) {
		t.Errorf("critical-services: got %+v", crit)
	}
	want := []compliance.RuleOverride{
		{ID: "on-call-link", Level: compliance.Required, Weight: 5},
		{ID: "runbook-link", Level: compliance.Required, Weight: 2}, // weight from the rule set
		{ID: "tracing-exporter", Level: compliance.Required, Weight: 3},
	}
	if !slices.Equal(crit.Rules, want) {
		t.Errorf("critical-services rules: got %+v, want %+v", crit.Rules, want)
	}
	pci, ok := file.Scorecard("pci")
	if !ok || !pci.OnlyListed || pci.AppliesTo.Labels["pci"] != "true" {
		t.Errorf("pci: got %+v, %v", pci, ok)
	}
	if got := pci.Rules[0]; got != (compliance.RuleOverride{ID: "pprof-off", Level: compliance.Required, Weight: 3}) {
		t.Errorf("pci rule with level and weight left out: got %+v, want the rule set's own", got)
	}
	if _, ok := file.Scorecard("nope"); ok {
		t.Errorf("Scorecard(nope): got ok, want not found")
	}
}

func TestSelectorMatches(t *testing.T) {
	file := loadTestScorecards(t)
	names := func(t compliance.Target) []string {
		var out []string
		for _, s := range file.Matching(t) {
			out = append(out, s.Name)
		}
		return out
	}
	tests := []struct {
		name   string
		target compliance.Target
		want   []string
	}{
		{"tier 1 production pci", compliance.Target{Tier: 1, Environment: "production", Labels: map[string]string{"pci": "true"}}, []string{"critical-services", "pci"}},
		{"tier 1 staging", compliance.Target{Tier: 1, Environment: "staging"}, nil},
		{"tier 3 production", compliance.Target{Tier: 3, Environment: "production"}, nil},
		{"pci false", compliance.Target{Labels: map[string]string{"pci": "false"}}, nil},
		{"streaming experimental", compliance.Target{Lifecycle: "experimental", Labels: map[string]string{"streaming": "true"}}, []string{"streaming"}},
		{"streaming deprecated", compliance.Target{Lifecycle: "deprecated", Labels: map[string]string{"streaming": "true"}}, nil},
	}
	for _, tc := range tests {
		if got := names(tc.target); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if !(compliance.Selector{}).Matches(compliance.Target{}) {
		t.Errorf("zero Selector on zero Target: got no match, want a match")
	}
	dev := compliance.Selector{Environments: []string{"development"}}
	if !dev.Matches(compliance.Target{}) {
		t.Errorf("development selector on an unset environment: got no match, want a match")
	}
}

func TestScorecardApply(t *testing.T) {
	file := loadTestScorecards(t)
	f := goodFacts()
	f.Links.OnCall = ""      // recommended in the rule set, required by critical-services
	f.Server.IdleTimeout = 0 // required, dropped by streaming
	f.Labels = map[string]string{"pci": "true", "streaming": "true"}
	base := compliance.Evaluate(f, compliance.DefaultRuleSet())
	if base.Compliant() {
		t.Fatalf("base report: got compliant, want server-timeouts failing")
	}
	baseHash := base.Hash()

	reports := file.Apply(base, f.Target())
	if len(reports) != 3 {
		t.Fatalf("Apply: got %d reports, want 3", len(reports))
	}
	crit, pci, stream := reports[0], reports[1], reports[2]

	if crit.Scorecard != "critical-services" {
		t.Errorf("scorecard: got %q, want critical-services", crit.Scorecard)
	}
	oc, _ := crit.Result("on-call-link")
	if oc.Level != compliance.Required || oc.Weight != 5 || oc.Status != compliance.StatusFail {
		t.Errorf("critical-services on-call-link: got %+v, want required, weight 5, failed", oc)
	}
	var ids []string
	for _, x := range crit.RequiredFailures() {
		ids = append(ids, x.ID)
	}
	if want := []string{"server-timeouts", "on-call-link"}; !slices.Equal(ids, want) {
		t.Errorf("critical-services required failures: got %v, want %v", ids, want)
	}
	// weights: the rule set's 60, on-call 2→5, tracing 2→3: 64; failed server-timeouts 3 + on-call 5.
	if want := (64 - 8) * 100 / 64; crit.Score != want {
		t.Errorf("critical-services score: got %d, want %d", crit.Score, want)
	}

	// pci keeps only its four rules, in rule order; server-timeouts fails, weight 3 of 3+10+3+1.
	if want := []string{"admin-separate", "pprof-off", "request-limits"}; !slices.Equal(pci.Passed, want) {
		t.Errorf("pci passed: got %v, want %v", pci.Passed, want)
	}
	if want := 14 * 100 / 17; pci.Score != want {
		t.Errorf("pci score: got %d, want %d", pci.Score, want)
	}

	// streaming drops server-timeouts: compliant, but on-call still fails as recommended.
	if _, ok := stream.Result("server-timeouts"); ok {
		t.Errorf("streaming: got a server-timeouts result, want it left out")
	}
	if !stream.Compliant() || !slices.Equal(stream.Failed, []string{"on-call-link"}) {
		t.Errorf("streaming: got compliant %v, failed %v; want true, [on-call-link]", stream.Compliant(), stream.Failed)
	}

	if base.Hash() != baseHash || base.Scorecard != "" {
		t.Errorf("base report after Apply: got changed, want untouched")
	}
	if got := file.Apply(base, compliance.Target{Tier: 4}); len(got) != 0 {
		t.Errorf("Apply with no matching scorecard: got %d reports, want 0", len(got))
	}
}

// TestScorecardApplyOlderRuleSet: a rule the service's rule set lacks fails, saying why.
func TestScorecardApplyOlderRuleSet(t *testing.T) {
	old := mustSet(t, fixed("owner-set", compliance.Required, 3, compliance.StatusPass))
	rep := compliance.Evaluate(compliance.Facts{}, old)
	sc := compliance.Scorecard{Name: "new-rules", Rules: []compliance.RuleOverride{
		{ID: "on-call-link", Level: compliance.Required, Weight: 2},
		{ID: "pprof-off", Level: compliance.Off},
		{ID: "runbook-link"}, // hand-built: no level or weight
	}}
	got := sc.Apply(rep)
	oc, ok := got.Result("on-call-link")
	if !ok || oc.Status != compliance.StatusFail || oc.Message != `not evaluated: the service's rule set test.1 has no rule "on-call-link"` || oc.Fix == "" {
		t.Errorf("missing rule: got %+v, want a failure saying it was not evaluated, with a fix", oc)
	}
	if _, ok := got.Result("pprof-off"); ok {
		t.Errorf("missing rule at level off: got a result, want none")
	}
	rb, _ := got.Result("runbook-link")
	if rb.Level != compliance.Required || rb.Weight != 1 {
		t.Errorf("missing hand-built rule: got level %v weight %d, want required 1", rb.Level, rb.Weight)
	}
	if got.Compliant() || got.Score != 50 {
		t.Errorf("got compliant %v score %d, want false 50", got.Compliant(), got.Score)
	}
}

func TestParseScorecardsBad(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // "field: part of the message", in order
	}{
		{"not JSON", `{"version": 1,`, []string{": unexpected end of JSON"}},
		{"syntax error line", "{\n\"version\": 1,\n\"scorecards\": [}\n", []string{": not valid JSON at line 3"}},
		{"trailing data", `{"version":1,"scorecards":[]} {}`, []string{": after the top-level value"}},
		{"not an object", `[]`, []string{": must be an object, got an array"}},
		{"missing everything", `{}`, []string{"version: is required", "scorecards: is required"}},
		{"wrong version", `{"version": 2, "scorecards": []}`, []string{"version: must be 1 (the only format version), got 2"}},
		{"fractional version", `{"version": 1.5, "scorecards": []}`, []string{"version: must be a whole number, got 1.5"}},
		{"unknown top field", `{"version": 1, "scorecards": [], "scorcards": []}`, []string{"scorcards: unknown field; valid fields here: scorecards, version"}},
		{"duplicate key", `{"version": 1, "version": 1, "scorecards": []}`, []string{"version: appears twice"}},
		{"scorecards not array", `{"version": 1, "scorecards": {}}`, []string{"scorecards: must be an array, got an object"}},
		{"every problem at once", `{
  "version": 1,
  "scorecards": [
    {
      "name": "Tier One",
      "descripton": "typo",
      "appliesTo": {"tiers": [0, 2, "3"], "lifecycles": ["prod"], "environments": ["qa"], "labels": {"pci": true}, "owner": "x"},
      "onlyListed": "yes",
      "rules": [
        {"id": "runbok-link", "level": "must"},
        {"id": "on-call-link", "weight": 0},
        {"id": "on-call-link"},
        {"level": "required"},
        {"id": "owner-set", "weight": 101, "why": "x"},
        "pprof-off",
        {"id": "zzzzzzzzzzzz"}
      ]
    },
    {"name": "ok"},
    {"name": "ok"},
    {"onlyListed": true}
  ]
}`, []string{
			`scorecards[0].descripton: unknown field; valid fields here: appliesTo, description, name, onlyListed, rules`,
			`scorecards[0].name: must be kebab-case such as "critical-services"`,
			`scorecards[0].onlyListed: must be true or false, got a string`,
			`scorecards[0].appliesTo.owner: unknown field`,
			`scorecards[0].appliesTo.tiers[0]: must be a tier from 1 to 4, got 0`,
			`scorecards[0].appliesTo.tiers[2]: must be a whole number, got a string`,
			`scorecards[0].appliesTo.lifecycles[0]: must be one of experimental, production, deprecated, got "prod"`,
			`scorecards[0].appliesTo.environments[0]: must be one of development, staging, production, got "qa"`,
			`scorecards[0].appliesTo.labels.pci: must be a string, got a boolean`,
			`scorecards[0].rules[0].id: unknown rule "runbok-link": did you mean "runbook-link"? (rule set 2026.12.1)`,
			`scorecards[0].rules[0].level: must be required, recommended or off, got "must"`,
			`scorecards[0].rules[1].weight: must be from 1 to 100, got 0 (to leave a rule out, set its level to off)`,
			`scorecards[0].rules[2].id: rule "on-call-link" is already listed at scorecards[0].rules[1]`,
			`scorecards[0].rules[3].id: is required: the id of a rule of rule set 2026.12.1`,
			`scorecards[0].rules[4].why: unknown field; valid fields here: id, level, weight`,
			`scorecards[0].rules[4].weight: must be from 1 to 100, got 101`,
			`scorecards[0].rules[5]: must be an object, got a string`,
			`scorecards[0].rules[6].id: unknown rule "zzzzzzzzzzzz": rule set 2026.12.1 has owner-set, description-set,`,
			`scorecards[2].name: "ok" is already the name of scorecards[1]`,
			`scorecards[3].name: is required`,
			`scorecards[3].rules: is required when onlyListed is true`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compliance.ParseScorecards(strings.NewReader(tc.file), compliance.DefaultRuleSet())
			var se *compliance.ScorecardError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *ScorecardError", err)
			}
			var got []string
			for _, fe := range se.Errors {
				got = append(got, fe.Field+": "+fe.Message)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("error %d: got %q, want it to start with %q", i, got[i], tc.want[i])
				}
			}
			if !strings.HasPrefix(err.Error(), "compliance: invalid scorecard file: ") {
				t.Errorf("Error(): got %q, want the package prefix", err)
			}
		})
	}
}

func TestParseScorecardsLimits(t *testing.T) {
	big := `{"version": 1, "scorecards": [], "x": "` + strings.Repeat("a", compliance.MaxScorecardFileSize) + `"}`
	_, err := compliance.ParseScorecards(strings.NewReader(big), compliance.DefaultRuleSet())
	if err == nil || !strings.Contains(err.Error(), "file is larger than 1048576 bytes") {
		t.Errorf("big file: got %v, want a size error", err)
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	_, err = compliance.ParseScorecards(strings.NewReader(deep), compliance.DefaultRuleSet())
	if err == nil || !strings.Contains(err.Error(), "nested deeper than 32 levels") {
		t.Errorf("deep file: got %v, want a nesting error", err)
	}
	empty, err := compliance.ParseScorecards(strings.NewReader(`{"version":1,"scorecards":[]}`), compliance.DefaultRuleSet())
	if err != nil || len(empty.Scorecards) != 0 {
		t.Errorf("no scorecards: got %+v, %v; want an empty file, nil", empty, err)
	}
}

func TestLoadScorecardsMissingFile(t *testing.T) {
	_, err := compliance.LoadScorecards(filepath.Join(t.TempDir(), "none.json"), compliance.DefaultRuleSet())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want an error matching os.ErrNotExist", err)
	}
}
