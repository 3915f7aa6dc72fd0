package ui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// Health classes of a component, by its instances.
const (
	healthOK       = "ok"       // every instance passing
	healthDegraded = "degraded" // some instance not passing, some healthy
	healthDown     = "down"     // no instance healthy
	healthNone     = "none"     // no instance
)

// healthOf classifies a component by its instances.
func healthOf(ins []catalog.Instance) (class string, healthy int) {
	passing := 0
	for i := range ins {
		if ins[i].Healthy() && !ins[i].Expired {
			healthy++
		}
		if ins[i].Status == catalog.StatusPassing && !ins[i].Expired {
			passing++
		}
	}
	switch {
	case len(ins) == 0:
		return healthNone, 0
	case passing == len(ins):
		return healthOK, healthy
	case healthy == 0:
		return healthDown, 0
	default:
		return healthDegraded, healthy
	}
}

// fleet is what the table and the graphs are drawn from.
type fleet struct {
	components []catalog.Component           // sorted by name
	instances  map[string][]catalog.Instance // by component
	scores     map[string]int                // by component; -1 without scorecard
	failing    map[string][]string           // by component: the ids of the rules it fails
}

// readFleet reads the components the filter matches, with their instances, and the
// scores of those for which scored is true (of all when scored is nil).
func (h *Handler) readFleet(ctx context.Context, f catalog.ComponentFilter, scored func(c *catalog.Component) bool) (fleet, error) {
	comps, err := h.st.ListComponents(ctx, f)
	if err != nil {
		return fleet{}, err
	}
	set, err := h.st.Instances(ctx, "")
	if err != nil {
		return fleet{}, err
	}
	fl := fleet{components: comps, instances: map[string][]catalog.Instance{},
		scores: make(map[string]int, len(comps)), failing: map[string][]string{}}
	for _, in := range set.Instances {
		fl.instances[in.Component] = append(fl.instances[in.Component], in)
	}
	for i := range comps {
		c := &comps[i]
		if scored != nil && !scored(c) {
			continue
		}
		sc, err := h.st.Scorecard(ctx, c.Name)
		switch {
		case errors.Is(err, store.ErrNotFound): // deleted since the list: no score
			fl.scores[c.Name] = -1
		case err != nil:
			return fleet{}, err
		default:
			fl.scores[c.Name] = sc.Score
			for _, f := range sc.Failing {
				fl.failing[c.Name] = append(fl.failing[c.Name], f.ID)
			}
		}
	}
	return fl, nil
}

// row is one line of the components table.
type row struct {
	Name      string
	Owner     string
	Tier      int
	Lifecycle catalog.Lifecycle
	Healthy   int
	Total     int
	Health    string
	Versions  []string
	Score     int
}

// indexBody is the components table page.
type indexBody struct {
	Rows       []row
	Errors     []catalog.FieldError
	Owner      string
	Tier       string
	Lifecycle  string
	Labels     string
	Text       string
	Filtered   bool
	Failing    string // ?failing=: only components failing this rule
	Tiers      []string
	Lifecycles []catalog.Lifecycle
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, errs := parseFilter(q)
	if fe := checkFailing(q["failing"]); fe != nil {
		errs = append(errs, *fe)
	}
	body := indexBody{Failing: q.Get("failing"),
		Errors: errs, Owner: q.Get("owner"), Tier: q.Get("tier"), Lifecycle: q.Get("lifecycle"),
		Labels: strings.Join(q["label"], " "), Text: q.Get("q"),
		Tiers:      []string{"1", "2", "3", "4"},
		Lifecycles: []catalog.Lifecycle{catalog.LifecycleExperimental, catalog.LifecycleProduction, catalog.LifecycleDeprecated},
	}
	body.Filtered = body.Owner != "" || body.Tier != "" || body.Lifecycle != "" || body.Labels != "" || body.Text != "" || body.Failing != ""
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	} else {
		fl, err := h.readFleet(r.Context(), f, nil)
		if err != nil {
			h.storeFailed(w, r, err)
			return
		}
		for _, c := range fl.components {
			if body.Failing != "" && !slices.Contains(fl.failing[c.Name], body.Failing) {
				continue
			}
			ins := fl.instances[c.Name]
			class, healthy := healthOf(ins)
			var versions []string
			for _, in := range ins {
				versions = append(versions, in.Version)
			}
			slices.Sort(versions)
			body.Rows = append(body.Rows, row{Name: c.Name, Owner: c.Owner, Tier: c.Tier, Lifecycle: c.Lifecycle,
				Healthy: healthy, Total: len(ins), Health: class, Versions: slices.Compact(versions), Score: fl.scores[c.Name]})
		}
	}
	h.render(w, r, status, "index.html", page{Title: "Components", Nav: "components", Body: body})
}

// link is one of a component's links; URL is empty when the value is not an http(s) URL,
// and the value is then shown as text only.
type link struct {
	Label string
	Text  string
	URL   string
}

// dep is a dependency; Known is false for a name the catalog does not have.
type dep struct {
	Name  string
	Known bool
}

type labelKV struct{ Key, Value string }

// instanceView is an instance with its scorecard, if it reported one.
type instanceView struct {
	catalog.Instance
	Card *catalog.Scorecard
}

// componentBody is the component page.
type componentBody struct {
	C            catalog.Component
	Links        []link
	Labels       []labelKV
	Instances    []instanceView
	Healthy      int
	Health       string
	Score        int
	Cards        []catalog.Scorecard
	DependsOn    []dep
	DependedOnBy []string
	// Publishes and Consumes are the event APIs the component publishes and consumes,
	// with the components at their other end.
	Publishes, Consumes []eventLink
	// NotRunning is set when no instance is listed; StoppedAt is when the last one was
	// seen gone (zero when unknown).
	NotRunning bool
	StoppedAt  time.Time
	// Retained is set when Cards are the last cards of instances that have gone.
	Retained bool
	// Deployments are the latest deployments, newest first.
	Deployments []catalog.Deployment
	// Incident is the incident view (incident.go).
	Incident incidentView
}

// maxPageDeployments is how many deployments the component page lists.
const maxPageDeployments = 10

// withHistory adds what the component's histories keep: when it stopped running and its
// latest deployments.
func (b *componentBody) withHistory(hs []catalog.History) {
	for _, h := range hs {
		if h.StoppedAt.After(b.StoppedAt) {
			b.StoppedAt = h.StoppedAt
		}
		b.Deployments = append(b.Deployments, h.Deployments...)
	}
	slices.SortStableFunc(b.Deployments, func(x, y catalog.Deployment) int { return y.StartedAt.Compare(x.StartedAt) })
	if len(b.Deployments) > maxPageDeployments {
		b.Deployments = b.Deployments[:maxPageDeployments]
	}
}

func (h *Handler) component(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !catalog.IsDNSLabel(name) {
		h.errorPage(w, r, http.StatusNotFound, "No component is named so: a component name is a DNS label (1-63 lower-case letters, digits and '-').")
		return
	}
	ctx := r.Context()
	c, err := h.st.GetComponent(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "The catalog has no component named "+name+".")
		return
	}
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	set, err := h.st.Instances(ctx, name)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		var sc catalog.ComponentScorecard
		sc, err = h.st.Scorecard(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			sc, err = catalog.ComponentScorecard{Score: -1}, nil
		}
		if err == nil {
			var all []catalog.Component
			all, err = h.st.ListComponents(ctx, catalog.ComponentFilter{})
			var hs []catalog.History
			if err == nil {
				hs, err = h.st.Histories(ctx, name)
			}
			if errors.Is(err, store.ErrNotFound) {
				hs, err = nil, nil // deleted since
			}
			if err == nil {
				body := componentView(c, set.Instances, sc, all)
				body.withHistory(hs)
				if body.Incident, err = h.incident(ctx, c, set.Instances, sc, all, hs); err != nil {
					h.storeFailed(w, r, err)
					return
				}
				h.render(w, r, http.StatusOK, "component.html", page{Title: c.Name, Nav: "components", Body: body})
				return
			}
		}
	}
	h.storeFailed(w, r, err)
}

// componentView builds the component page from what the store returned.
func componentView(c catalog.Component, ins []catalog.Instance, sc catalog.ComponentScorecard, all []catalog.Component) componentBody {
	b := componentBody{C: c, Score: sc.Score, Cards: sc.Instances, NotRunning: len(ins) == 0, Retained: sc.Retained}
	for _, l := range []struct{ label, v string }{
		{"Repository", c.Links.Repository}, {"Docs", c.Links.Docs}, {"Runbook", c.Links.Runbook},
		{"On-call", c.Links.OnCall}, {"Dashboard", c.Links.Dashboard}, {"API spec", c.Links.APISpec},
	} {
		if l.v != "" {
			b.Links = append(b.Links, link{Label: l.label, Text: l.v, URL: httpURL(l.v)})
		}
	}
	for k, v := range c.Labels {
		b.Labels = append(b.Labels, labelKV{k, v})
	}
	slices.SortFunc(b.Labels, func(x, y labelKV) int { return strings.Compare(x.Key, y.Key) })
	cards := map[string]*catalog.Scorecard{}
	for i := range sc.Instances {
		cards[sc.Instances[i].Instance] = &sc.Instances[i]
	}
	for _, in := range ins {
		b.Instances = append(b.Instances, instanceView{Instance: in, Card: cards[in.ID]})
	}
	b.Health, b.Healthy = healthOf(ins)
	known := map[string]bool{}
	for _, o := range all {
		known[o.Name] = true
		if slices.Contains(o.DependsOn, c.Name) {
			b.DependedOnBy = append(b.DependedOnBy, o.Name)
		}
	}
	deps := slices.Sorted(slices.Values(c.DependsOn))
	for _, d := range deps {
		b.DependsOn = append(b.DependsOn, dep{Name: d, Known: known[d]})
	}
	slices.Sort(b.DependedOnBy)
	b.Publishes, b.Consumes = eventLinks(c, eventFlows(all))
	return b
}

func (h *Handler) graphPage(w http.ResponseWriter, r *http.Request) {
	comps, err := h.st.ListComponents(r.Context(), catalog.ComponentFilter{})
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "graph.html", page{Title: "Dependency graph", Nav: "graph", Body: len(comps)})
}

func (h *Handler) fleetGraph(w http.ResponseWriter, r *http.Request) {
	fl, err := h.readFleet(r.Context(), catalog.ComponentFilter{}, nil)
	if err != nil {
		h.svgStoreFailed(w, r, err)
		return
	}
	writeSVG(w, layoutGraph(buildGraph(fl, "")))
}

func (h *Handler) componentGraph(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !catalog.IsDNSLabel(name) {
		h.problem(w, r, http.StatusNotFound, "no component is named so: a component name is a DNS label (1-63 lower-case letters, digits and '-')")
		return
	}
	focus, err := h.st.GetComponent(r.Context(), name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			h.problem(w, r, http.StatusNotFound, "the catalog has no component named "+name)
			return
		}
		h.svgStoreFailed(w, r, err)
		return
	}
	// Only the neighbourhood's scores are drawn.
	fl, err := h.readFleet(r.Context(), catalog.ComponentFilter{}, func(c *catalog.Component) bool {
		return c.Name == name || slices.Contains(focus.DependsOn, c.Name) || slices.Contains(c.DependsOn, name)
	})
	if err != nil {
		h.svgStoreFailed(w, r, err)
		return
	}
	writeSVG(w, layoutGraph(buildGraph(fl, name)))
}

func (h *Handler) svgStoreFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrClosed) {
		h.problem(w, r, http.StatusServiceUnavailable, "the catalog is shutting down or the request was cancelled")
		return
	}
	h.log.ErrorContext(r.Context(), "ui: store failed", "method", r.Method, "path", r.URL.Path, "err", err)
	h.problem(w, r, http.StatusInternalServerError, "internal error; the catalog's log has the cause")
}
