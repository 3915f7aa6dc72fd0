package compliance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"
)

// RuleResult is the outcome of one rule in a [Report].
type RuleResult struct {
	// ID is the rule's id.
	ID string `json:"id"`
	// Title says what a compliant service has.
	Title string `json:"title"`
	// Level is the rule's level in force (a scorecard may change it).
	Level Level `json:"level"`
	// Weight is the rule's weight in force.
	Weight int `json:"weight"`
	// Status is pass, fail or not-applicable.
	Status Status `json:"status"`
	// Message names what was found, such as `dependency "inventory" has no circuit breaker`.
	Message string `json:"message,omitempty"`
	// Fix says how to fix a failure; set on failed rules only.
	Fix string `json:"fix,omitempty"`
}

// Report is the outcome of evaluating a [RuleSet] over [Facts], or of applying a
// [Scorecard] to such a report. Its JSON form is what /compliance serves and what the
// service sends to the catalog. A Report is a plain value: safe for concurrent reads.
type Report struct {
	// RuleSetVersion is the version of the rule set evaluated.
	RuleSetVersion string `json:"ruleSetVersion"`
	// Scorecard names the scorecard applied; empty for the rule set's own levels and
	// weights.
	Scorecard string `json:"scorecard,omitempty"`
	// Component is the component's name, from [Facts.Name].
	Component string `json:"component,omitempty"`
	// Environment is the environment the facts came from.
	Environment string `json:"environment,omitempty"`
	// Score is 0 to 100: the weight of the passed rules over the weight of the passed and
	// failed rules, times 100, rounded down; not-applicable rules are left out; 100 when
	// no rule applies. Only a report with no failed rule scores 100.
	Score int `json:"score"`
	// Passed lists the ids of the rules passed, in rule order.
	Passed []string `json:"passed"`
	// Failed lists the ids of the rules failed, in rule order.
	Failed []string `json:"failed"`
	// NotApplicable lists the ids of the rules that did not apply, in rule order.
	NotApplicable []string `json:"notApplicable"`
	// Results holds every rule's outcome, in rule order.
	Results []RuleResult `json:"results"`
}

// Evaluate runs every rule of set over f and returns the report. A check that panics
// fails its rule with the panic in the message; a check that returns an invalid status
// fails its rule too. Evaluate never modifies f.
func Evaluate(f Facts, set RuleSet) Report {
	r := Report{RuleSetVersion: set.version, Component: f.Name, Environment: envName(f)}
	r.Results = make([]RuleResult, 0, len(set.rules))
	for _, rule := range set.rules {
		res := runCheck(rule, f)
		r.Results = append(r.Results, RuleResult{
			ID: rule.ID, Title: rule.Title, Level: rule.Level, Weight: rule.Weight,
			Status: res.Status, Message: res.Message, Fix: rule.Fix,
		})
	}
	r.tally()
	return r
}

// runCheck calls the rule's check on a copy of the facts' slices and map, turning a
// panic or an invalid status into a failure.
func runCheck(rule Rule, f Facts) (res Result) {
	defer func() {
		if v := recover(); v != nil {
			res = Fail("check panicked: %v", v)
		}
	}()
	res = rule.Check(f.clone())
	if !res.Status.Valid() {
		return Fail("check returned invalid status %q", res.Status)
	}
	return res
}

// clone returns f with its own copies of slices and maps, so a check cannot change the
// caller's facts.
func (f Facts) clone() Facts {
	f.DependsOn = append([]string(nil), f.DependsOn...)
	f.ReadinessChecks = append([]string(nil), f.ReadinessChecks...)
	f.LivenessChecks = append([]Check(nil), f.LivenessChecks...)
	f.Dependencies = append([]Dependency(nil), f.Dependencies...)
	f.Labels = maps.Clone(f.Labels)
	return f
}

// tally fills Score, Passed, Failed and NotApplicable from Results, and keeps Fix on
// failed results only.
func (r *Report) tally() {
	r.Passed, r.Failed, r.NotApplicable = []string{}, []string{}, []string{}
	var got, total int
	for i := range r.Results {
		res := &r.Results[i]
		switch res.Status {
		case StatusPass:
			r.Passed = append(r.Passed, res.ID)
			got += res.Weight
			total += res.Weight
			res.Fix = ""
		case StatusFail:
			r.Failed = append(r.Failed, res.ID)
			total += res.Weight
		default:
			r.NotApplicable = append(r.NotApplicable, res.ID)
			res.Fix = ""
		}
	}
	r.Score = 100
	if total > 0 {
		r.Score = got * 100 / total
	}
}

// reportJSON is a Report as JSON: its fields plus "compliant", derived from them.
type reportJSON struct {
	plainReport
	Compliant bool `json:"compliant"`
}

// plainReport is Report without its methods, so encoding it does not recurse.
type plainReport Report

// MarshalJSON writes r's fields plus "compliant" (no required rule failed), so a
// pipeline can test one field.
func (r Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(reportJSON{plainReport(r), r.Compliant()})
}

// UnmarshalJSON reads what MarshalJSON writes; "compliant" is derived, so it is read
// and dropped. Unknown fields are ignored, so that a newer report still decodes.
func (r *Report) UnmarshalJSON(b []byte) error {
	var x reportJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*r = Report(x.plainReport)
	return nil
}

// Compliant reports whether no required rule failed.
func (r Report) Compliant() bool { return len(r.RequiredFailures()) == 0 }

// Failures returns the failed rules, in rule order.
func (r Report) Failures() []RuleResult {
	return r.filter(func(x RuleResult) bool { return x.Status == StatusFail })
}

// RequiredFailures returns the failed required rules, in rule order.
func (r Report) RequiredFailures() []RuleResult {
	return r.filter(func(x RuleResult) bool { return x.Status == StatusFail && x.Level == Required })
}

func (r Report) filter(keep func(RuleResult) bool) []RuleResult {
	var out []RuleResult
	for _, x := range r.Results {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// Result returns the outcome of the rule with the given id.
func (r Report) Result(id string) (RuleResult, bool) {
	for _, x := range r.Results {
		if x.ID == id {
			return x, true
		}
	}
	return RuleResult{}, false
}

// Enforce returns nil when r is compliant, else a [*NotCompliantError] listing each
// failed required rule with its fix. It matches [ErrNotCompliant] with errors.Is.
func (r Report) Enforce() error {
	if f := r.RequiredFailures(); len(f) > 0 {
		return &NotCompliantError{RuleSetVersion: r.RuleSetVersion, Failures: f}
	}
	return nil
}

// Summary returns a one-line summary for a log, such as
//
//	compliance 2026.12.1: score 82/100, not compliant: 2 required, 1 recommended failed (dependency-breaker, server-timeouts, runbook-link); 19 passed, 1 not applicable
func (r Report) Summary() string {
	var b strings.Builder
	b.WriteString("compliance ")
	b.WriteString(orDash(r.RuleSetVersion))
	if r.Scorecard != "" {
		fmt.Fprintf(&b, " scorecard %s", r.Scorecard)
	}
	fmt.Fprintf(&b, ": score %d/100, ", r.Score)
	req := len(r.RequiredFailures())
	if req == 0 {
		b.WriteString("compliant")
	} else {
		b.WriteString("not compliant")
	}
	if n := len(r.Failed); n > 0 {
		fmt.Fprintf(&b, ": %d required, %d recommended failed (%s)", req, n-req, strings.Join(r.Failed, ", "))
	}
	fmt.Fprintf(&b, "; %d passed, %d not applicable", len(r.Passed), len(r.NotApplicable))
	return b.String()
}

// WriteText writes r for a person to read: the summary, then the failed rules (required
// first) with their messages and fixes, then the passed and not-applicable rules.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteString("\n")
	if r.Component != "" || r.Environment != "" {
		fmt.Fprintf(&b, "component %s, environment %s\n", orDash(r.Component), orDash(r.Environment))
	}
	section := func(title string, keep func(RuleResult) bool, withFix bool) {
		rs := r.filter(keep)
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(rs))
		for _, x := range rs {
			fmt.Fprintf(&b, "  %-26s %s\n", x.ID, x.Title)
			if x.Message != "" {
				fmt.Fprintf(&b, "  %-26s %s\n", "", x.Message)
			}
			if withFix && x.Fix != "" {
				fmt.Fprintf(&b, "  %-26s fix: %s\n", "", x.Fix)
			}
		}
	}
	section("FAILED, required", func(x RuleResult) bool { return x.Status == StatusFail && x.Level == Required }, true)
	section("FAILED, recommended", func(x RuleResult) bool { return x.Status == StatusFail && x.Level != Required }, true)
	section("PASSED", func(x RuleResult) bool { return x.Status == StatusPass }, false)
	section("NOT APPLICABLE", func(x RuleResult) bool { return x.Status == StatusNotApplicable }, false)
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Hash returns a hex SHA-256 of r's JSON form. Two reports have the same hash exactly
// when they have the same content, so a service re-sends its report when the hash
// changes.
func (r Report) Hash() string {
	// nil and empty lists are the same content; a decoded report may hold either.
	r.Passed = nonNil(r.Passed)
	r.Failed = nonNil(r.Failed)
	r.NotApplicable = nonNil(r.NotApplicable)
	if r.Results == nil {
		r.Results = []RuleResult{}
	}
	b, err := json.Marshal(plainReport(r)) // "compliant" is derived from the rest
	if err != nil {                        // a Report holds only strings, ints and slices of them
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Equal reports whether r and o have the same content.
func (r Report) Equal(o Report) bool { return r.Hash() == o.Hash() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// NewReport builds a report from rule outcomes that were stored or sent without their
// details, such as the catalog's copy of a service's scorecard (ids, statuses and
// messages). Each result's empty Title, Level and Fix and zero Weight are taken from the
// rule of set with the same id; a rule set does not know keeps what it was given, with
// Title defaulting to the id, Level to Recommended and Weight to 1. Statuses other than
// pass, fail and not-applicable count as fail. Score and the id lists are computed as
// [Evaluate] does. results is not modified.
func NewReport(ruleSetVersion string, results []RuleResult, set RuleSet) Report {
	r := Report{RuleSetVersion: ruleSetVersion, Results: make([]RuleResult, len(results))}
	for i, x := range results {
		rule, known := set.Rule(x.ID)
		if !known {
			rule = Rule{Title: x.ID, Level: Recommended, Weight: 1}
		}
		if x.Title == "" {
			x.Title = rule.Title
		}
		if x.Level == "" {
			x.Level = rule.Level
		}
		if x.Weight <= 0 {
			x.Weight = rule.Weight
		}
		if x.Fix == "" {
			x.Fix = rule.Fix
		}
		if !x.Status.Valid() {
			x.Status = StatusFail
		}
		r.Results[i] = x
	}
	r.tally()
	return r
}
