package compliance_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
)

// fixed returns a rule whose check always returns st.
func fixed(id string, level compliance.Level, weight int, st compliance.Status) compliance.Rule {
	return compliance.Rule{
		ID: id, Title: "Title of " + id, Fix: "Fix " + id, Level: level, Weight: weight,
		Check: func(compliance.Facts) compliance.Result {
			return compliance.Result{Status: st, Message: id + " says " + string(st)}
		},
	}
}

func mustSet(t *testing.T, rules ...compliance.Rule) compliance.RuleSet {
	t.Helper()
	set, err := compliance.NewRuleSet("test.1", rules...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestScore(t *testing.T) {
	pass, fail, na := compliance.StatusPass, compliance.StatusFail, compliance.StatusNotApplicable
	req, rec := compliance.Required, compliance.Recommended
	tests := []struct {
		name      string
		rules     []compliance.Rule
		score     int
		compliant bool
	}{
		{"no rules", nil, 100, true},
		{"all pass", []compliance.Rule{fixed("a", req, 3, pass), fixed("b", rec, 1, pass)}, 100, true},
		{"weighted", []compliance.Rule{fixed("a", req, 3, pass), fixed("b", rec, 1, fail)}, 75, true},
		{"required failed", []compliance.Rule{fixed("a", req, 1, fail), fixed("b", rec, 3, pass)}, 75, false},
		{"not applicable left out", []compliance.Rule{fixed("a", req, 1, pass), fixed("b", rec, 1, fail), fixed("c", req, 50, na)}, 50, true},
		{"only not applicable", []compliance.Rule{fixed("a", req, 2, na)}, 100, true},
		{"rounded down", []compliance.Rule{fixed("a", req, 2, pass), fixed("b", rec, 1, fail)}, 66, true},
		{"never 100 with a failure", []compliance.Rule{fixed("a", req, 999, pass), fixed("b", rec, 1, fail)}, 99, true},
		{"all fail", []compliance.Rule{fixed("a", req, 1, fail), fixed("b", req, 1, fail)}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := compliance.Evaluate(compliance.Facts{}, mustSet(t, tc.rules...))
			if rep.Score != tc.score {
				t.Errorf("score: got %d, want %d", rep.Score, tc.score)
			}
			if rep.Compliant() != tc.compliant {
				t.Errorf("Compliant: got %v, want %v", rep.Compliant(), tc.compliant)
			}
			if got := len(rep.Passed) + len(rep.Failed) + len(rep.NotApplicable); got != len(tc.rules) {
				t.Errorf("passed+failed+not applicable: got %d ids, want %d", got, len(tc.rules))
			}
		})
	}
}

func TestReportLists(t *testing.T) {
	set := mustSet(t,
		fixed("a", compliance.Required, 1, compliance.StatusFail),
		fixed("b", compliance.Recommended, 1, compliance.StatusPass),
		fixed("c", compliance.Recommended, 1, compliance.StatusFail),
		fixed("d", compliance.Required, 1, compliance.StatusNotApplicable),
	)
	rep := compliance.Evaluate(compliance.Facts{Name: "x", Environment: "staging"}, set)
	if want := []string{"b"}; !slices.Equal(rep.Passed, want) {
		t.Errorf("passed: got %v, want %v", rep.Passed, want)
	}
	if want := []string{"a", "c"}; !slices.Equal(rep.Failed, want) {
		t.Errorf("failed: got %v, want %v", rep.Failed, want)
	}
	if want := []string{"d"}; !slices.Equal(rep.NotApplicable, want) {
		t.Errorf("not applicable: got %v, want %v", rep.NotApplicable, want)
	}
	if rep.RuleSetVersion != "test.1" || rep.Component != "x" || rep.Environment != "staging" {
		t.Errorf("header: got %q %q %q, want test.1 x staging", rep.RuleSetVersion, rep.Component, rep.Environment)
	}
	var ids []string
	for _, f := range rep.RequiredFailures() {
		ids = append(ids, f.ID)
	}
	if want := []string{"a"}; !slices.Equal(ids, want) {
		t.Errorf("RequiredFailures: got %v, want %v", ids, want)
	}
	if got := len(rep.Failures()); got != 2 {
		t.Errorf("Failures: got %d, want 2", got)
	}
}

func TestEnforce(t *testing.T) {
	f := goodFacts()
	if err := compliance.Evaluate(f, compliance.DefaultRuleSet()).Enforce(); err != nil {
		t.Fatalf("Enforce on compliant facts: got %v, want nil", err)
	}
	// A recommended failure alone does not stop the start.
	f.Links.Runbook = ""
	if err := compliance.Evaluate(f, compliance.DefaultRuleSet()).Enforce(); err != nil {
		t.Fatalf("Enforce with a failed recommended rule: got %v, want nil", err)
	}
	f.Dependencies[0].Breaker = false
	f.PprofEnabled = true
	err := compliance.Evaluate(f, compliance.DefaultRuleSet()).Enforce()
	if !errors.Is(err, compliance.ErrNotCompliant) {
		t.Fatalf("Enforce: got %v, want an error matching ErrNotCompliant", err)
	}
	var nc *compliance.NotCompliantError
	if !errors.As(err, &nc) {
		t.Fatalf("Enforce: got %T, want *NotCompliantError", err)
	}
	var ids []string
	for _, x := range nc.Failures {
		ids = append(ids, x.ID)
	}
	if want := []string{"pprof-off", "dependency-breaker"}; !slices.Equal(ids, want) {
		t.Errorf("failures: got %v, want %v", ids, want)
	}
	msg := err.Error()
	breaker, _ := compliance.DefaultRuleSet().Rule("dependency-breaker")
	for _, want := range []string{"2 required rules failed", `dependency "inventory" has no circuit breaker`, breaker.Fix, "pprof is enabled in production", "2026.12"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q: want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "runbook") {
		t.Errorf("error %q: got the recommended runbook-link in it, want required rules only", msg)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	f := goodFacts()
	f.Dependencies[1].Timeout = 0
	f.PprofEnabled = true
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back compliance.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rep) {
		t.Errorf("round trip: got %+v, want %+v", back, rep)
	}
	if !back.Equal(rep) || back.Hash() != rep.Hash() {
		t.Errorf("Equal after round trip: got false, want true")
	}
	// The JSON names the catalog reads.
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["compliant"] != false {
		t.Errorf("compliant: got %v, want false", m["compliant"])
	}
	for _, k := range []string{"ruleSetVersion", "score", "passed", "failed", "notApplicable", "results", "component", "environment"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON keys: got %v, want %q among them", keys(m), k)
		}
	}
	first := m["results"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "title", "level", "weight", "status", "message"} {
		if _, ok := first[k]; !ok {
			t.Errorf("result JSON keys: got %v, want %q among them", keys(first), k)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestHashChangesWithWiring(t *testing.T) {
	set := compliance.DefaultRuleSet()
	a := compliance.Evaluate(goodFacts(), set)
	b := compliance.Evaluate(goodFacts(), set)
	if !a.Equal(b) || a.Hash() != b.Hash() {
		t.Fatalf("same facts: got different hashes %s and %s, want equal", a.Hash(), b.Hash())
	}
	if len(a.Hash()) != 64 {
		t.Errorf("hash length: got %d, want 64 hex digits", len(a.Hash()))
	}
	f := goodFacts()
	f.Dependencies[0].Breaker = false
	c := compliance.Evaluate(f, set)
	if a.Equal(c) {
		t.Errorf("after removing a breaker: got an equal report, want a different one")
	}
	// A changed message alone (same statuses) is a change too.
	f = goodFacts()
	f.Version = "v1.4.3"
	if d := compliance.Evaluate(f, set); a.Equal(d) {
		t.Errorf("after a new version: got an equal report, want a different one")
	}
	// nil and empty lists are the same content.
	e := a
	e.NotApplicable = nil
	if !a.Equal(e) {
		t.Errorf("nil vs empty notApplicable: got different, want equal")
	}
}

func TestSummary(t *testing.T) {
	rep := compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet())
	want := "compliance 2026.12.1: score 100/100, compliant; 28 passed, 0 not applicable"
	if got := rep.Summary(); got != want {
		t.Errorf("Summary: got %q, want %q", got, want)
	}
	f := goodFacts()
	f.Dependencies[0].Breaker = false
	f.Links.Runbook = ""
	f.Environment = compliance.EnvDevelopment
	got := compliance.Evaluate(f, compliance.DefaultRuleSet()).Summary()
	// applicable weight 60-7 (tracing, pprof, registration do not apply in development), failed 3+2: 48*100/53 = 90
	want = "compliance 2026.12.1: score 90/100, not compliant: 1 required, 1 recommended failed (dependency-breaker, runbook-link); 23 passed, 3 not applicable"
	if got != want {
		t.Errorf("Summary: got %q, want %q", got, want)
	}
	if strings.Contains(got, "\n") {
		t.Errorf("Summary: got a newline, want one line")
	}
}

func TestWriteText(t *testing.T) {
	f := goodFacts()
	f.Dependencies[0].Breaker = false
	f.Links.Runbook = ""
	rep := compliance.Evaluate(f, compliance.DefaultRuleSet())
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	breaker, _ := compliance.DefaultRuleSet().Rule("dependency-breaker")
	runbook, _ := compliance.DefaultRuleSet().Rule("runbook-link")
	order := []string{
		rep.Summary(),
		"component checkout, environment production",
		"FAILED, required (1)", "dependency-breaker", `dependency "inventory" has no circuit breaker`, "fix: " + breaker.Fix,
		"FAILED, recommended (1)", "runbook-link", "fix: " + runbook.Fix,
		"PASSED (26)", "owner-set",
	}
	pos := 0
	for _, want := range order {
		i := strings.Index(out[pos:], want)
		if i < 0 {
			t.Fatalf("text: want %q after byte %d, got:\n%s", want, pos, out)
		}
		pos += i + len(want)
	}
	if strings.Contains(out, "NOT APPLICABLE") {
		t.Errorf("text: got a NOT APPLICABLE section, want none when every rule applies")
	}
	owner, _ := compliance.DefaultRuleSet().Rule("owner-set")
	if strings.Contains(out, owner.Fix) {
		t.Errorf("text: got the fix of a passed rule, want fixes of failures only")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTextError(t *testing.T) {
	rep := compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet())
	if err := rep.WriteText(failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteText to a failing writer: got %v, want the writer's error", err)
	}
}

func TestCheckPanicsAndBadStatus(t *testing.T) {
	set := mustSet(t,
		compliance.Rule{ID: "panics", Title: "t", Fix: "f", Level: compliance.Required, Weight: 1,
			Check: func(f compliance.Facts) compliance.Result { return compliance.Pass("%s", f.Dependencies[3].Name) }},
		compliance.Rule{ID: "bad-status", Title: "t", Fix: "f", Level: compliance.Recommended, Weight: 1,
			Check: func(compliance.Facts) compliance.Result { return compliance.Result{Status: "maybe"} }},
	)
	rep := compliance.Evaluate(compliance.Facts{}, set)
	p, _ := rep.Result("panics")
	if p.Status != compliance.StatusFail || !strings.Contains(p.Message, "check panicked: ") || !strings.Contains(p.Message, "index out of range") {
		t.Errorf("panicking check: got %v %q, want fail with the panic", p.Status, p.Message)
	}
	b, _ := rep.Result("bad-status")
	if b.Status != compliance.StatusFail || b.Message != `check returned invalid status "maybe"` {
		t.Errorf("invalid status: got %v %q, want fail naming the status", b.Status, b.Message)
	}
}

func TestEvaluateDoesNotModifyFacts(t *testing.T) {
	set := mustSet(t, compliance.Rule{ID: "meddles", Title: "t", Fix: "f", Level: compliance.Required, Weight: 1,
		Check: func(f compliance.Facts) compliance.Result {
			f.DependsOn[0] = "changed"
			f.Labels["pci"] = "changed"
			f.Dependencies[0].Breaker = false
			f.LivenessChecks[0].Name = "changed"
			f.ReadinessChecks[0] = "changed"
			return compliance.Pass("meddled")
		}})
	f := goodFacts()
	compliance.Evaluate(f, set)
	if !reflect.DeepEqual(f, goodFacts()) {
		t.Errorf("facts after Evaluate: got %+v, want them unchanged", f)
	}
}

func TestNewRuleSetErrors(t *testing.T) {
	ok := fixed("fine", compliance.Required, 1, compliance.StatusPass)
	_, err := compliance.NewRuleSet("has space",
		ok,
		compliance.Rule{ID: "Bad_ID", Title: " ", Level: "must", Weight: 0},
		fixed("fine", compliance.Recommended, 2, compliance.StatusPass),
	)
	var rse *compliance.RuleSetError
	if !errors.As(err, &rse) {
		t.Fatalf("NewRuleSet: got %v, want a *RuleSetError", err)
	}
	var fields []string
	for _, fe := range rse.Errors {
		fields = append(fields, fe.Field)
	}
	want := []string{"version", "rules[1].id", "rules[1].title", "rules[1].fix", "rules[1].level", "rules[1].weight", "rules[1].check", "rules[2].id"}
	if !slices.Equal(fields, want) {
		t.Errorf("fields: got %v, want %v", fields, want)
	}
	for _, part := range []string{`"Bad_ID"`, `"must"`, "got 0", `"fine" is already the id of rules[0]`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q: want it to contain %q", err, part)
		}
	}
}

func TestRuleSetAccessors(t *testing.T) {
	set := compliance.DefaultRuleSet()
	ids := set.IDs()
	if len(ids) != set.Len() || ids[0] != "owner-set" {
		t.Errorf("IDs: got %v, want %d ids starting with owner-set", ids, set.Len())
	}
	rules := set.Rules()
	rules[0].ID = "changed"
	if set.IDs()[0] != "owner-set" {
		t.Errorf("after changing Rules(): got first id %q, want owner-set", set.IDs()[0])
	}
	if _, ok := set.Rule("no-such-rule"); ok {
		t.Errorf("Rule(no-such-rule): got ok, want not found")
	}
	var zero compliance.RuleSet
	rep := compliance.Evaluate(goodFacts(), zero)
	if rep.Score != 100 || !rep.Compliant() || len(rep.Results) != 0 {
		t.Errorf("zero RuleSet: got score %d, compliant %v, %d results; want 100, true, 0", rep.Score, rep.Compliant(), len(rep.Results))
	}
}

// TestNewReport: the catalog rebuilds a full report from stored ids, statuses and
// messages, and gets the score the service computed.
func TestNewReport(t *testing.T) {
	f := goodFacts()
	f.Dependencies[0].Breaker = false
	f.Links.Runbook = ""
	set := compliance.DefaultRuleSet()
	want := compliance.Evaluate(f, set)
	var stored []compliance.RuleResult
	for _, x := range want.Results {
		stored = append(stored, compliance.RuleResult{ID: x.ID, Status: x.Status, Message: x.Message})
	}
	got := compliance.NewReport(want.RuleSetVersion, stored, set)
	got.Component, got.Environment = want.Component, want.Environment
	if !got.Equal(want) {
		t.Errorf("rebuilt report: got %+v, want %+v", got, want)
	}
	if stored[0].Title != "" {
		t.Errorf("NewReport modified its input: got title %q, want empty", stored[0].Title)
	}

	odd := compliance.NewReport("x", []compliance.RuleResult{
		{ID: "team-rule", Status: compliance.StatusPass},
		{ID: "owner-set", Status: "weird"},
	}, set)
	tr, _ := odd.Result("team-rule")
	if tr.Title != "team-rule" || tr.Level != compliance.Recommended || tr.Weight != 1 {
		t.Errorf("unknown rule: got %+v, want title = id, recommended, weight 1", tr)
	}
	if !slices.Equal(odd.Failed, []string{"owner-set"}) || odd.Score != 25 || odd.Compliant() {
		t.Errorf("invalid status: got failed %v score %d compliant %v, want [owner-set] 25 false", odd.Failed, odd.Score, odd.Compliant())
	}
}
