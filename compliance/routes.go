package compliance

import (
	"slices"
	"strings"
)

func checkRoutesDocumented(f Facts) Result {
	var ops []string
	published := false
	for _, a := range f.APIs {
		if a.Kind == "openapi" {
			published = true
			ops = append(ops, a.Operations...)
		}
	}
	switch {
	case !published:
		return NotApplicable("no OpenAPI document published")
	case f.HTTPRoutes == nil:
		return NotApplicable("routes not observed: the service serves its own handler")
	}
	var missing []string
	for _, r := range f.HTTPRoutes {
		if !RouteDocumented(r, ops) {
			missing = append(missing, clip(r))
		}
	}
	if len(missing) > 0 {
		return Fail("%d of %d routes missing from the OpenAPI document: %s", len(missing), len(f.HTTPRoutes), strings.Join(missing, ", "))
	}
	return Pass("%d routes, each in the OpenAPI document", len(f.HTTPRoutes))
}

// RouteDocumented reports whether the route of a Go ServeMux pattern
// ("[METHOD ][HOST]/path", with {name}, {name...} and {$} wildcards) is among the
// OpenAPI operations ops ("METHOD /path/{param}"). Path segments match when both are
// the same literal or both a wildcard; {name...} matches whatever is left, a pattern
// ending in '/' (a subtree) matches every path below it, and {$} only the path ending
// in '/'. A pattern without a method matches an operation of any method; GET matches
// get or head.
func RouteDocumented(pattern string, ops []string) bool {
	method, rest, ok := strings.Cut(pattern, " ")
	if !ok {
		method, rest = "", pattern
	}
	rest = strings.TrimLeft(rest, " \t")
	if i := strings.IndexByte(rest, '/'); i > 0 {
		rest = rest[i:] // drop the host
	}
	route := routeSegments(rest)
	for _, op := range ops {
		m, path, ok := strings.Cut(op, " ")
		if !ok {
			continue
		}
		switch {
		case method == "" || strings.EqualFold(m, method):
		case method == "GET" && strings.EqualFold(m, "HEAD"):
		default:
			continue
		}
		if route.matches(strings.Split(path, "/")) {
			return true
		}
	}
	return false
}

// segments is a ServeMux pattern's path, split at '/'.
type segments struct {
	parts   []string // "" for a wildcard
	rest    bool     // ends with {name...}
	subtree bool     // ends with '/' without {$}
}

func routeSegments(path string) segments {
	var s segments
	parts := strings.Split(path, "/")
	for i, p := range parts {
		last := i == len(parts)-1
		switch {
		case last && p == "{$}":
			s.parts = append(s.parts, "")
			return s
		case last && p == "" && i > 0:
			s.subtree = true
			s.parts = append(s.parts, "")
			return s
		case last && strings.HasPrefix(p, "{") && strings.HasSuffix(p, "...}"):
			s.rest = true
			return s
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			s.parts = append(s.parts, "\x00")
		default:
			s.parts = append(s.parts, p)
		}
	}
	return s
}

// matches reports whether the OpenAPI path split at '/' is the route.
func (s segments) matches(doc []string) bool {
	for i := range doc {
		if strings.Contains(doc[i], "{") {
			doc[i] = "\x00"
		}
	}
	switch {
	case s.rest:
		return len(doc) >= len(s.parts) && slices.Equal(doc[:len(s.parts)], s.parts)
	case s.subtree:
		// "/static/" is doc "/static/" or any path below it.
		n := len(s.parts) - 1
		return len(doc) > n && slices.Equal(doc[:n], s.parts[:n])
	}
	return slices.Equal(doc, s.parts)
}
