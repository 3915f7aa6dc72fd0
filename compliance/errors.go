package compliance

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paved-road/paved/problem"
)

// FieldError is one problem with one field, [problem.FieldError]: Field is the path of
// the field, such as "scorecards[0].rules[2].id" (empty for the input as a whole), and
// Message says what is wrong and what would be valid.
type FieldError = problem.FieldError

// RuleSetError lists every problem of rules given to [NewRuleSet].
type RuleSetError struct {
	// Errors holds one entry per problem, in order.
	Errors []FieldError
}

// Error joins every problem into one line.
func (e *RuleSetError) Error() string { return joinErrors("compliance: invalid rule set: ", e.Errors) }

// ScorecardError lists every problem of a scorecard file, each naming its field.
type ScorecardError struct {
	// Errors holds one entry per problem, in the order of the file.
	Errors []FieldError
}

// Error joins every problem into one line.
func (e *ScorecardError) Error() string {
	return joinErrors("compliance: invalid scorecard file: ", e.Errors)
}

func joinErrors(prefix string, errs []FieldError) string {
	parts := make([]string, len(errs))
	for i, fe := range errs {
		parts[i] = fe.String()
	}
	return prefix + strings.Join(parts, "; ")
}

// ErrNotCompliant is matched (with errors.Is) by the [*NotCompliantError] of
// [Report.Enforce].
var ErrNotCompliant = errors.New("compliance: not compliant")

// NotCompliantError is a report with failed required rules, returned by
// [Report.Enforce]. Its message lists each failed rule with its fix.
type NotCompliantError struct {
	// RuleSetVersion is the version of the rule set evaluated.
	RuleSetVersion string
	// Failures are the failed required rules, in rule order.
	Failures []RuleResult
}

// Error lists each failed required rule, its message and its fix, one per line after
// the first.
func (e *NotCompliantError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "compliance: not compliant: %d required %s failed (rule set %s)", len(e.Failures), plural(len(e.Failures), "rule", "rules"), e.RuleSetVersion)
	for _, f := range e.Failures {
		fmt.Fprintf(&b, "\n  %s: %s; fix: %s", f.ID, f.Message, f.Fix)
	}
	return b.String()
}

// Is reports whether target is [ErrNotCompliant].
func (e *NotCompliantError) Is(target error) bool { return target == ErrNotCompliant }

// problems collects field errors while a value is validated.
type problems struct {
	errs []FieldError
}

func (p *problems) add(field, format string, args ...any) {
	p.errs = append(p.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// ruleSetErr returns nil or a *RuleSetError with the problems.
func (p *problems) ruleSetErr() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &RuleSetError{Errors: p.errs}
}

// scorecardErr returns nil or a *ScorecardError with the problems.
func (p *problems) scorecardErr() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &ScorecardError{Errors: p.errs}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
