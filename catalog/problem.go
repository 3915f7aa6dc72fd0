package catalog

import "fmt"

// ProblemContentType is the media type of a [Problem] document (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an API error, written as application/problem+json (RFC 9457). The server
// writes it for every 4xx and 5xx answer; the client returns it as an error.
type Problem struct {
	// Type is a URI reference naming the problem type; empty means "about:blank".
	Type string `json:"type,omitempty"`
	// Title is a short summary of the problem type, such as "Bad Request".
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence for the client.
	Detail string `json:"detail,omitempty"`
	// Instance is a URI reference to this occurrence, usually the request path.
	Instance string `json:"instance,omitempty"`
	// Errors is an extension member listing every field problem of a rejected body.
	Errors []FieldError `json:"errors,omitempty"`
}

// Error returns "catalog: <status> <title>: <detail>".
func (p *Problem) Error() string {
	s := fmt.Sprintf("catalog: %d %s", p.Status, p.Title)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}
