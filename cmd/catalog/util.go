package main

import (
	"errors"

	"github.com/paved-road/paved/catalog"
)

// catalogFilterNone matches every component.
var catalogFilterNone = catalog.ComponentFilter{}

func joinErrs(errs []error) error { return errors.Join(errs...) }
