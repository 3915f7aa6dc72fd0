package health

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/problem"
)

// httpPaths are the path segments of the sets served over HTTP.
func httpPaths() [4]string { return [4]string{"livez", "readyz", "startupz", "healthz"} }

// httpKind is the set served at path segment seg, or 0.
func httpKind(seg string) Kind {
	switch seg {
	case "livez":
		return Liveness
	case "readyz":
		return Readiness
	case "startupz":
		return Startup
	case "healthz":
		return AllKinds
	}
	return 0
}

// Mount registers the probe endpoints on mux: /livez, /readyz, /startupz, /healthz and
// /<set>/<name> below each.
func (r *Registry) Mount(mux *http.ServeMux) {
	h := r.Handler()
	for _, p := range httpPaths() {
		mux.Handle("/"+p, h)
		mux.Handle("/"+p+"/", h)
	}
}

// Handler serves the probe endpoints by path: /livez (Liveness), /readyz (Readiness),
// /startupz (Startup), /healthz (every check), each also as /<set>/<name> for one check.
// The answer is 200 when the set passes or warns and 503 when it fails.
//
// Query forms: ?verbose lists every check with its status and duration (Kubernetes
// style); ?exclude=<name> skips a check (repeatable, or comma-separated); ?format=json,
// or an Accept header naming application/health+json or application/json, answers in
// application/health+json. Errors (an unknown path, check or exclude, a bad format, a
// method other than GET or HEAD) are application/problem+json.
func (r *Registry) Handler() http.Handler { return http.HandlerFunc(r.serveHTTP) }

func (r *Registry) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, req, http.StatusMethodNotAllowed, "method "+req.Method+" not allowed; use GET or HEAD")
		return
	}
	path := strings.TrimPrefix(req.URL.Path, "/")
	seg, name, _ := strings.Cut(path, "/")
	kind := httpKind(seg)
	if kind == 0 || strings.Contains(name, "/") {
		writeProblem(w, req, http.StatusNotFound, "no health endpoint at "+strconv.Quote(req.URL.Path)+"; want /livez, /readyz, /startupz or /healthz, optionally followed by /<check>")
		return
	}
	q := queryOpts{}
	if req.URL.RawQuery != "" {
		var err error
		if q, err = parseQuery(req); err != nil {
			writeProblem(w, req, http.StatusBadRequest, err.Error())
			return
		}
	}
	if !q.formatSet {
		q.json = wantsJSON(req.Header.Get("Accept"))
	}
	var rep Report
	sc := r.scratch.Get().(*scratch)
	defer func() {
		clear(sc.checks[:cap(sc.checks)]) // drop references to errors
		r.scratch.Put(sc)
	}()
	if name != "" {
		cr, err := r.EvaluateCheck(req.Context(), kind, name)
		if err != nil {
			writeProblem(w, req, http.StatusNotFound, err.Error())
			return
		}
		rep = Report{Kind: kind, Checks: append(sc.checks[:0], cr)}
		rep.summarize()
	} else {
		var err error
		if rep, err = r.evaluate(req.Context(), kind, q.exclude, sc.checks); err != nil {
			writeProblem(w, req, http.StatusBadRequest, "exclude: "+err.Error())
			return
		}
	}
	sc.checks = rep.Checks[:0] // keep a grown slice for the next probe
	code := http.StatusOK
	if !rep.Status.OK() {
		code = http.StatusServiceUnavailable
	}
	h := w.Header()
	h["Cache-Control"] = r.hdr.noStore
	h["X-Content-Type-Options"] = r.hdr.nosniff
	buf := &sc.buf
	buf.Reset()
	if q.json {
		h.Set("Content-Type", "application/health+json")
		r.writeJSON(buf, rep)
	} else {
		h["Content-Type"] = r.hdr.text
		label := seg
		if name != "" {
			label = seg + "/" + name
		}
		r.writeText(buf, rep, label, q.verbose || code != http.StatusOK)
	}
	w.WriteHeader(code)
	if req.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// headerValues are the constant header values, allocated once per registry so a probe
// does not allocate them.
type headerValues struct{ noStore, nosniff, text []string }

func newHeaderValues() headerValues {
	return headerValues{[]string{"no-store"}, []string{"nosniff"}, []string{"text/plain; charset=utf-8"}}
}

// scratch is per-request working memory, pooled in Registry.scratch.
type scratch struct {
	checks []CheckResult
	buf    bytes.Buffer
}

type queryOpts struct {
	verbose   bool
	json      bool
	formatSet bool // ?format given: it wins over Accept
	exclude   []string
}

func parseQuery(req *http.Request) (queryOpts, error) {
	var q queryOpts
	vals := req.URL.Query()
	_, q.verbose = vals["verbose"]
	if v := vals.Get("verbose"); v == "0" || v == "false" {
		q.verbose = false
	}
	for _, x := range vals["exclude"] {
		for _, n := range strings.Split(x, ",") {
			if n = strings.TrimSpace(n); n != "" {
				q.exclude = append(q.exclude, n)
			}
		}
	}
	f := vals.Get("format")
	q.formatSet = f != ""
	switch f {
	case "":
	case "json":
		q.json = true
	case "text":
	default:
		return q, errors.New("format " + strconv.Quote(f) + " is not supported; want json or text")
	}
	return q, nil
}

// wantsJSON reports whether an Accept header names application/health+json or
// application/json.
func wantsJSON(accept string) bool {
	if accept == "" {
		return false
	}
	return strings.Contains(accept, "application/health+json") || strings.Contains(accept, "application/json")
}

// writeText writes the Kubernetes-style text answer: "ok" when terse, else one line per
// check ([+] pass, [!] warn, [-] fail) and a summary line.
func (r *Registry) writeText(buf *bytes.Buffer, rep Report, label string, verbose bool) {
	if !verbose {
		buf.WriteString("ok\n")
		return
	}
	var scratch [32]byte
	for _, c := range rep.Checks {
		switch {
		case c.Excluded:
			buf.WriteString("[+]")
			buf.WriteString(c.Name)
			buf.WriteString(" excluded: ok\n")
			continue
		case c.Status == StatusPass:
			buf.WriteString("[+]")
			buf.WriteString(c.Name)
			buf.WriteString(" ok")
		default:
			if c.Status == StatusWarn {
				buf.WriteString("[!]")
				buf.WriteString(c.Name)
				buf.WriteString(" warn: ")
			} else {
				buf.WriteString("[-]")
				buf.WriteString(c.Name)
				buf.WriteString(" failed: ")
			}
			buf.WriteString(r.reason(c))
		}
		if !c.Builtin {
			buf.WriteString(" (")
			buf.Write(appendDuration(scratch[:0], c.Duration))
			buf.WriteByte(')')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString(label)
	if rep.Status.OK() {
		buf.WriteString(" check passed\n")
	} else {
		buf.WriteString(" check failed\n")
	}
}

// reason is the public text for a failed check.
func (r *Registry) reason(c CheckResult) string {
	if c.Err == nil {
		return ""
	}
	if c.Builtin || r.opts.ShowDetails {
		return c.Err.Error()
	}
	return "reason withheld"
}

func appendDuration(b []byte, d time.Duration) []byte {
	return append(b, d.Round(time.Microsecond).String()...)
}

// healthJSON is the application/health+json document (IETF draft "Health Check Response
// Format for HTTP APIs").
type healthJSON struct {
	Status    Status                 `json:"status"`
	Version   string                 `json:"version,omitempty"`
	ServiceID string                 `json:"serviceId,omitempty"`
	Output    string                 `json:"output,omitempty"`
	Checks    map[string][]checkJSON `json:"checks,omitempty"`
}

type checkJSON struct {
	ComponentID   string  `json:"componentId"`
	ComponentType string  `json:"componentType"`
	ObservedValue float64 `json:"observedValue"`
	ObservedUnit  string  `json:"observedUnit"`
	Status        Status  `json:"status"`
	Time          string  `json:"time,omitempty"`
	Output        string  `json:"output,omitempty"`
}

// writeJSON writes rep as application/health+json. Each check is keyed
// "<name>:responseTime" and carries its last duration in milliseconds.
func (r *Registry) writeJSON(buf *bytes.Buffer, rep Report) {
	doc := healthJSON{
		Status:    rep.Status,
		Version:   r.opts.Version,
		ServiceID: r.opts.ServiceID,
		Checks:    make(map[string][]checkJSON, len(rep.Checks)),
	}
	for _, c := range rep.Checks {
		if c.Excluded {
			continue
		}
		cj := checkJSON{
			ComponentID:   c.Name,
			ComponentType: "component",
			ObservedValue: float64(c.Duration.Microseconds()) / 1000,
			ObservedUnit:  "ms",
			Status:        c.Status,
			Output:        r.reason(c),
		}
		if c.Dependency != "" {
			cj.ComponentID, cj.ComponentType = c.Dependency, "system"
		}
		if !c.Time.IsZero() {
			cj.Time = c.Time.UTC().Format(time.RFC3339Nano)
		}
		doc.Checks[c.Name+":responseTime"] = []checkJSON{cj}
		if c.Status == StatusFail && doc.Output == "" {
			doc.Output = c.Name + ": " + r.reason(c)
		}
	}
	_ = json.NewEncoder(buf).Encode(doc)
}

// writeProblem writes an RFC 9457 application/problem+json error, never cached.
func writeProblem(w http.ResponseWriter, r *http.Request, code int, detail string) {
	w.Header().Set("Cache-Control", "no-store")
	problem.Write(w, r, problem.Problem{Type: problem.AboutBlank, Status: code, Detail: detail})
}
