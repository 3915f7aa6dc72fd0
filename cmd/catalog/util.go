package main

import (
	"errors"

	"github.com/paved-road/paved/catalog"
)

// catalogFilterNone matches every component.
var catalogFilterNone = catalog.ComponentFilter{}

func joinErrs(errs []error) error { return errors.Join(errs...) }

// each returns the errors joined in err (errors.Join), or err alone.
func each(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
