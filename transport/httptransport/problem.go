package httptransport

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ProblemContentType is the media type of RFC 9457 problem details.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object, the body of every error answer.
type Problem struct {
	// Type is a URI naming the problem type; "about:blank" (the default when empty)
	// means the status code says it all.
	Type string `json:"type,omitempty"`
	// Title is a short, human-readable summary of the problem type.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence, for the client. Never internal error text.
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence; Paved puts the request id here.
	Instance string `json:"instance,omitempty"`
	// Errors lists field-level problems of a request, when there are any.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one invalid field of a request: its JSON path and what is wrong.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// WriteProblem writes p as application/problem+json with p.Status (500 when unset),
// filling Title from the status and Instance from the request id of r's context.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Instance == "" && r != nil {
		if id := RequestIDFrom(r.Context()); id != "" {
			p.Instance = "urn:request:" + id
		}
	}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen with these field types
		b = []byte(`{"title":"Internal Server Error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", ProblemContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Encoding")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}
