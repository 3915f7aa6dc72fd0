// Package problem is Paved's one home for RFC 9457 problem details: the [Problem]
// document every error answer of a Paved HTTP endpoint is written as
// (application/problem+json), the [FieldError] that names one invalid field of a
// request, [Write] for servers and [FromResponse] for clients.
//
// The health endpoints, the admin /compliance endpoint, the catalog's API and the
// services' own endpoints (package transport/httptransport) all write their errors
// through [Write], so a client reads every Paved error the same way.
//
// The package imports only the standard library, so any package of Paved may use it.
// Its types are plain values: safe for concurrent reads. The zero Problem is written as
// a 500 Internal Server Error.
package problem
