package core

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
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
	if err := checkRenamed(&h, component, env); err != nil {
		return catalog.History{}, nil, err
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

// CloneHistory returns a deep copy of h: the copy shares no memory with h but the
// immutable time locations, so that a store keeping histories decoded (memory) hands
// out copies its callers may change. TestCloneHistoryIsDeep checks that it copies
// every field.
func CloneHistory(h *catalog.History) catalog.History {
	c := *h
	c.Running = maps.Clone(h.Running)
	c.Deployments = slices.Clone(h.Deployments)
	n := 0
	for i := range c.Deployments {
		if c.Deployments[i].Pipeline != nil {
			n++
		}
	}
	if n > 0 {
		pls := make([]catalog.Pipeline, 0, n) // one allocation for them all
		for i := range c.Deployments {
			if p := c.Deployments[i].Pipeline; p != nil {
				pls = append(pls, *p)
				c.Deployments[i].Pipeline = &pls[len(pls)-1]
			}
		}
	}
	c.Incidents = slices.Clone(h.Incidents)
	if h.Scorecard != nil {
		sc := *h.Scorecard
		sc.Passed = slices.Clone(sc.Passed)
		sc.Failed = slices.Clone(sc.Failed)
		c.Scorecard = &sc
	}
	c.Scores = slices.Clone(h.Scores)
	return c
}

// UpdateDecodedHistory is ApplyHistory for a store that keeps histories decoded: it
// runs fn on a copy of old (nil when the history does not exist yet) and returns the
// history and, when fn asked to write, what to keep: the history as its JSON encoding
// decodes, so that the store answers exactly what a store keeping the encoding does.
func UpdateDecodedHistory(old *catalog.History, component, env string, fn func(*catalog.History) (bool, error)) (catalog.History, *catalog.History, error) {
	h := catalog.History{Component: component, Environment: env}
	if old != nil {
		h = CloneHistory(old)
	}
	write, err := fn(&h)
	if err != nil {
		return catalog.History{}, nil, err
	}
	if err := checkRenamed(&h, component, env); err != nil {
		return catalog.History{}, nil, err
	}
	if !write {
		return h, nil, nil
	}
	raw, err := json.Marshal(&h)
	if err != nil {
		return catalog.History{}, nil, err
	}
	kept, err := DecodeHistory(raw)
	if err != nil {
		return catalog.History{}, nil, err
	}
	return h, &kept, nil
}

// checkRenamed returns the [*catalog.ValidationError] of an update that renamed the
// history of component in env.
func checkRenamed(h *catalog.History, component, env string) error {
	if h.Component != component || h.Environment != env {
		return &catalog.ValidationError{Errors: []catalog.FieldError{{Field: "component",
			Message: fmt.Sprintf("the update renamed history %s/%s to %s/%s", component, env, h.Component, h.Environment)}}}
	}
	return nil
}
