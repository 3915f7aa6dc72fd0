package catalog

import "github.com/paved-road/paved/problem"

// ProblemContentType is the media type of a [Problem] document, [problem.ContentType].
const ProblemContentType = problem.ContentType

// Problem is an API error, [problem.Problem] (RFC 9457). The server writes it for every
// 4xx and 5xx answer, with the request path in Instance and, for a rejected body, every
// field problem in Errors; the client returns it inside its error.
type Problem = problem.Problem
