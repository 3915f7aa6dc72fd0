package server

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/paved-road/paved/catalog"
)

// guard refuses, before the handler runs, what no API operation accepts: more than one
// Authorization header (400: which one would count is ambiguous, and proxies disagree),
// and a write whose body is not JSON (415: its Content-Type must be application/json,
// with no parameter but charset=utf-8).
func (s *Server) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n := len(r.Header.Values("Authorization")); n > 1 {
			s.problem(w, r, http.StatusBadRequest, "the request has "+strconv.Itoa(n)+" Authorization headers: send one", nil)
			return
		}
		switch r.Method {
		case http.MethodPut, http.MethodPost, http.MethodPatch:
			if why := jsonContentType(r.Header.Values("Content-Type")); why != "" {
				w.Header().Set("Accept", "application/json")
				s.problem(w, r, http.StatusUnsupportedMediaType, "the body must be JSON: "+why, nil)
				return
			}
		}
		h(w, r)
	}
}

// jsonContentType says why the Content-Type header values do not declare a JSON body,
// or "".
func jsonContentType(values []string) string {
	const want = "Content-Type must be application/json (charset=utf-8 is the only parameter allowed)"
	switch len(values) {
	case 0:
		return want + ", got none"
	case 1:
	default:
		return want + ", got " + strconv.Itoa(len(values)) + " Content-Type headers"
	}
	mt, params, err := mime.ParseMediaType(values[0])
	if err != nil || mt != "application/json" {
		return want + ", got " + strconv.Quote(catalog.Clip(values[0]))
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return want + ", got " + strconv.Quote(catalog.Clip(values[0]))
		}
	}
	return ""
}
