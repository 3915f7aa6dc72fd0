package ui

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/compliance"
)

// Insights is what the team pages, the scorecards view, the incident view and the
// charts read beyond the store: what the catalog's API computes from it.
// *server.Server implements it.
type Insights interface {
	// Teams returns every team that owns a component, with DORA's keys over window.
	Teams(ctx context.Context, window time.Duration) ([]catalog.Team, error)
	// Team returns one team, or an error wrapping store.ErrNotFound when it owns no
	// component.
	Team(ctx context.Context, name string, window time.Duration) (catalog.Team, error)
	// Rules returns every rule with the components that pass and fail it.
	Rules(ctx context.Context, window time.Duration) ([]catalog.RuleSummary, error)
	// DORATrend returns DORA's keys of a team's components (owner) or of one component
	// over n windows of length step, the last ending now.
	DORATrend(ctx context.Context, owner, component string, step time.Duration, n int) ([]catalog.DORAPoint, error)
	// RuleSet returns the rules scorecards are scored by, for their titles and fixes.
	RuleSet() compliance.RuleSet
	// DORAWindow returns the window DORA's keys are shown over.
	DORAWindow() time.Duration
	// WaitChange returns the count of the catalog's writes other than instances'
	// (components, scorecards, deployments, histories, API versions) once it is above
	// after, or ctx's error: the live-update stream (GET /events) wakes on them beside
	// the store's instance changes.
	WaitChange(ctx context.Context, after uint64) (uint64, error)
	// ChangeCount returns the count WaitChange waits on.
	ChangeCount() uint64
}

// Trends on the team and component pages: DORA's keys week by week.
const (
	trendStep   = 7 * 24 * time.Hour
	trendPoints = 12
)

// assetsFile reads an embedded asset, for New.
func assetsFile(name string) ([]byte, error) {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		return nil, fmt.Errorf("ui: read %s: %w", name, err)
	}
	return b, nil
}

// portalRoutes adds the team pages, the scorecards view, the charts, the live-update
// stream and the scripts to m.
func (h *Handler) portalRoutes(m *http.ServeMux) error {
	m.HandleFunc("GET /teams", h.teamsPage)
	m.HandleFunc("GET /teams/{team}", h.teamPage)
	m.HandleFunc("GET /teams/{team}/dora.svg", h.teamDORAChart)
	m.HandleFunc("GET /teams/{team}/deployments.svg", h.teamTimeline)
	m.HandleFunc("GET /scorecards", h.scorecardsPage)
	m.HandleFunc("GET /components/{name}/deployments.svg", h.componentTimeline)
	m.HandleFunc("GET /components/{name}/dora.svg", h.componentDORAChart)
	m.HandleFunc("GET /components/{name}/score.svg", h.scoreChart)
	m.HandleFunc("GET /events", h.events)
	for name, ct := range map[string]string{"live.js": "text/javascript; charset=utf-8", "sort.js": "text/javascript; charset=utf-8", "portal.css": "text/css; charset=utf-8"} {
		b, err := assetsFile(name)
		if err != nil {
			return err
		}
		m.HandleFunc("GET /static/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Cache-Control", "public, max-age=3600")
			_, _ = w.Write(b)
		})
	}
	return nil
}

// portalFuncs are the template functions of the portal's pages.
func (h *Handler) portalFuncs() template.FuncMap {
	return template.FuncMap{
		"seconds":  fmtSeconds,
		"percent":  fmtPercent,
		"perWeek":  func(perDay float64) string { return strconv.FormatFloat(math.Round(perDay*7*10)/10, 'f', -1, 64) },
		"age":      h.age,
		"failing":  func(id string) string { return "/?failing=" + url.QueryEscape(id) },
		"ruleLink": func(id string) string { return "/scorecards?failing=" + url.QueryEscape(id) },
		"days":     func(d time.Duration) string { return strconv.Itoa(int(d / (24 * time.Hour))) },
		"sortKey": func(v *float64) string {
			if v == nil {
				return "-1"
			}
			return strconv.FormatFloat(*v, 'g', -1, 64)
		},
		"running": func(cs []catalog.TeamComponent) int {
			n := 0
			for _, c := range cs {
				if c.Running {
					n++
				}
			}
			return n
		},
	}
}

// noInsights answers a page that needs Options.Insights when the handler has none.
func (h *Handler) noInsights(w http.ResponseWriter, r *http.Request) bool {
	if h.ins != nil {
		return false
	}
	h.errorPage(w, r, http.StatusNotFound, "This page needs the catalog's API (ui.Options.Insights), which this UI was built without.")
	return true
}

// fmtSeconds formats a duration given in seconds, such as "2h 5m"; "n/a" for nil.
func fmtSeconds(s *float64) string {
	if s == nil {
		return "n/a"
	}
	d := time.Duration(*s * float64(time.Second))
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

// fmtPercent formats a ratio as a percentage; "n/a" for nil.
func fmtPercent(r *float64) string {
	if r == nil {
		return "n/a"
	}
	return strconv.Itoa(int(math.Round(*r*100))) + "%"
}

// age formats how long ago t was, without "ago": "3d 4h".
func (h *Handler) age(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	s := h.now().Sub(t).Seconds()
	return fmtSeconds(&s)
}

// How long one live-update stream lasts before the browser reconnects, and how long it
// waits before reconnecting.
// A paused stream (SetLive false) asks the browser to come back after pausedRetry.
const (
	streamLifetime = 55 * time.Second
	streamRetry    = 2 * time.Second
	pausedRetry    = 10 * time.Second
	emptyStorePoll = time.Second
)

// liveSwitch turns the live-update streams on and off. It is safe for concurrent use.
type liveSwitch struct {
	// mu guards ctx and cancel: ctx is done while live updates are off.
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
}

// context returns a context that is done when live updates are (or get) turned off.
func (l *liveSwitch) context() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx == nil {
		l.ctx, l.cancel = context.WithCancel(context.Background())
	}
	return l.ctx
}

func (l *liveSwitch) set(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !on && l.ctx == nil:
		l.ctx, l.cancel = context.WithCancel(context.Background())
		l.cancel()
	case !on:
		l.cancel()
	case l.ctx != nil && l.ctx.Err() != nil:
		l.ctx, l.cancel = context.WithCancel(context.Background())
	}
}

// SetLive turns live updates on (the default) or off. Off ends every live-update
// stream (GET /events) at once, and answers new ones at once asking the browser to
// come back later, so that an HTTP server's graceful shutdown does not wait for them:
// call SetLive(false) when the catalog stops, such as from
// (*http.Server).RegisterOnShutdown, or when its readiness fails. Pages still work;
// they only stop updating by themselves.
func (h *Handler) SetLive(on bool) { h.live.set(on) }

// events streams a server-sent "change" event whenever the fleet's instances change
// (one joins or leaves, or changes status or version: the store's Watch) or, with
// Options.Insights, whenever a component, a scorecard, a deployment or a history is
// written (Insights.WaitChange), so that live.js reloads the page. Each stream ends
// after streamLifetime; the browser reconnects.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		h.plainError(w, http.StatusNotImplemented)
		return
	}
	live := h.live.context()
	if live.Err() != nil {
		// Live updates are off (the catalog is stopping): the browser
		// tries again later.
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = fmt.Fprintf(w, "retry: %d\n\n", pausedRetry.Milliseconds())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), streamLifetime)
	defer cancel()
	defer context.AfterFunc(live, cancel)()
	var count uint64
	if h.ins != nil {
		count = h.ins.ChangeCount() // before the set: a write in between is not missed
	}
	set, err := h.st.Instances(ctx, "")
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprintf(w, "retry: %d\nevent: index\ndata: %d\n\n", streamRetry.Milliseconds(), set.Index)
	fl.Flush()

	// Two watchers, one for the instances and one for the rest, each sending what
	// changed (the data of a change event: the store's index, or "catalog" and the
	// count of other writes) on changed; they end with ctx, and the stream waits for
	// them.
	changed := make(chan string)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	send := func(data string) bool {
		select {
		case changed <- data:
			return true
		case <-ctx.Done():
			return false
		}
	}
	wg.Go(func() {
		h.watchInstances(ctx, r, set.Index, send)
		cancel() // the store failed, closed or was reset: the stream ends, the browser reconnects
	})
	if h.ins != nil {
		wg.Go(func() {
			for {
				n, err := h.ins.WaitChange(ctx, count)
				if err != nil || !send("catalog "+strconv.FormatUint(n, 10)) {
					return
				}
				count = n
			}
		})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case data := <-changed:
			if _, err := fmt.Fprintf(w, "event: change\ndata: %s\n\n", data); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// watchInstances calls send with the store's change index whenever the fleet's
// instance sets change after index idx, until ctx ends or send returns false. A store
// that was reset (a watch answering the same index) ends it, and with it the stream's
// instance updates until the browser reconnects.
func (h *Handler) watchInstances(ctx context.Context, r *http.Request, idx uint64, send func(string) bool) {
	for {
		if idx == 0 {
			// An empty store: a watch from index 0 answers at once, so look again
			// every second until something is registered.
			t := time.NewTimer(emptyStorePoll)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			set, err := h.st.Instances(ctx, "")
			if err != nil {
				return
			}
			if set.Index != 0 {
				idx = set.Index
				if !send(strconv.FormatUint(idx, 10)) {
					return
				}
			}
			continue
		}
		set, err := h.st.Watch(ctx, "", idx)
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				h.log.WarnContext(r.Context(), "ui: live updates: watching the store", "err", err)
			}
			return
		}
		if set.Index == idx {
			return // nothing new: a store that was reset; the browser reconnects
		}
		idx = set.Index
		if !send(strconv.FormatUint(idx, 10)) {
			return
		}
	}
}
