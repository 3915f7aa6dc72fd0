package server

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// doraAcc pools what DORA's keys are computed from, over one or more histories.
type doraAcc struct {
	deployments, failed, incidents, restored int
	leads, restores                          []float64 // seconds
}

// add pools the deployments and incidents of h that started in [from, to].
func (a *doraAcc) add(h *catalog.History, from, to time.Time, o DORAOptions) {
	in := func(t time.Time) bool { return !t.Before(from) && !t.After(to) }
	var incidents []catalog.Incident
	for _, inc := range h.Incidents {
		if inc.RestoredAt.IsZero() && to.Sub(inc.StartedAt) < o.MinIncident {
			continue // too young to tell from a stopping instance
		}
		incidents = append(incidents, inc)
		if in(inc.StartedAt) {
			a.incidents++
			if !inc.RestoredAt.IsZero() {
				a.restored++
				a.restores = append(a.restores, inc.RestoredAt.Sub(inc.StartedAt).Seconds())
			}
		}
	}
	var deps []*catalog.Deployment
	for i := range h.Deployments {
		if h.Deployments[i].State.Deployed() {
			deps = append(deps, &h.Deployments[i])
		}
	}
	slices.SortStableFunc(deps, func(a, b *catalog.Deployment) int { return a.StartedAt.Compare(b.StartedAt) })
	for i, d := range deps {
		if !in(d.StartedAt) {
			continue
		}
		a.deployments++
		if !d.CommitTime.IsZero() && !d.FirstReadyAt.IsZero() && !d.FirstReadyAt.Before(d.CommitTime) {
			a.leads = append(a.leads, d.FirstReadyAt.Sub(d.CommitTime).Seconds())
		}
		end := d.StartedAt.Add(o.ChangeFailureWindow)
		if i+1 < len(deps) && deps[i+1].StartedAt.Before(end) {
			end = deps[i+1].StartedAt
		}
		failed := d.State == catalog.DeploymentRolledBack || slices.ContainsFunc(incidents, func(inc catalog.Incident) bool {
			return !inc.StartedAt.Before(d.StartedAt) && inc.StartedAt.Before(end)
		})
		if failed {
			a.failed++
		}
	}
}

// result returns the keys over a window of the given length.
func (a *doraAcc) result(window time.Duration) catalog.DORA {
	out := catalog.DORA{Deployments: a.deployments, FailedDeployments: a.failed, Incidents: a.incidents, Restored: a.restored,
		DeploymentsPerDay: float64(a.deployments) / (window.Hours() / 24),
		LeadTimeSeconds:   median(a.leads), TimeToRestoreSeconds: median(a.restores)}
	if a.deployments > 0 {
		r := float64(a.failed) / float64(a.deployments)
		out.ChangeFailureRate = &r
	}
	return out
}

// median returns the median of xs, or nil when it is empty.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + m) / 2
	}
	return &m
}

// doraFilter selects the histories of a DORA report.
type doraFilter struct {
	owner, component, env string
}

// doraReport computes DORA's keys per component and environment, and per team, over
// the window ending at to.
func (s *Server) doraReport(ctx context.Context, st store.Store, f doraFilter, window time.Duration, to time.Time) (catalog.DORAReport, error) {
	from := to.Add(-window)
	rep := catalog.DORAReport{From: from, To: to, WindowSeconds: window.Seconds(),
		ChangeFailureWindowSeconds: s.dora.ChangeFailureWindow.Seconds(),
		Components:                 []catalog.ComponentDORA{}, Teams: []catalog.TeamDORA{}}
	comps, err := st.ListComponents(ctx, catalog.ComponentFilter{Owner: f.owner})
	if err != nil {
		return rep, err
	}
	owners := make(map[string]string, len(comps))
	for _, c := range comps {
		if f.component == "" || c.Name == f.component {
			owners[c.Name] = c.Owner
		}
	}
	var hs []catalog.History
	if f.component == "" && f.owner != "" {
		// A team's: its components' histories alone, not every component's.
		for name := range owners {
			h, err := st.Histories(ctx, name)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since the list
			}
			if err != nil {
				return rep, err
			}
			hs = append(hs, h...)
		}
		slices.SortFunc(hs, func(a, b catalog.History) int {
			return cmp.Or(cmp.Compare(a.Component, b.Component), cmp.Compare(a.Environment, b.Environment))
		})
	} else if hs, err = st.Histories(ctx, f.component); err != nil {
		return rep, err
	}
	teams := map[string]*doraAcc{}
	for i := range hs {
		h := &hs[i]
		owner, ok := owners[h.Component]
		if !ok || (f.env != "" && h.Environment != f.env) {
			continue
		}
		var a doraAcc
		a.add(h, from, to, s.dora)
		rep.Components = append(rep.Components, catalog.ComponentDORA{Component: h.Component, Owner: owner,
			Environment: h.Environment, Running: h.IsRunning(), DORA: a.result(window)})
		t := teams[owner]
		if t == nil {
			t = &doraAcc{}
			teams[owner] = t
		}
		t.add(h, from, to, s.dora)
	}
	for team, a := range teams {
		rep.Teams = append(rep.Teams, catalog.TeamDORA{Team: team, DORA: a.result(window)})
	}
	slices.SortFunc(rep.Teams, func(a, b catalog.TeamDORA) int { return cmp.Compare(a.Team, b.Team) })
	return rep, nil
}

// Bounds of ?window= on /api/v1/dora.
const (
	minDORAWindow = time.Hour
	maxDORAWindow = 366 * 24 * time.Hour
)

// parseSpan parses a length of time as "30d" (days) or a Go duration ("12h", "90m").
func parseSpan(v string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100000 {
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(v)
	return d, err == nil && d > 0
}

// dnsLabelParam checks the query parameter name, which must be empty or a DNS label.
func dnsLabelParam(q map[string][]string, name string, errs *[]catalog.FieldError) string {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = vs[0]
		if len(vs) > 1 || !catalog.IsDNSLabel(v) {
			*errs = append(*errs, catalog.FieldError{Field: name,
				Message: "must be one DNS label (1-63 lower-case letters, digits and '-'), got " + strconv.Quote(catalog.Clip(strings.Join(vs, ",")))})
		}
	}
	return v
}

func (s *Server) getDORA(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var errs []catalog.FieldError
	f := doraFilter{owner: dnsLabelParam(q, "owner", &errs), component: dnsLabelParam(q, "component", &errs), env: dnsLabelParam(q, "env", &errs)}
	window := s.dora.Window
	if v := q.Get("window"); v != "" {
		d, ok := parseSpan(v)
		if !ok || d < minDORAWindow || d > maxDORAWindow {
			errs = append(errs, catalog.FieldError{Field: "window", Message: "must be a length from 1h to 366d, such as 30d or 12h, got " + strconv.Quote(catalog.Clip(v))})
		}
		window = d
	}
	if len(errs) > 0 {
		s.problem(w, r, http.StatusBadRequest, "invalid query parameters", errs)
		return
	}
	rep, err := s.doraReport(r.Context(), s.st, f, window, s.now().UTC().Round(0))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// Names of the DORA metrics (docs/metrics.md): each component's keys per environment
// over DORAOptions.MetricsWindow, computed at scrape time.
const (
	MetricDORAWindow            = "paved_catalog_dora_window_seconds"
	MetricDORADeployments       = "paved_catalog_dora_deployments"
	MetricDORADeploymentsPerDay = "paved_catalog_dora_deployments_per_day"
	MetricDORALeadTime          = "paved_catalog_dora_lead_time_seconds"
	MetricDORAChangeFailure     = "paved_catalog_dora_change_failure_ratio"
	MetricDORATimeToRestore     = "paved_catalog_dora_time_to_restore_seconds"
)

// doraCollector computes DORA's keys from the histories at scrape time.
type doraCollector struct {
	s                                                                   *Server
	window, deployments, perDay, leadTime, changeFailure, timeToRestore *prometheus.Desc
}

func newDORACollector(s *Server) doraCollector {
	l := []string{"component", "environment", "owner"}
	return doraCollector{s: s,
		window:        prometheus.NewDesc(MetricDORAWindow, "The window the paved_catalog_dora_* metrics are computed over.", nil, nil),
		deployments:   prometheus.NewDesc(MetricDORADeployments, "Deployments started in the window, by component and environment.", l, nil),
		perDay:        prometheus.NewDesc(MetricDORADeploymentsPerDay, "Deployment frequency: deployments in the window per day.", l, nil),
		leadTime:      prometheus.NewDesc(MetricDORALeadTime, "Lead time for changes: the median time from the commit (vcs.time) to the first instance ready, over the deployments in the window whose commit time is known; absent when none is.", l, nil),
		changeFailure: prometheus.NewDesc(MetricDORAChangeFailure, "Change failure rate: the share of the deployments in the window that were rolled back or followed by an incident within the change failure window; absent without deployments.", l, nil),
		timeToRestore: prometheus.NewDesc(MetricDORATimeToRestore, "Time to restore: the median time from the first critical instance to every instance passing, over the incidents of the window that ended; absent when none did.", l, nil),
	}
}

func (c doraCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.window, c.deployments, c.perDay, c.leadTime, c.changeFailure, c.timeToRestore} {
		ch <- d
	}
}

func (c doraCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	s := c.s
	w := s.dora.MetricsWindow
	ch <- prometheus.MustNewConstMetric(c.window, prometheus.GaugeValue, w.Seconds())
	rep, err := s.doraReport(ctx, s.raw, doraFilter{}, w, s.now().UTC().Round(0))
	if err != nil {
		s.log.Warn("catalog metrics: computing DORA's keys", "err", err)
		return
	}
	for _, e := range rep.Components {
		l := []string{e.Component, e.Environment, e.Owner}
		ch <- prometheus.MustNewConstMetric(c.deployments, prometheus.GaugeValue, float64(e.Deployments), l...)
		ch <- prometheus.MustNewConstMetric(c.perDay, prometheus.GaugeValue, e.DeploymentsPerDay, l...)
		for d, v := range map[*prometheus.Desc]*float64{c.leadTime: e.LeadTimeSeconds, c.changeFailure: e.ChangeFailureRate, c.timeToRestore: e.TimeToRestoreSeconds} {
			if v != nil {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, *v, l...)
			}
		}
	}
}
