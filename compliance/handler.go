package compliance

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/problem"
)

// Media types the [Handler] writes.
const (
	ContentTypeJSON    = "application/json; charset=utf-8"
	ContentTypeText    = "text/plain; charset=utf-8"
	ContentTypeProblem = problem.ContentType
)

// Handler serves the current [Report] at the admin /compliance endpoint: JSON (the
// default, and for Accept: application/json), or text for a person (for Accept:
// text/plain, and for browsers, which ask for text/html). The query ?format=json or
// ?format=text overrides Accept. Answers carry an ETag, so a poller can send
// If-None-Match and get 304 until the report changes. Errors are
// application/problem+json (RFC 9457): 503 before the first evaluation, 405 for methods
// other than GET and HEAD, 406 when Accept allows neither form, 400 for an unknown
// format. A Handler is safe for concurrent use when its report func is.
type Handler struct {
	current func() (Report, bool)
}

// NewHandler returns a Handler serving what current returns. current reports false
// while no report exists yet (the service evaluates after start); a nil current always
// answers 503.
func NewHandler(current func() (Report, bool)) *Handler {
	return &Handler{current: current}
}

// ServeHTTP writes the report in the negotiated form.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed; use GET or HEAD")
		return
	}
	var text bool
	switch f := r.URL.Query().Get("format"); f {
	case "json":
	case "text":
		text = true
	case "":
		var ok bool
		if text, ok = wantsText(r.Header.Values("Accept")); !ok {
			writeProblem(w, r, http.StatusNotAcceptable, "Accept allows neither application/json nor text/plain, the forms /compliance is served in")
			return
		}
	default:
		writeProblem(w, r, http.StatusBadRequest, "query parameter format must be json or text, got "+strconv.Quote(clip(f)))
		return
	}
	var rep Report
	ok := false
	if h.current != nil {
		rep, ok = h.current()
	}
	if !ok {
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, "compliance has not been evaluated yet")
		return
	}
	var body bytes.Buffer
	tag := rep.Hash()
	tag = tag[:min(len(tag), 32)]
	if text {
		_ = rep.WriteText(&body) // a bytes.Buffer does not fail
		w.Header().Set("Content-Type", ContentTypeText)
		tag += "-text"
	} else {
		enc := json.NewEncoder(&body)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			writeProblem(w, r, http.StatusInternalServerError, "the report could not be encoded")
			return
		}
		w.Header().Set("Content-Type", ContentTypeJSON)
		tag += "-json"
	}
	w.Header().Set("ETag", `"`+tag+`"`)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Accept")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body.Bytes()))
}

// wantsText negotiates between JSON and text from Accept header values. It returns
// false in ok when neither is acceptable. With no Accept, or a tie, JSON wins; text/html
// (a browser) counts as asking for text.
func wantsText(accept []string) (text, ok bool) {
	if len(accept) == 0 {
		return false, true
	}
	var ranges []mediaRange
	for _, v := range accept {
		for part := range strings.SplitSeq(v, ",") {
			if mr, ok := parseMediaRange(part); ok {
				ranges = append(ranges, mr)
			}
		}
	}
	if len(ranges) == 0 {
		return false, true
	}
	qJSON := quality(ranges, "application", "json")
	qText := max(quality(ranges, "text", "plain"), quality(ranges, "text", "html"))
	if qJSON <= 0 && qText <= 0 {
		return false, false
	}
	return qText > qJSON, true
}

type mediaRange struct {
	typ, sub string
	q        float64
}

func parseMediaRange(s string) (mediaRange, bool) {
	params := strings.Split(s, ";")
	typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(params[0])), "/")
	if !ok || typ == "" || sub == "" {
		return mediaRange{}, false
	}
	mr := mediaRange{typ: strings.TrimSpace(typ), sub: strings.TrimSpace(sub), q: 1}
	for _, p := range params[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || q < 0 || q > 1 {
				q = 0 // an invalid weight never selects a form
			}
			mr.q = q
		}
	}
	return mr, true
}

// quality returns the q of the most specific range matching typ/sub, 0 when none does.
func quality(ranges []mediaRange, typ, sub string) float64 {
	best, q := 0, 0.0
	for _, r := range ranges {
		spec := 0
		switch {
		case r.typ == typ && r.sub == sub:
			spec = 3
		case r.typ == typ && r.sub == "*":
			spec = 2
		case r.typ == "*" && r.sub == "*":
			spec = 1
		}
		if spec > best {
			best, q = spec, r.q
		}
	}
	return q
}

// writeProblem writes an RFC 9457 problem document, never cached, naming the path.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Cache-Control", "no-store")
	problem.Write(w, r, problem.Problem{Type: problem.AboutBlank, Status: status, Detail: detail, Instance: r.URL.Path})
}
