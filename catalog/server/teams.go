package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/compliance"
)

// ErrNoTeam is wrapped by the error [Server.Team] returns for a team that owns no
// component. It wraps store.ErrNotFound.
var ErrNoTeam = fmt.Errorf("%w: no component is owned by this team", store.ErrNotFound)

// RuleSet returns the rule set scorecards are scored by (Options.RuleSet, or the
// default).
func (s *Server) RuleSet() compliance.RuleSet { return s.set }

// DORAWindow returns the default window of DORA's keys on the team pages, the API and
// the metrics (DORAOptions.Window).
func (s *Server) DORAWindow() time.Duration { return s.dora.Window }

// window reads ?window= (a length from 1h to 366d), or writes a 400 problem.
func (s *Server) window(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	v := r.URL.Query().Get("window")
	if v == "" {
		return s.dora.Window, true
	}
	d, ok := parseSpan(v)
	if !ok || d < minDORAWindow || d > maxDORAWindow {
		s.problem(w, r, http.StatusBadRequest, "invalid query parameters", []catalog.FieldError{{Field: "window",
			Message: "must be a length from 1h to 366d, such as 30d or 12h, got " + strconv.Quote(catalog.Clip(v))}})
		return 0, false
	}
	return d, true
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	window, ok := s.window(w, r)
	if !ok {
		return
	}
	teams, err := s.Teams(r.Context(), window)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, teams)
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !catalog.IsDNSLabel(name) {
		s.problem(w, r, http.StatusNotFound, "no team is named so: a team name is a DNS label (1-63 lower-case letters, digits and '-')", nil)
		return
	}
	window, ok := s.window(w, r)
	if !ok {
		return
	}
	t, err := s.Team(r.Context(), name, window)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// Teams returns every team that owns a component, sorted by name, with DORA's keys
// over the window ending now.
func (s *Server) Teams(ctx context.Context, window time.Duration) ([]catalog.Team, error) {
	comps, err := s.st.ListComponents(ctx, catalog.ComponentFilter{})
	if err != nil {
		return nil, err
	}
	owners := map[string][]catalog.Component{}
	for _, c := range comps {
		owners[c.Owner] = append(owners[c.Owner], c)
	}
	set, err := s.st.Instances(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]catalog.Team, 0, len(owners))
	for _, name := range slices.Sorted(maps.Keys(owners)) {
		t, err := s.team(ctx, name, owners[name], set.Instances, window)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Team returns one team, with DORA's keys over the window ending now, or an error
// wrapping [ErrNoTeam] when it owns no component.
func (s *Server) Team(ctx context.Context, name string, window time.Duration) (catalog.Team, error) {
	comps, err := s.st.ListComponents(ctx, catalog.ComponentFilter{Owner: name})
	if err != nil {
		return catalog.Team{}, err
	}
	if len(comps) == 0 {
		return catalog.Team{}, fmt.Errorf("team %q: %w", name, ErrNoTeam)
	}
	var insts []catalog.Instance
	for _, c := range comps {
		set, err := s.st.Instances(ctx, c.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the list
		}
		if err != nil {
			return catalog.Team{}, err
		}
		insts = append(insts, set.Instances...)
	}
	return s.team(ctx, name, comps, insts, window)
}

// team builds a team from its components and the instances (of these or more).
func (s *Server) team(ctx context.Context, name string, comps []catalog.Component, insts []catalog.Instance, window time.Duration) (catalog.Team, error) {
	to := s.now().UTC().Round(0)
	from := to.Add(-window)
	t := catalog.Team{Name: name, Score: -1, Components: []catalog.TeamComponent{}, Failing: []catalog.TeamRule{},
		WindowSeconds: window.Seconds(), OnCall: []string{}, Links: []string{}}
	byComp := map[string][]catalog.Instance{}
	for _, in := range insts {
		byComp[in.Component] = append(byComp[in.Component], in)
	}
	failing := map[string]*catalog.TeamRule{}
	onCall, links := map[string]bool{}, map[string]bool{}
	var team doraAcc
	for _, c := range comps {
		sc, err := s.st.Scorecard(ctx, c.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the list
		}
		if err != nil {
			return t, err
		}
		hs, err := s.st.Histories(ctx, c.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return t, err
		}
		var acc doraAcc
		for i := range hs {
			acc.add(&hs[i], from, to, s.dora)
			team.add(&hs[i], from, to, s.dora)
		}
		tc := catalog.TeamComponent{Name: c.Name, Tier: c.Tier, Lifecycle: c.Lifecycle, Score: sc.Score,
			Running: len(byComp[c.Name]) > 0, Instances: len(byComp[c.Name]), Failing: []string{},
			DevOpsHealth: catalog.EvaluateDevOpsHealth(acc.result(window))}
		for _, in := range byComp[c.Name] {
			if in.Healthy() {
				tc.Healthy++
			}
		}
		for _, f := range sc.Failing {
			tc.Failing = append(tc.Failing, f.ID)
			tr := failing[f.ID]
			if tr == nil {
				tr = &catalog.TeamRule{ID: f.ID, Level: f.Level}
				failing[f.ID] = tr
			}
			if f.Level == catalog.LevelError {
				tr.Level = catalog.LevelError
			}
			tr.Components = append(tr.Components, c.Name)
		}
		if sc.Score >= 0 && (t.Score < 0 || sc.Score < t.Score) {
			t.Score = sc.Score
		}
		if c.Links.OnCall != "" {
			onCall[c.Links.OnCall] = true
		}
		for _, l := range []string{c.Links.Runbook, c.Links.Docs, c.Links.Dashboard} {
			if l != "" {
				links[l] = true
			}
		}
		t.Components = append(t.Components, tc)
	}
	for _, id := range slices.Sorted(maps.Keys(failing)) {
		t.Failing = append(t.Failing, *failing[id])
	}
	t.OnCall = append(t.OnCall, slices.Sorted(maps.Keys(onCall))...)
	t.Links = append(t.Links, slices.Sorted(maps.Keys(links))...)
	t.DORA = team.result(window)
	return t, nil
}

// DORATrend returns DORA's keys of a team's components (owner) or of one component
// over n consecutive windows of length step, the last ending now, oldest first.
// Exactly one of owner and component is set.
func (s *Server) DORATrend(ctx context.Context, owner, component string, step time.Duration, n int) ([]catalog.DORAPoint, error) {
	var names []string
	if component != "" {
		names = []string{component}
	} else {
		comps, err := s.st.ListComponents(ctx, catalog.ComponentFilter{Owner: owner})
		if err != nil {
			return nil, err
		}
		for _, c := range comps {
			names = append(names, c.Name)
		}
	}
	var hs []catalog.History
	for _, name := range names {
		h, err := s.st.Histories(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		hs = append(hs, h...)
	}
	now := s.now().UTC().Round(0)
	out := make([]catalog.DORAPoint, n)
	for i := range n {
		to := now.Add(-time.Duration(n-1-i) * step)
		var a doraAcc
		for j := range hs {
			a.add(&hs[j], to.Add(-step), to, s.dora)
		}
		out[i] = catalog.DORAPoint{To: to, DORA: a.result(step)}
	}
	return out, nil
}

// ComplianceScorecard is the [catalog.RuleSummary.Scorecard] of the rules Paved
// services evaluate themselves.
const ComplianceScorecard = "compliance"

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	window, ok := s.window(w, r)
	if !ok {
		return
	}
	rules, err := s.Rules(r.Context(), window)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rules)
}

// Rules returns every rule a component is scored by, with the components that pass
// and fail it: the compliance rules of Options.RuleSet (and any other rule an
// instance reported), then the DevOps health rules over the window ending now.
func (s *Server) Rules(ctx context.Context, window time.Duration) ([]catalog.RuleSummary, error) {
	comps, err := s.st.ListComponents(ctx, catalog.ComponentFilter{})
	if err != nil {
		return nil, err
	}
	byID := map[string]*catalog.RuleSummary{}
	var out []*catalog.RuleSummary
	for _, r := range s.set.Rules() {
		rs := &catalog.RuleSummary{ID: r.ID, Scorecard: ComplianceScorecard, Title: r.Title, Why: r.Why, Fix: r.Fix,
			Level: string(r.Level), Weight: r.Weight, Passing: []string{}, Failing: []string{}}
		byID[r.ID] = rs
		out = append(out, rs)
	}
	rule := func(id string) *catalog.RuleSummary {
		rs := byID[id]
		if rs == nil { // reported with another rule set
			rs = &catalog.RuleSummary{ID: id, Scorecard: ComplianceScorecard, Level: string(compliance.Recommended), Passing: []string{}, Failing: []string{}}
			byID[id] = rs
			out = append(out, rs)
		}
		return rs
	}
	devops := catalog.DevOpsRules()
	dev := make([]*catalog.RuleSummary, len(devops))
	for i, r := range devops {
		dev[i] = &catalog.RuleSummary{ID: r.ID, Scorecard: catalog.DevOpsHealthScorecard, Title: r.Title, Why: r.Why, Fix: r.Fix,
			Level: string(compliance.Recommended), Weight: r.Weight, Passing: []string{}, Failing: []string{}}
	}
	to := s.now().UTC().Round(0)
	for _, c := range comps {
		sc, err := s.st.Scorecard(ctx, c.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		failed := map[string]bool{}
		for _, f := range sc.Failing {
			failed[f.ID] = true
			rs := rule(f.ID)
			rs.Failing = append(rs.Failing, c.Name)
		}
		passed := map[string]bool{}
		for _, card := range sc.Instances {
			for _, id := range card.Passed {
				passed[id] = true
			}
		}
		for _, id := range slices.Sorted(maps.Keys(passed)) {
			if !failed[id] {
				rs := rule(id)
				rs.Passing = append(rs.Passing, c.Name)
			}
		}
		hs, err := s.st.Histories(ctx, c.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var a doraAcc
		for i := range hs {
			a.add(&hs[i], to.Add(-window), to, s.dora)
		}
		d := a.result(window)
		for i, r := range devops {
			switch applicable, passed, _ := r.Check(d); {
			case applicable && passed:
				dev[i].Passing = append(dev[i].Passing, c.Name)
			case applicable:
				dev[i].Failing = append(dev[i].Failing, c.Name)
			}
		}
	}
	res := make([]catalog.RuleSummary, 0, len(out)+len(dev))
	for _, rs := range append(out, dev...) {
		res = append(res, *rs)
	}
	// The rule set's order first, then unknown rules by id; DevOps health last.
	known := len(s.set.Rules())
	slices.SortStableFunc(res[known:len(out)], func(a, b catalog.RuleSummary) int { return cmp.Compare(a.ID, b.ID) })
	return res, nil
}
