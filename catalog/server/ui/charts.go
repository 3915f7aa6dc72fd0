package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// Charts are drawn on the server as SVG, so that they need no script and pass the
// Content-Security-Policy as images.

const (
	chartWidth  = 960
	chartLeft   = 170 // the row labels' column
	chartRight  = 20
	chartRowH   = 30
	chartTop    = 28
	chartBottom = 34
)

// timelineRow is one row of a deployment timeline: a component in an environment.
type timelineRow struct {
	Label       string
	Deployments []catalog.Deployment
	Incidents   []catalog.Incident
}

// stateColor is the colour of a deployment's mark.
func stateColor(s catalog.DeploymentState) string {
	switch s {
	case catalog.DeploymentSuccessful:
		return "#1e8e3e"
	case catalog.DeploymentRolledBack, catalog.DeploymentFailed:
		return "#c5221f"
	case catalog.DeploymentInProgress, catalog.DeploymentPending:
		return "#c77c02"
	case catalog.DeploymentCancelled:
		return "#8a8a8a"
	}
	return "#1a73e8"
}

// svgOpen starts an SVG document of the given size, with a title for screen readers.
func svgOpen(b *bytes.Buffer, w, h int, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, sans-serif" font-size="12" role="img">`, w, h, w, h)
	fmt.Fprintf(b, `<title>%s</title><rect width="%d" height="%d" fill="#fff"/>`, esc(title), w, h)
}

// timeAxis draws date ticks along the bottom of a plot between x0 and x1.
func timeAxis(b *bytes.Buffer, from, to time.Time, x0, x1, y float64) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#dadce0"/>`, x0, y, x1, y)
	const ticks = 6
	for i := 0; i <= ticks; i++ {
		t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / ticks))
		x := x0 + (x1-x0)*float64(i)/ticks
		label := t.UTC().Format("Jan 2")
		if to.Sub(from) <= 48*time.Hour {
			label = t.UTC().Format("Jan 2 15:04")
		}
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case ticks:
			anchor = "end"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#dadce0"/><text x="%.1f" y="%.1f" text-anchor="%s" fill="#5f6368">%s</text>`,
			x, y, x, y+4, x, y+16, anchor, esc(label))
	}
}

// timelineSVG draws deployments (a dot each, coloured by state, a ring for a rollback)
// and incidents (a red band) per row, between from and to.
func timelineSVG(title string, rows []timelineRow, from, to time.Time) []byte {
	var b bytes.Buffer
	h := chartTop + max(len(rows), 1)*chartRowH + chartBottom
	svgOpen(&b, chartWidth, h, title)
	x0, x1 := float64(chartLeft), float64(chartWidth-chartRight)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(from)) / float64(to.Sub(from))
		return x0 + (x1-x0)*min(max(f, 0), 1)
	}
	fmt.Fprintf(&b, `<text x="%d" y="17" font-weight="600">%s</text>`, 8, esc(title))
	if len(rows) == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#5f6368">No deployment recorded.</text>`, x0, chartTop+19)
	}
	for i, r := range rows {
		y := float64(chartTop + i*chartRowH + chartRowH/2)
		fmt.Fprintf(&b, `<g class="row" data-row="%s"><text x="8" y="%.1f" fill="#202124">%s</text>`, esc(r.Label), y+4, esc(r.Label))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eceff1"/>`, x0, y, x1, y)
		for _, inc := range r.Incidents {
			end := inc.RestoredAt
			if end.IsZero() {
				end = to
			}
			if end.Before(from) || inc.StartedAt.After(to) {
				continue
			}
			xa, xb := x(inc.StartedAt), x(end)
			fmt.Fprintf(&b, `<rect class="incident" x="%.1f" y="%.1f" width="%.1f" height="16" fill="#c5221f" fill-opacity=".25"><title>incident from %s%s</title></rect>`,
				xa, y-8, max(xb-xa, 2), inc.StartedAt.UTC().Format(time.RFC3339), restoredText(inc))
		}
		for _, d := range r.Deployments {
			if d.StartedAt.Before(from) || d.StartedAt.After(to) {
				continue
			}
			c := stateColor(d.State)
			fill := c
			if d.Rollback {
				fill = "#fff"
			}
			fmt.Fprintf(&b, `<circle class="deployment state-%s" cx="%.1f" cy="%.1f" r="5" fill="%s" stroke="%s" stroke-width="2"><title>%s %s (%s) %s</title></circle>`,
				esc(string(d.State)), x(d.StartedAt), y, fill, c, esc(d.Version), esc(string(d.State)), esc(d.Environment), d.StartedAt.UTC().Format(time.RFC3339))
		}
		b.WriteString(`</g>`)
	}
	timeAxis(&b, from, to, x0, x1, float64(h-chartBottom+6))
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func restoredText(inc catalog.Incident) string {
	if inc.RestoredAt.IsZero() {
		return ", not restored"
	}
	return " to " + inc.RestoredAt.UTC().Format(time.RFC3339)
}

// trendPanel is one of the four panels of a DORA trend chart.
type trendPanel struct {
	title string
	unit  string
	value func(d catalog.DORA) *float64
}

// doraTrendSVG draws DORA's four keys step by step, as bars: a step whose key is not
// known has no bar.
func doraTrendSVG(title string, pts []catalog.DORAPoint) []byte {
	panels := []trendPanel{
		{"Deployments / week", "", func(d catalog.DORA) *float64 { v := d.DeploymentsPerDay * 7; return &v }},
		{"Lead time (hours)", "h", func(d catalog.DORA) *float64 { return scale(d.LeadTimeSeconds, 1.0/3600) }},
		{"Change failure rate (%)", "%", func(d catalog.DORA) *float64 { return scale(d.ChangeFailureRate, 100) }},
		{"Time to restore (minutes)", "m", func(d catalog.DORA) *float64 { return scale(d.TimeToRestoreSeconds, 1.0/60) }},
	}
	const pw, ph, gap, top = 220, 130, 16, 26
	var b bytes.Buffer
	h := top + 22 + ph + 24
	svgOpen(&b, chartWidth, h, title)
	fmt.Fprintf(&b, `<text x="8" y="17" font-weight="600">%s</text>`, esc(title))
	for pi, p := range panels {
		px := float64(8 + pi*(pw+gap))
		py := float64(top + 18)
		top := 0.0
		for _, pt := range pts {
			if v := p.value(pt.DORA); v != nil {
				top = max(top, *v)
			}
		}
		if top == 0 {
			top = 1
		}
		fmt.Fprintf(&b, `<g class="panel" data-key="%s"><text x="%.1f" y="%.1f" fill="#202124">%s</text>`, esc(p.title), px, py-6, esc(p.title))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%d" height="%d" fill="#f8f9fa" stroke="#dadce0"/>`, px, py, pw, ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#5f6368" font-size="10">%s</text>`, px+pw-3, py+11, esc(fmtNum(top)))
		bw := float64(pw) / float64(max(len(pts), 1))
		for i, pt := range pts {
			v := p.value(pt.DORA)
			if v == nil {
				continue
			}
			bh := float64(ph-14) * *v / top
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1a73e8"><title>week to %s: %s%s</title></rect>`,
				px+float64(i)*bw+2, py+float64(ph)-bh, max(bw-4, 1), bh, pt.To.UTC().Format("Jan 2"), esc(fmtNum(*v)), esc(p.unit))
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#5f6368" font-size="10">%s</text><text x="%.1f" y="%.1f" text-anchor="end" fill="#5f6368" font-size="10">%s</text>`,
				px, py+float64(ph)+13, pts[0].To.UTC().Format("Jan 2"), px+pw, py+float64(ph)+13, pts[len(pts)-1].To.UTC().Format("Jan 2"))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func scale(v *float64, by float64) *float64 {
	if v == nil {
		return nil
	}
	s := *v * by
	return &s
}

func fmtNum(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}

// scoreSVG draws a component's score history as a step line from 0 to 100.
func scoreSVG(title string, pts []catalog.ScorePoint, from, to time.Time) []byte {
	const ph = 120
	var b bytes.Buffer
	h := chartTop + ph + chartBottom
	svgOpen(&b, chartWidth, h, title)
	fmt.Fprintf(&b, `<text x="8" y="17" font-weight="600">%s</text>`, esc(title))
	x0, x1 := float64(chartLeft), float64(chartWidth-chartRight)
	yTop := float64(chartTop)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(from)) / float64(to.Sub(from))
		return x0 + (x1-x0)*min(max(f, 0), 1)
	}
	y := func(s int) float64 { return yTop + ph - float64(ph)*float64(s)/100 }
	for _, s := range []int{0, 50, 70, 90, 100} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eceff1"/><text x="%.1f" y="%.1f" text-anchor="end" fill="#5f6368" font-size="10">%d</text>`,
			x0, y(s), x1, y(s), x0-6, y(s)+3, s)
	}
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#5f6368">No scorecard reported yet.</text>`, x0+10, yTop+ph/2)
	} else {
		var path strings.Builder
		for i, p := range pts {
			if i == 0 {
				fmt.Fprintf(&path, "M%.1f %.1f", x(p.At), y(p.Score))
				continue
			}
			fmt.Fprintf(&path, " H%.1f V%.1f", x(p.At), y(p.Score))
		}
		fmt.Fprintf(&path, " H%.1f", x1)
		fmt.Fprintf(&b, `<path class="score-line" d="%s" fill="none" stroke="#1a73e8" stroke-width="2"/>`, path.String())
		for _, p := range pts {
			fmt.Fprintf(&b, `<circle class="score-point" cx="%.1f" cy="%.1f" r="3" fill="#1a73e8"><title>%d at %s</title></circle>`, x(p.At), y(p.Score), p.Score, p.At.UTC().Format(time.RFC3339))
		}
	}
	timeAxis(&b, from, to, x0, x1, float64(h-chartBottom+6))
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func writeChart(w http.ResponseWriter, svg []byte) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(svg)
}

// window returns the window the charts span.
func (h *Handler) window() time.Duration {
	if h.ins != nil {
		return h.ins.DORAWindow()
	}
	return 30 * 24 * time.Hour
}

// chartComponent checks the component of a chart's path, writing a problem when it is
// not a component's name or the catalog has none so named.
func (h *Handler) chartComponent(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !catalog.IsDNSLabel(name) {
		h.problem(w, r, http.StatusNotFound, "no component is named so: a component name is a DNS label (1-63 lower-case letters, digits and '-')")
		return "", false
	}
	return name, true
}

// histories reads the histories of the named components, skipping one deleted since.
func (h *Handler) histories(ctx context.Context, names ...string) ([]catalog.History, error) {
	var out []catalog.History
	for _, n := range names {
		hs, err := h.st.Histories(ctx, n)
		if errors.Is(err, store.ErrNotFound) && len(names) > 1 {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	return out, nil
}

// timelineRows makes a row of each history; label names the row.
func timelineRows(hs []catalog.History, label func(h *catalog.History) string) []timelineRow {
	rows := make([]timelineRow, 0, len(hs))
	for i := range hs {
		if len(hs[i].Deployments) == 0 && len(hs[i].Incidents) == 0 {
			continue
		}
		rows = append(rows, timelineRow{Label: label(&hs[i]), Deployments: hs[i].Deployments, Incidents: hs[i].Incidents})
	}
	return rows
}

func (h *Handler) chartFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		h.problem(w, r, http.StatusNotFound, "the catalog has no component or team so named")
		return
	}
	h.svgStoreFailed(w, r, err)
}

func (h *Handler) componentTimeline(w http.ResponseWriter, r *http.Request) {
	name, ok := h.chartComponent(w, r)
	if !ok {
		return
	}
	hs, err := h.histories(r.Context(), name)
	if err != nil {
		h.chartFailed(w, r, err)
		return
	}
	to := h.now().UTC()
	rows := timelineRows(hs, func(h *catalog.History) string { return h.Environment })
	writeChart(w, timelineSVG("Deployments of "+name+" by environment", rows, to.Add(-h.window()), to))
}

func (h *Handler) componentDORAChart(w http.ResponseWriter, r *http.Request) {
	if h.ins == nil {
		h.problem(w, r, http.StatusNotFound, "DORA trends need the catalog's API (ui.Options.Insights)")
		return
	}
	name, ok := h.chartComponent(w, r)
	if !ok {
		return
	}
	if _, err := h.st.GetComponent(r.Context(), name); err != nil {
		h.chartFailed(w, r, err)
		return
	}
	pts, err := h.ins.DORATrend(r.Context(), "", name, trendStep, trendPoints)
	if err != nil {
		h.chartFailed(w, r, err)
		return
	}
	writeChart(w, doraTrendSVG("DORA's keys of "+name+", week by week", pts))
}

func (h *Handler) scoreChart(w http.ResponseWriter, r *http.Request) {
	name, ok := h.chartComponent(w, r)
	if !ok {
		return
	}
	hs, err := h.histories(r.Context(), name)
	if err != nil {
		h.chartFailed(w, r, err)
		return
	}
	var pts []catalog.ScorePoint
	for _, h := range hs {
		pts = append(pts, h.Scores...)
	}
	slices.SortStableFunc(pts, func(a, b catalog.ScorePoint) int { return a.At.Compare(b.At) })
	to := h.now().UTC()
	from := to.Add(-h.window())
	if len(pts) > 0 && pts[0].At.Before(from) {
		from = pts[0].At
	}
	writeChart(w, scoreSVG("Score of "+name, pts, from, to))
}

// teamComponents returns the names of the components team owns, or an error wrapping
// store.ErrNotFound when it owns none.
func (h *Handler) teamComponents(ctx context.Context, team string) ([]string, error) {
	if !catalog.IsDNSLabel(team) {
		return nil, store.ErrNotFound
	}
	comps, err := h.st.ListComponents(ctx, catalog.ComponentFilter{Owner: team})
	if err != nil {
		return nil, err
	}
	if len(comps) == 0 {
		return nil, store.ErrNotFound
	}
	names := make([]string, len(comps))
	for i, c := range comps {
		names[i] = c.Name
	}
	return names, nil
}

func (h *Handler) teamTimeline(w http.ResponseWriter, r *http.Request) {
	team := r.PathValue("team")
	names, err := h.teamComponents(r.Context(), team)
	if err != nil {
		h.chartFailed(w, r, err)
		return
	}
	hs, err := h.histories(r.Context(), names...)
	if err != nil {
		h.chartFailed(w, r, err)
		return
	}
	to := h.now().UTC()
	rows := timelineRows(hs, func(h *catalog.History) string { return h.Component + " · " + h.Environment })
	writeChart(w, timelineSVG("Deployments of team "+team, rows, to.Add(-h.window()), to))
}

func (h *Handler) teamDORAChart(w http.ResponseWriter, r *http.Request) {
	if h.ins == nil {
		h.problem(w, r, http.StatusNotFound, "DORA trends need the catalog's API (ui.Options.Insights)")
		return
	}
	team := r.PathValue("team")
	if _, err := h.teamComponents(r.Context(), team); err != nil {
		h.chartFailed(w, r, err)
		return
	}
	pts, err := h.ins.DORATrend(r.Context(), team, "", trendStep, trendPoints)
	if err != nil {
		h.chartFailed(w, r, err)
		return
	}
	writeChart(w, doraTrendSVG("DORA's keys of team "+team+", week by week", pts))
}
