package catalog

import (
	"fmt"
	"strings"

	"github.com/paved-road/paved/problem"
)

// FieldError is one problem with one field of a request body, [problem.FieldError]:
// Field is the JSON path of the field, such as "links.runbook", "dependsOn[2]" or
// "labels[team]" (empty for the body as a whole), and Message says what is wrong and
// what would be valid.
type FieldError = problem.FieldError

// ValidationError lists every problem found in a value. Validate methods return it as
// *ValidationError; match it with errors.As.
type ValidationError struct {
	// Errors holds one entry per problem, in field order.
	Errors []FieldError
}

// Error joins every problem into one line.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.String()
	}
	return "catalog: invalid: " + strings.Join(parts, "; ")
}

// problems collects field errors while a value is validated.
type problems struct {
	errs []FieldError
}

func (p *problems) add(field, format string, args ...any) {
	p.errs = append(p.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: p.errs}
}
