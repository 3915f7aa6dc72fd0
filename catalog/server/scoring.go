package server

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/compliance"
)

// EnvironmentMetadata is the instance metadata key that names the environment an
// instance runs in (development, staging or production), as Paved services register it.
// A scorecard that applies to some environments only uses it.
const EnvironmentMetadata = "environment"

// scoredStore is the store as the API and the UI read it: each component's scorecards
// scored by the platform team's scorecards file (when there is one) and its failing
// rules filled in. Everything else passes through.
type scoredStore struct {
	store.Store
	file *compliance.ScorecardFile // nil: the cards as reported
	set  compliance.RuleSet
	// api adds the catalog-side rule api-compatible (apis.go); nil for none.
	api func(ctx context.Context, sc *catalog.ComponentScorecard) error
}

// Scorecard implements [store.Store]: the stored cards, each re-scored by the
// scorecards of the file that apply to the component (its tier, lifecycle and labels)
// and the instance's environment, the component's score recomputed from them, and
// Failing filled in.
func (s *scoredStore) Scorecard(ctx context.Context, component string) (catalog.ComponentScorecard, error) {
	sc, err := s.Store.Scorecard(ctx, component)
	if err != nil {
		return sc, err
	}
	retainedEnvs, err := retained(ctx, s.Store, &sc)
	if err != nil {
		return catalog.ComponentScorecard{}, err
	}
	if s.file != nil && len(s.file.Scorecards) > 0 && len(sc.Instances) > 0 {
		comp, err := s.Store.GetComponent(ctx, component)
		if err != nil {
			return catalog.ComponentScorecard{}, err
		}
		envs := map[string]string{}
		if set, err := s.Store.Instances(ctx, component); err == nil {
			for _, in := range set.Instances {
				envs[in.ID] = in.Metadata[EnvironmentMetadata]
			}
			maps.Copy(envs, retainedEnvs)
		} else {
			return catalog.ComponentScorecard{}, err
		}
		names := map[string]bool{}
		for i, card := range sc.Instances {
			target := compliance.Target{Tier: comp.Tier, Lifecycle: string(comp.Lifecycle), Environment: envs[card.Instance], Labels: comp.Labels}
			sc.Instances[i] = s.apply(card, target, names)
		}
		sc.Score = catalog.ComponentScore(sc.Instances)
		sc.Scorecards = slices.Sorted(maps.Keys(names))
	}
	sc.Failing = catalog.FailingRules(sc.Instances)
	if s.api != nil {
		if err := s.api(ctx, &sc); err != nil {
			return catalog.ComponentScorecard{}, err
		}
	}
	return sc, nil
}

// apply scores one instance's card by the file's scorecards that apply to target,
// adding their names to names. With several, the card's score is the lowest and a rule
// fails when any fails it, at the most serious level. A card no scorecard applies to is
// returned as reported.
func (s *scoredStore) apply(card catalog.Scorecard, target compliance.Target, names map[string]bool) catalog.Scorecard {
	results := make([]compliance.RuleResult, 0, len(card.Passed)+len(card.Failed))
	for _, id := range card.Passed {
		results = append(results, compliance.RuleResult{ID: id, Status: compliance.StatusPass})
	}
	for _, f := range card.Failed {
		var lvl compliance.Level // "": the rule set's level
		switch f.Level {
		case catalog.LevelError:
			lvl = compliance.Required
		case catalog.LevelWarning:
			lvl = compliance.Recommended
		}
		results = append(results, compliance.RuleResult{ID: f.ID, Status: compliance.StatusFail, Level: lvl, Message: f.Message})
	}
	reports := s.file.Apply(compliance.NewReport(card.RuleSetVersion, results, s.set), target)
	if len(reports) == 0 {
		return card
	}
	out := card
	out.Score = 100
	passed := map[string]bool{}
	failed := map[string]catalog.RuleResult{}
	for _, r := range reports {
		names[r.Scorecard] = true
		out.Score = min(out.Score, r.Score)
		for _, x := range r.Results {
			switch x.Status {
			case compliance.StatusPass:
				passed[x.ID] = true
			case compliance.StatusFail:
				lvl := catalog.LevelWarning
				if x.Level == compliance.Required {
					lvl = catalog.LevelError
				}
				if old, ok := failed[x.ID]; !ok || (lvl == catalog.LevelError && old.Level != catalog.LevelError) {
					failed[x.ID] = catalog.RuleResult{ID: x.ID, Level: lvl, Message: clipMessage(x.Message)}
				}
			}
		}
	}
	out.Passed = nil
	for _, id := range slices.Sorted(maps.Keys(passed)) {
		if _, bad := failed[id]; !bad {
			out.Passed = append(out.Passed, id)
		}
	}
	out.Failed = nil
	for _, id := range slices.Sorted(maps.Keys(failed)) {
		out.Failed = append(out.Failed, failed[id])
	}
	return out
}

// clipMessage keeps a message within the catalog's limit for rule messages, without
// splitting a UTF-8 sequence.
func clipMessage(m string) string {
	if len(m) <= catalog.MaxMetadataValue {
		return m
	}
	return strings.ToValidUTF8(m[:catalog.MaxMetadataValue], "")
}

// retained fills sc, when no live instance has a card, with the last card of each
// environment from the component's histories, and returns their environments by
// instance id.
func retained(ctx context.Context, st store.Store, sc *catalog.ComponentScorecard) (map[string]string, error) {
	if len(sc.Instances) > 0 {
		return nil, nil
	}
	hs, err := st.Histories(ctx, sc.Component)
	if err != nil {
		return nil, err
	}
	envs := map[string]string{}
	for _, h := range hs {
		if h.Scorecard != nil {
			sc.Instances = append(sc.Instances, *h.Scorecard)
			envs[h.Scorecard.Instance] = h.Environment
		}
	}
	if len(sc.Instances) > 0 {
		slices.SortFunc(sc.Instances, func(a, b catalog.Scorecard) int { return strings.Compare(a.Instance, b.Instance) })
		sc.Score = catalog.ComponentScore(sc.Instances)
		sc.Retained = true
	}
	return envs, nil
}
