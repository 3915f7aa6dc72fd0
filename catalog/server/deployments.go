package server

import (
	"cmp"
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

// Instance metadata keys Paved services register their build with (service.Instance).
const (
	// RevisionMetadata is the VCS revision the instance was built from (vcs.revision).
	RevisionMetadata = "revision"
	// CommitTimeMetadata is that revision's commit time (vcs.time, RFC 3339).
	CommitTimeMetadata = "vcs_time"
)

// DORAOptions tune how deployments and incidents are recorded and how DORA's keys are
// computed. The zero value is ready to use.
type DORAOptions struct {
	// ChangeFailureWindow is how long after a deployment a rollback to the previous
	// version, or an incident, counts as its failure. Zero means 24 hours.
	ChangeFailureWindow time.Duration
	// MinIncident is the shortest incident recorded: a stopping Paved instance reports
	// critical just before it deregisters, which is no incident. Zero means 10 s.
	MinIncident time.Duration
	// Window is the default window of DORA's keys on /api/v1/dora, /api/v1/teams,
	// /api/v1/rules and the UI's pages (CATALOG_DORA_WINDOW), from 1 hour to 366 days:
	// a value outside is brought to the nearest bound. Zero means 30 days.
	Window time.Duration
	// MetricsWindow is the window of the paved_catalog_dora_* metrics. Zero means
	// Window.
	MetricsWindow time.Duration
}

func (o DORAOptions) withDefaults() DORAOptions {
	if o.ChangeFailureWindow <= 0 {
		o.ChangeFailureWindow = 24 * time.Hour
	}
	if o.MinIncident <= 0 {
		o.MinIncident = 10 * time.Second
	}
	if o.Window <= 0 {
		o.Window = 30 * 24 * time.Hour
	}
	o.Window = min(max(o.Window, minDORAWindow), maxDORAWindow)
	if o.MetricsWindow <= 0 {
		o.MetricsWindow = o.Window
	}
	return o
}

// observe applies what the catalog saw of a component in one environment at now (its
// instances there, from the store's instance set at index) to its history h, and
// reports whether h changed. It is a function of its arguments alone, so that catalog
// replicas over one store, each applying what it sees by compare-and-swap, agree: an
// observation older than the one h holds (a smaller index) changes nothing, and applying
// the same observation twice changes nothing the second time.
//
// A deployment is recorded when a version starts running that is not the version of the
// latest observed deployment (the one with the most instances first), or when the
// instances all run one version that is not it (the new version went away: a rollback).
// It is ready when one of its instances passes, and finished (successful) when every live
// instance in the environment runs it. A deployment that brings back the previous
// deployment's previous version within the change failure window is a rollback, and
// that previous deployment is rolled_back; a deployment replaced before it finished is
// cancelled.
//
// An incident starts when an instance is critical (failing readiness, or expired after
// missing its heartbeats), and ends when every instance is passing or warning; when no
// instance is left it ends too, unless one crashed (expired), which keeps it open until
// an instance passes again. An incident shorter than MinIncident is dropped.
func observe(h *catalog.History, index uint64, now time.Time, insts []catalog.Instance, o DORAOptions) bool {
	if index < h.Index {
		return false
	}
	running := map[string]int{}
	var live []*catalog.Instance
	crashed, critical := false, false
	for i := range insts {
		in := &insts[i]
		if in.Expired {
			crashed, critical = true, true
			continue
		}
		if in.Status == catalog.StatusCritical {
			critical = true
		}
		live = append(live, in)
		running[in.Version]++
	}
	changed := false
	cur := lastObserved(h)

	// A new deployment.
	var candidates []string
	for v := range running {
		if _, was := h.Running[v]; !was && (cur == nil || v != cur.Version) {
			candidates = append(candidates, v)
		}
	}
	if len(candidates) == 0 && len(running) == 1 {
		for v := range running {
			if cur != nil && v != cur.Version {
				candidates = append(candidates, v)
			}
		}
	}
	if len(candidates) > 0 {
		slices.SortFunc(candidates, func(a, b string) int {
			return cmp.Or(cmp.Compare(running[b], running[a]), strings.Compare(b, a))
		})
		v := candidates[0]
		d := catalog.Deployment{Component: h.Component, Environment: h.Environment, Source: catalog.SourceObserved,
			Version: v, State: catalog.DeploymentInProgress, StartedAt: now}
		for _, in := range live {
			if in.Version == v {
				d.Revision = in.Metadata[RevisionMetadata]
				if t, err := time.Parse(time.RFC3339, in.Metadata[CommitTimeMetadata]); err == nil {
					d.CommitTime = t.UTC()
				}
				break
			}
		}
		if cur != nil {
			d.PreviousVersion = cur.Version
			back := cur.PreviousVersion != "" && v == cur.PreviousVersion
			switch {
			case back && (cur.State == catalog.DeploymentInProgress || now.Sub(cur.StartedAt) <= o.ChangeFailureWindow):
				cur.State = catalog.DeploymentRolledBack
				d.Rollback = true
			case cur.State == catalog.DeploymentInProgress:
				cur.State = catalog.DeploymentCancelled
			}
		}
		h.Observed++
		d.ID = "o-" + strconv.FormatInt(h.Observed, 10)
		h.Deployments = append(h.Deployments, d)
		cur = &h.Deployments[len(h.Deployments)-1]
		changed = true
	}

	// The rollout of the latest observed deployment.
	if cur != nil && cur.State == catalog.DeploymentInProgress {
		n := running[cur.Version]
		if cur.Instances != n {
			cur.Instances, changed = n, true
		}
		if cur.FirstReadyAt.IsZero() && slices.ContainsFunc(live, func(in *catalog.Instance) bool {
			return in.Version == cur.Version && in.Healthy()
		}) {
			cur.FirstReadyAt, changed = now, true
		}
		if !cur.FirstReadyAt.IsZero() && n > 0 && n == len(live) {
			cur.State, cur.FinishedAt, changed = catalog.DeploymentSuccessful, now, true
		}
	}

	// Incidents.
	var open *catalog.Incident
	if n := len(h.Incidents); n > 0 && h.Incidents[n-1].RestoredAt.IsZero() {
		open = &h.Incidents[n-1]
	}
	switch {
	case open == nil && critical:
		inc := catalog.Incident{StartedAt: now, Crashed: crashed}
		if cur != nil {
			inc.Version = cur.Version
		}
		h.Incidents = append(h.Incidents, inc)
		changed = true
	case open != nil:
		if crashed && !open.Crashed {
			open.Crashed, changed = true, true
		}
		restored := !critical && len(live) > 0
		if len(insts) == 0 {
			restored = !open.Crashed
		}
		if restored {
			if now.Sub(open.StartedAt) < o.MinIncident {
				h.Incidents = h.Incidents[:len(h.Incidents)-1]
			} else {
				open.RestoredAt = now
			}
			changed = true
		}
	}

	if !maps.Equal(running, h.Running) {
		if len(running) == 0 {
			h.Running, h.StoppedAt = nil, now
		} else {
			h.Running, h.StoppedAt = running, time.Time{}
		}
		changed = true
	}
	if changed {
		h.Index = index
		h.Trim()
	}
	return changed
}

// lastObserved returns the latest observed deployment of h, or nil.
func lastObserved(h *catalog.History) *catalog.Deployment {
	for i := len(h.Deployments) - 1; i >= 0; i-- {
		if h.Deployments[i].Source == catalog.SourceObserved {
			return &h.Deployments[i]
		}
	}
	return nil
}

// fleetTracker feeds the instance sets a catalog process watches to the histories of
// the components and environments whose instances changed. Each process has its own;
// the histories in the store are shared.
type fleetTracker struct {
	s *Server
	// seen holds, by "component/env", a summary of the instances last applied; nil
	// until the first pass, which also looks at the histories that had instances.
	seen map[string]string
}

// historyKey names a history in fleetTracker.seen.
func historyKey(component, env string) string { return component + "/" + env }

// pass applies the instance set set to every history whose instances changed since the
// last pass: an instance joined or left, or changed version or status.
func (t *fleetTracker) pass(ctx context.Context, set store.InstanceSet) {
	groups := map[string][]catalog.Instance{}
	for _, in := range set.Instances {
		k := historyKey(in.Component, catalog.EnvironmentOf(&in))
		groups[k] = append(groups[k], in)
	}
	if t.seen == nil {
		t.seen = map[string]string{}
		hs, err := t.s.raw.Histories(ctx, "")
		if err != nil {
			t.s.log.Warn("catalog deployments: reading the histories", "err", err)
			t.seen = nil
			return
		}
		for _, h := range hs {
			if h.IsRunning() {
				t.seen[historyKey(h.Component, h.Environment)] = "running before"
			}
		}
	}
	keys := map[string]bool{}
	for k := range groups {
		keys[k] = true
	}
	for k := range t.seen {
		keys[k] = true
	}
	now := t.s.now().UTC().Round(0)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		insts := groups[k]
		sum := summary(insts)
		if old, ok := t.seen[k]; ok && old == sum {
			continue
		}
		comp, env, _ := strings.Cut(k, "/")
		_, err := t.s.raw.UpdateHistory(ctx, comp, env, func(h *catalog.History) (bool, error) {
			return observe(h, set.Index, now, slices.Clone(insts), t.s.dora), nil
		})
		switch {
		case err == nil:
			if len(insts) == 0 {
				delete(t.seen, k)
			} else {
				t.seen[k] = sum
			}
		case errors.Is(err, store.ErrNotFound):
			delete(t.seen, k) // the component is gone, with its history
		default:
			// Left as it was in seen: the next pass tries again.
			t.s.log.Warn("catalog deployments: recording", "component", comp, "environment", env, "err", err)
		}
	}
}

// summary sums up instances as observe sees them: versions, statuses and expiry.
func summary(insts []catalog.Instance) string {
	if len(insts) == 0 {
		return ""
	}
	n := map[string]int{}
	for _, in := range insts {
		n[in.Version+"\x00"+string(in.Status)+"\x00"+strconv.FormatBool(in.Expired)]++
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(n)) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(n[k]))
		b.WriteByte(';')
	}
	return b.String()
}

// retainScorecard keeps sc as the last scorecard of its component in the instance's
// environment, so that it outlives the instance, and adds the component's score to
// its score history. A failure is logged: the card itself
// is stored.
func (s *Server) retainScorecard(ctx context.Context, sc catalog.Scorecard) {
	in, err := s.raw.GetInstance(ctx, sc.Component, sc.Instance)
	var comp catalog.ComponentScorecard
	if err == nil {
		// The component's score as the API shows it, for its score history.
		comp, err = s.st.Scorecard(ctx, sc.Component)
	}
	if err == nil {
		now := s.now().UTC().Round(0)
		sc.ReportedAt = now
		_, err = s.raw.UpdateHistory(ctx, sc.Component, catalog.EnvironmentOf(&in), func(h *catalog.History) (bool, error) {
			h.Scorecard = &sc
			h.AddScore(now, comp.Score)
			return true, nil
		})
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("catalog: keeping the last scorecard", "component", sc.Component, "instance", sc.Instance, "err", err)
	}
}
