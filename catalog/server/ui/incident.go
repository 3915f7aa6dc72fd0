package ui

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// incidentView is the incident view of a component page: who depends on it, where it
// runs, how it was deployed, who to contact, which instance is not ready and which
// rules fail with their fix.
type incidentView struct {
	Owner   string
	OnCall  *link
	Runbook *link
	// Envs is where it runs, by environment, with the latest deployment of each.
	Envs []envView
	// Unready lists the instances that are not passing, with why.
	Unready []unreadyView
	// Failing lists the rules it fails, with their fix and the instances failing them.
	Failing []failingRule
	// Dependents lists who depends on it, declared and observed.
	Dependents []dependent
	// DORA and DevOps are its DORA keys and DevOps health over Window; nil without
	// Options.Insights.
	DORA   *catalog.DORA
	DevOps *catalog.DevOpsHealth
	Window time.Duration
}

// envView is where a component runs in one environment.
type envView struct {
	Name      string
	Versions  []string // "1.2.0 ×2"
	Healthy   int
	Total     int
	Addresses []string
	Youngest  time.Time
	Oldest    time.Time
	StoppedAt time.Time
	Last      *catalog.Deployment
}

// unreadyView is an instance that is not passing.
type unreadyView struct {
	ID, Env, Version string
	Status           catalog.Status
	Expired          bool
	Why              string
	// Checks are the readiness checks it reported failing (a Paved service names
	// them in its heartbeats' failing_checks metadata).
	Checks        []string
	LastHeartbeat time.Time
}

// failingRule is a failed rule, with its title and fix, and the instances failing it.
type failingRule struct {
	catalog.RuleResult
	Title, Fix string
	Instances  []string
}

// dependent is a component that calls this one: it declares it (dependsOn, or an API
// it consumes), the running service was observed calling it (the clients it built), or
// both.
type dependent struct {
	Name     string
	Owner    string
	Declared bool
	Observed bool
	APIs     []string
}

// dependents returns who depends on name among all, sorted.
func dependents(name string, all []catalog.Component) []dependent {
	var out []dependent
	for _, o := range all {
		if o.Name == name {
			continue
		}
		d := dependent{Name: o.Name, Owner: o.Owner, Declared: slices.Contains(o.DependsOn, name)}
		apis := map[string]bool{}
		for _, u := range o.Uses {
			if u.Provider != name {
				continue
			}
			d.Declared = d.Declared || u.Declared
			d.Observed = d.Observed || u.Observed
			if u.API != "" {
				apis[u.API] = true
			}
		}
		if d.Declared || d.Observed {
			d.APIs = slices.Sorted(maps.Keys(apis))
			out = append(out, d)
		}
	}
	return out
}

// incident builds the incident view from what the component page read.
func (h *Handler) incident(ctx context.Context, c catalog.Component, ins []catalog.Instance, sc catalog.ComponentScorecard, all []catalog.Component, hs []catalog.History) (incidentView, error) {
	v := incidentView{Owner: c.Owner, Dependents: dependents(c.Name, all)}
	if c.Links.OnCall != "" {
		v.OnCall = &link{Label: "On-call", Text: c.Links.OnCall, URL: httpURL(c.Links.OnCall)}
	}
	if c.Links.Runbook != "" {
		v.Runbook = &link{Label: "Runbook", Text: c.Links.Runbook, URL: httpURL(c.Links.Runbook)}
	}

	envs := map[string]*envView{}
	env := func(name string) *envView {
		e := envs[name]
		if e == nil {
			e = &envView{Name: name}
			envs[name] = e
		}
		return e
	}
	versions := map[string]map[string]int{}
	for i := range ins {
		in := &ins[i]
		e := env(catalog.EnvironmentOf(in))
		e.Total++
		if in.Healthy() && !in.Expired {
			e.Healthy++
		}
		if versions[e.Name] == nil {
			versions[e.Name] = map[string]int{}
		}
		versions[e.Name][in.Version]++
		for _, a := range []string{in.Addresses.HTTP, in.Addresses.GRPC} {
			if a != "" {
				e.Addresses = append(e.Addresses, a)
			}
		}
		if e.Youngest.IsZero() || in.StartedAt.After(e.Youngest) {
			e.Youngest = in.StartedAt
		}
		if e.Oldest.IsZero() || in.StartedAt.Before(e.Oldest) {
			e.Oldest = in.StartedAt
		}
		if in.Status != catalog.StatusPassing || in.Expired {
			u := unreadyView{ID: in.ID, Env: e.Name, Version: in.Version, Status: in.Status, Expired: in.Expired, LastHeartbeat: in.LastHeartbeat}
			checks := in.Metadata[catalog.FailingChecksMetadata]
			switch {
			case in.Expired:
				u.Why = "missed its heartbeats (TTL " + strconv.Itoa(in.TTLSeconds) + "s): the process is gone or cannot reach the catalog"
			case checks != "":
				u.Why = "reports " + string(in.Status) + ": failing readiness checks"
				u.Checks = strings.Split(checks, ",")
			case in.Status == catalog.StatusCritical:
				u.Why = "reports critical: a readiness check fails (its admin /readyz?verbose names which)"
			default:
				u.Why = "reports warning: a readiness check warns (its admin /readyz?verbose names which)"
			}
			v.Unready = append(v.Unready, u)
		}
	}
	for _, h := range hs {
		e := env(h.Environment)
		if e.Total == 0 {
			e.StoppedAt = h.StoppedAt
		}
		for i := len(h.Deployments) - 1; i >= 0; i-- {
			d := h.Deployments[i]
			if e.Last == nil || d.StartedAt.After(e.Last.StartedAt) {
				e.Last = &d
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(envs)) {
		e := envs[name]
		for _, ver := range slices.Sorted(maps.Keys(versions[name])) {
			e.Versions = append(e.Versions, ver+" ×"+strconv.Itoa(versions[name][ver]))
		}
		slices.Sort(e.Addresses)
		v.Envs = append(v.Envs, *e)
	}

	byRule := map[string][]string{}
	for _, card := range sc.Instances {
		for _, f := range card.Failed {
			byRule[f.ID] = append(byRule[f.ID], card.Instance)
		}
	}
	for _, f := range sc.Failing {
		fr := failingRule{RuleResult: f, Instances: byRule[f.ID]}
		if h.ins != nil {
			if rl, ok := h.ins.RuleSet().Rule(f.ID); ok {
				fr.Title, fr.Fix = rl.Title, rl.Fix
			}
		}
		v.Failing = append(v.Failing, fr)
	}
	slices.SortStableFunc(v.Failing, func(a, b failingRule) int {
		return strings.Compare(string(a.Level), string(b.Level)) // error before warning before info
	})

	if h.ins != nil {
		v.Window = h.ins.DORAWindow()
		pts, err := h.ins.DORATrend(ctx, "", c.Name, v.Window, 1)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return v, err
		}
		if len(pts) == 1 {
			dh := catalog.EvaluateDevOpsHealth(pts[0].DORA)
			v.DORA, v.DevOps = &pts[0].DORA, &dh
		}
	}
	return v, nil
}
