package problem

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// ContentType is the media type of a [Problem] document (RFC 9457).
const ContentType = "application/problem+json"

// AboutBlank is the [Problem.Type] that means the status code says it all; an empty
// Type means the same.
const AboutBlank = "about:blank"

// Problem is an RFC 9457 problem details document, the body of every error answer.
type Problem struct {
	// Type is a URI reference naming the problem type; empty means [AboutBlank].
	Type string `json:"type,omitempty"`
	// Title is a short summary of the problem type, such as "Bad Request". [Write]
	// fills it from the status when empty.
	Title string `json:"title"`
	// Status is the HTTP status code. [Write] uses 500 when it is 0.
	Status int `json:"status"`
	// Detail explains this occurrence for the client. Never internal error text: the
	// cause belongs in the server's log.
	Detail string `json:"detail,omitempty"`
	// Instance is a URI reference to this occurrence: the request path, or a request id.
	Instance string `json:"instance,omitempty"`
	// Errors is an extension member listing every invalid field of a rejected request.
	Errors []FieldError `json:"errors,omitempty"`
}

// Error returns "problem: <status> <title>: <detail>", so a Problem a client decoded can
// be returned as an error.
func (p *Problem) Error() string {
	s := fmt.Sprintf("problem: %d %s", p.Status, p.Title)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// FieldError is one problem with one field of a request: where it is and what is wrong,
// including what would be valid. Validation errors of Paved's packages list their
// problems as FieldErrors, and a [Problem] carries them in Errors.
//
// Detail (RFC 9457's member name, used by the services' endpoints) and Message (the
// name the catalog's API v1 and compliance's rule files use) are the same thing spelled
// the two ways Paved's answers carry it; a FieldError sets one of them, and [FieldError.Text]
// returns whichever is set. Both are kept so that neither wire format changes.
type FieldError struct {
	// Field is the JSON path of the field, such as "links.runbook", "dependsOn[2]" or
	// "labels[team]"; empty for a problem with the request as a whole.
	Field string `json:"field,omitempty"`
	// Detail says what is wrong, as services' endpoints write it.
	Detail string `json:"detail,omitempty"`
	// Message says what is wrong, as the catalog's API and compliance write it.
	Message string `json:"message,omitempty"`
}

// Text returns what is wrong: Detail, or Message when Detail is empty.
func (e FieldError) Text() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Message
}

// String returns "field: text", or the text alone when Field is empty.
func (e FieldError) String() string {
	if e.Field == "" {
		return e.Text()
	}
	return e.Field + ": " + e.Text()
}

// Write writes p as application/problem+json with p.Status (500 when 0) and p.Title
// (the status text when empty). It sets Content-Type, Content-Length and
// X-Content-Type-Options: nosniff, and removes a Content-Encoding an earlier middleware
// may have set; headers the caller set before (Allow, Retry-After, Cache-Control...) are
// kept. For a HEAD request (r may be nil) the body is left out.
func Write(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen with these field types
		p = Problem{Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError}
		b, _ = json.Marshal(p)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Encoding")
	w.WriteHeader(p.Status)
	if r != nil && r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

// MaxBytes is the most of an answer's body [FromResponse] reads.
const MaxBytes = 64 << 10

// FromResponse decodes the problem document of resp, an error answer a client
// received. It reports false, and reads nothing, when resp is not
// application/problem+json; it reads at most [MaxBytes] of the body and reports false
// when that is not a problem document. The caller still closes the body.
func FromResponse(resp *http.Response) (*Problem, bool) {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != ContentType {
		return nil, false
	}
	var p Problem
	if err := json.NewDecoder(io.LimitReader(resp.Body, MaxBytes)).Decode(&p); err != nil {
		return nil, false
	}
	return &p, true
}
