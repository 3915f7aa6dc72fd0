package httptransport

import (
	"net/http"

	"github.com/paved-road/paved/problem"
)

// ProblemContentType is the media type of RFC 9457 problem details, [problem.ContentType].
const ProblemContentType = problem.ContentType

// Problem is an RFC 9457 problem details object, the body of every error answer: the
// one type of package problem, named here so a transport user needs no other import.
// Paved puts the request id in Instance.
type Problem = problem.Problem

// FieldError is one invalid field of a request, [problem.FieldError]: its JSON path in
// Field and what is wrong in Detail.
type FieldError = problem.FieldError

// WriteProblem writes p with [problem.Write], filling Instance from the request id of
// r's context ("urn:request:<id>") when empty.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Instance == "" && r != nil {
		if id := RequestIDFrom(r.Context()); id != "" {
			p.Instance = "urn:request:" + id
		}
	}
	problem.Write(w, r, p)
}
