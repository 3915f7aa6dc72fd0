package apicheck

import (
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/paved-road/paved/catalog"
)

// loadOpenAPI parses an OpenAPI document (JSON or YAML) with a loader of its own, as
// oasdiff asks, refusing external references: a definition must not make the catalog
// read files or fetch URLs.
func loadOpenAPI(def []byte, name string) (*load.SpecInfo, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	return load.NewSpecInfoFromData(loader, def, name)
}

func checkOpenAPI(prev, next []byte) ([]catalog.BreakingChange, error) {
	s1, err1 := loadOpenAPI(prev, "previous.json")
	s2, err2 := loadOpenAPI(next, "new.json")
	if err := which(err1, err2); err != nil {
		return nil, fmt.Errorf("apicheck: OpenAPI: %w", err)
	}
	d, sources, err := diff.GetPathsDiff(diff.NewConfig(), []*load.SpecInfo{s1}, []*load.SpecInfo{s2})
	if err != nil {
		return nil, fmt.Errorf("apicheck: OpenAPI: comparing the definitions: %w", err)
	}
	changes := checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.ERR)
	l := checker.NewDefaultLocalizer()
	out := make([]catalog.BreakingChange, 0, len(changes))
	for _, c := range changes {
		op := c.GetOperation()
		if p := c.GetPath(); p != "" {
			op += " " + p
		}
		if op == "" {
			if _, elem := c.Subject(); elem != "" {
				op = elem
			}
		}
		out = append(out, catalog.BreakingChange{ID: c.GetId(), Operation: op, Message: c.GetUncolorizedText(l)})
	}
	return out, nil
}
