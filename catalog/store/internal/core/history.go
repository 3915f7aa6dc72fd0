package core

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/paved-road/paved/catalog"
)

// CheckHistoryNames returns the [*catalog.ValidationError] of a history named component
// and env, or nil when both are DNS labels.
func CheckHistoryNames(component, env string) error {
	h := catalog.History{Component: component, Environment: env}
	return h.Validate()
}

// ApplyHistory is the heart of every store's UpdateHistory: it decodes raw (nil when
// the history does not exist yet) as the history of component in env, runs fn on it,
// checks that fn kept the names, and returns the history and, when fn asked to write,
// its encoding.
func ApplyHistory(raw []byte, component, env string, fn func(*catalog.History) (bool, error)) (catalog.History, []byte, error) {
	h := catalog.History{Component: component, Environment: env}
	if raw != nil {
		if err := json.Unmarshal(raw, &h); err != nil {
			return catalog.History{}, nil, fmt.Errorf("history %s/%s: %w", component, env, err)
		}
	}
	write, err := fn(&h)
	if err != nil {
		return catalog.History{}, nil, err
	}
	if h.Component != component || h.Environment != env {
		return catalog.History{}, nil, &catalog.ValidationError{Errors: []catalog.FieldError{{Field: "component",
			Message: fmt.Sprintf("the update renamed history %s/%s to %s/%s", component, env, h.Component, h.Environment)}}}
	}
	if !write {
		return h, nil, nil
	}
	out, err := json.Marshal(&h)
	if err != nil {
		return catalog.History{}, nil, err
	}
	return h, out, nil
}

// DecodeHistory decodes a stored history.
func DecodeHistory(raw []byte) (catalog.History, error) {
	var h catalog.History
	if err := json.Unmarshal(raw, &h); err != nil {
		return catalog.History{}, fmt.Errorf("decode history: %w", err)
	}
	return h, nil
}

// SortHistories sorts hs by component, then environment.
func SortHistories(hs []catalog.History) {
	slices.SortFunc(hs, func(a, b catalog.History) int {
		return cmp.Or(cmp.Compare(a.Component, b.Component), cmp.Compare(a.Environment, b.Environment))
	})
}
