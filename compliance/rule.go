package compliance

import (
	"fmt"
	"strings"
)

// Level is how much a rule matters.
type Level string

// The levels of a rule.
const (
	// Required rules decide compliance: one failed required rule makes a report not
	// compliant, and COMPLIANCE_MODE=enforce refuses to start.
	Required Level = "required"
	// Recommended rules count in the score only.
	Recommended Level = "recommended"
)

// Valid reports whether l is Required or Recommended.
func (l Level) Valid() bool { return l == Required || l == Recommended }

// Status is the outcome of one rule.
type Status string

// The outcomes of a rule.
const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
	// StatusNotApplicable is a rule that does not apply to these facts, such as a
	// dependency rule for a service without dependencies. It is left out of the score.
	StatusNotApplicable Status = "not-applicable"
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	return s == StatusPass || s == StatusFail || s == StatusNotApplicable
}

// Result is what a rule's check found: a status and a message naming the concrete
// problem, such as `dependency "inventory" has no circuit breaker`.
type Result struct {
	Status  Status
	Message string
}

// Pass returns a passing Result with the formatted message.
func Pass(format string, args ...any) Result {
	return Result{Status: StatusPass, Message: fmt.Sprintf(format, args...)}
}

// Fail returns a failing Result with the formatted message.
func Fail(format string, args ...any) Result {
	return Result{Status: StatusFail, Message: fmt.Sprintf(format, args...)}
}

// NotApplicable returns a not-applicable Result with the formatted message.
func NotApplicable(format string, args ...any) Result {
	return Result{Status: StatusNotApplicable, Message: fmt.Sprintf(format, args...)}
}

// Rule is one thing a compliant service has, and how to tell from [Facts].
type Rule struct {
	// ID names the rule for good: lower-case kebab-case such as "owner-set". Scorecard
	// files and the catalog refer to it.
	ID string
	// Title says in a few words what a compliant service has.
	Title string
	// Why says what goes wrong without it.
	Why string
	// Fix says how to fix a failure.
	Fix string
	// Level is Required or Recommended.
	Level Level
	// Weight is the rule's share of the score, 1 or more.
	Weight int
	// Check evaluates the rule. It must not modify the facts it is given.
	Check func(Facts) Result
}

// MaxRuleIDLength is the longest rule id accepted.
const MaxRuleIDLength = 64

// IsRuleID reports whether id is a valid rule id: lower-case letters and digits in
// words joined by single '-', starting with a letter, at most [MaxRuleIDLength] bytes.
func IsRuleID(id string) bool {
	if id == "" || len(id) > MaxRuleIDLength || id[0] < 'a' || id[0] > 'z' || id[len(id)-1] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && id[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// RuleSet is a versioned list of rules with unique ids. Build one with [NewRuleSet] or
// [DefaultRuleSet]; the zero RuleSet has no rules and no version. A RuleSet is immutable
// and safe for concurrent use.
type RuleSet struct {
	version string
	rules   []Rule
}

// NewRuleSet returns a rule set of the given version and rules, in that order. It
// returns a [*RuleSetError] listing every problem: a version that is empty or holds
// spaces, a rule id that is invalid or repeated, an empty title or fix, an invalid
// level, a weight below 1, a nil Check.
func NewRuleSet(version string, rules ...Rule) (RuleSet, error) {
	var p problems
	if version == "" || strings.ContainsFunc(version, func(r rune) bool { return r <= ' ' || r > '~' }) {
		p.add("version", "must be 1 or more printable ASCII characters without spaces, such as %q, got %q", DefaultVersion, version)
	}
	seen := make(map[string]int, len(rules))
	for i, r := range rules {
		f := fmt.Sprintf("rules[%d]", i)
		if !IsRuleID(r.ID) {
			p.add(f+".id", "must be lower-case kebab-case such as \"owner-set\" (letters, digits, single '-', at most %d bytes), got %q", MaxRuleIDLength, r.ID)
		} else if j, dup := seen[r.ID]; dup {
			p.add(f+".id", "%q is already the id of rules[%d]", r.ID, j)
		} else {
			seen[r.ID] = i
		}
		if strings.TrimSpace(r.Title) == "" {
			p.add(f+".title", "is required")
		}
		if strings.TrimSpace(r.Fix) == "" {
			p.add(f+".fix", "is required: say how to fix a failure")
		}
		if !r.Level.Valid() {
			p.add(f+".level", "must be %q or %q, got %q", Required, Recommended, r.Level)
		}
		if r.Weight < 1 {
			p.add(f+".weight", "must be 1 or more, got %d", r.Weight)
		}
		if r.Check == nil {
			p.add(f+".check", "is required: a func(Facts) Result")
		}
	}
	if err := p.ruleSetErr(); err != nil {
		return RuleSet{}, err
	}
	return RuleSet{version: version, rules: append([]Rule(nil), rules...)}, nil
}

// Version returns the rule set's version, such as "2026.12".
func (s RuleSet) Version() string { return s.version }

// Rules returns the rules in order, in a slice the caller may modify.
func (s RuleSet) Rules() []Rule { return append([]Rule(nil), s.rules...) }

// Len returns the number of rules.
func (s RuleSet) Len() int { return len(s.rules) }

// Rule returns the rule with the given id.
func (s RuleSet) Rule(id string) (Rule, bool) {
	for _, r := range s.rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// IDs returns the rule ids in order.
func (s RuleSet) IDs() []string {
	ids := make([]string, len(s.rules))
	for i, r := range s.rules {
		ids[i] = r.ID
	}
	return ids
}
