package ui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/problem"
)

// ContentSecurityPolicy is the policy sent with every response: nothing may load but the
// UI's own stylesheets, images and scripts (live updates and table sorting; every page
// works without them), and the scripts may connect to the UI only.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// ErrNoStore is returned by [New] when it is given no store.
var ErrNoStore = errors.New("ui: a store is required")

// Options are a Handler's settings. The zero value is valid.
type Options struct {
	// Open shows a banner on every page saying that writes need no token, for a catalog
	// running in open mode (development only). Set it from server.Server.OpenMode.
	Open bool
	// Logger receives store and rendering errors. Nil means discard.
	Logger *slog.Logger
	// Now is the clock used for relative times ("12s ago"). Nil means time.Now.
	Now func() time.Time
	// Insights serves the team pages, the scorecards view, the incident view's rule
	// fixes and the charts: pass the catalog's *server.Server. Nil means those pages
	// answer 404.
	Insights Insights
}

// Handler serves the UI's pages and graphs. It implements http.Handler and is safe for
// concurrent use.
type Handler struct {
	st   store.Store
	log  *slog.Logger
	now  func() time.Time
	open bool
	ins  Insights
	live liveSwitch
	tmpl *template.Template
	mux  *http.ServeMux
}

//go:embed assets
var assets embed.FS

// New returns a Handler reading from st.
func New(st store.Store, opts Options) (*Handler, error) {
	if st == nil {
		return nil, ErrNoStore
	}
	h := &Handler{st: st, log: opts.Logger, now: opts.Now, open: opts.Open, ins: opts.Insights}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	t, err := template.New("ui").Funcs(template.FuncMap{
		"ago":       h.ago,
		"scoreText": scoreText,
		"scoreClass": func(s int) string {
			return scoreClass(s)
		},
		"rfc3339":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"shortDigest": shortDigest,
	}).Funcs(h.portalFuncs()).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parse templates: %w", err)
	}
	h.tmpl = t
	css, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return nil, fmt.Errorf("ui: read stylesheet: %w", err)
	}

	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.index)
	m.HandleFunc("GET /components/{name}", h.component)
	m.HandleFunc("GET /components/{name}/graph.svg", h.componentGraph)
	m.HandleFunc("GET /graph", h.graphPage)
	m.HandleFunc("GET /graph.svg", h.fleetGraph)
	m.HandleFunc("GET /apis", h.apisPage)
	m.HandleFunc("GET /apis/{name}", h.apiPage)
	if err := h.portalRoutes(m); err != nil {
		return nil, err
	}
	m.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(css)
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			h.errorPage(w, r, http.StatusMethodNotAllowed, "The UI only reads: method "+r.Method+" is not allowed; use GET.")
			return
		}
		h.errorPage(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	h.mux = m
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

// page is what every page template gets.
type page struct {
	Title string
	Open  bool
	Nav   string // "components", "graph" or "apis"
	Body  any
}

// render executes a template into a buffer first, so a failure is a clean 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Open = h.open
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		h.log.ErrorContext(r.Context(), "ui: render failed", "template", name, "path", r.URL.Path, "err", err)
		h.plainError(w, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// plainError is the last resort when even the error page cannot render.
func (h *Handler) plainError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, http.StatusText(status))
}

type errorBody struct {
	Status  int
	Text    string
	Message string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "error.html", page{
		Title: http.StatusText(status),
		Body:  errorBody{Status: status, Text: http.StatusText(status), Message: msg},
	})
}

// storeFailed logs err and answers with a 500 page that withholds it; a cancelled request
// or a closing store is a 503.
func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrClosed) {
		h.errorPage(w, r, http.StatusServiceUnavailable, "The catalog is shutting down or the request was cancelled. Try again.")
		return
	}
	h.log.ErrorContext(r.Context(), "ui: store failed", "method", r.Method, "path", r.URL.Path, "err", err)
	h.errorPage(w, r, http.StatusInternalServerError, "The catalog could not read its store. The cause is in the catalog's log.")
}

// problem writes an RFC 9457 problem document, for the SVG routes.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	problem.Write(w, r, problem.Problem{Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path})
}

// parseFilter maps the table's query to a filter, or returns the problems with it.
func parseFilter(q url.Values) (catalog.ComponentFilter, []catalog.FieldError) {
	f := catalog.ComponentFilter{
		Owner:     strings.TrimSpace(q.Get("owner")),
		Lifecycle: catalog.Lifecycle(q.Get("lifecycle")),
		Text:      strings.TrimSpace(q.Get("q")),
	}
	var errs []catalog.FieldError
	if t := q.Get("tier"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < catalog.MinTier || n > catalog.MaxTier {
			errs = append(errs, catalog.FieldError{Field: "tier", Message: fmt.Sprintf("must be a number from %d to %d, got %q", catalog.MinTier, catalog.MaxTier, t)})
		} else {
			f.Tier = n
		}
	}
	if f.Lifecycle != "" && !f.Lifecycle.Valid() {
		errs = append(errs, catalog.FieldError{Field: "lifecycle", Message: fmt.Sprintf("must be one of experimental, production, deprecated, got %q", string(f.Lifecycle))})
		f.Lifecycle = ""
	}
	// Each label parameter may hold several pairs apart by spaces or commas, which label
	// keys and values cannot contain.
	var pairs []string
	for _, l := range q["label"] {
		pairs = append(pairs, strings.FieldsFunc(l, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
	}
	for _, l := range pairs {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			errs = append(errs, catalog.FieldError{Field: "label", Message: fmt.Sprintf("must be key=value, such as team=payments, got %q", l)})
			continue
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		if old, dup := f.Labels[k]; dup && old != v {
			errs = append(errs, catalog.FieldError{Field: "label", Message: fmt.Sprintf("key %q is given twice, as %q and %q; a component has one value per key", k, old, v)})
			continue
		}
		f.Labels[k] = v
	}
	return f, errs
}

// httpURL returns s when it is an absolute http or https URL with a host, else "".
func httpURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	if sc := strings.ToLower(u.Scheme); sc != "http" && sc != "https" {
		return ""
	}
	return u.String()
}

// ago formats how long before now t was, such as "12s ago".
func (h *Handler) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := h.now().Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
}

// scoreClass names the colour of a score: good (>= 90), fair (>= 70), poor, or none
// (negative: no scorecard).
func scoreClass(s int) string {
	switch {
	case s < 0:
		return "none"
	case s >= 90:
		return "good"
	case s >= 70:
		return "fair"
	default:
		return "poor"
	}
}

func scoreText(s int) string {
	if s < 0 {
		return "no scorecard"
	}
	return strconv.Itoa(s)
}
