// Package catalog holds the service catalog's domain and API types, shared by the catalog
// server, its stores and its Go client: [Component] (what a service is and who owns it),
// [Instance] (where a copy of it runs and whether it is ready), [Scorecard] (its latest
// compliance report), [ComponentFilter], and the [Problem] document (RFC 9457) every API
// error is written as.
//
// It is also the home of the vocabulary other packages share: the name rule
// [IsDNSLabel], an instance's [Status] (discovery.Status is this type) and a component's
// [Links] (compliance.Links and service.Links are this type).
//
// The package does no I/O and imports nothing else of Paved but package problem.
//
// # Validation
//
// Every type a client writes has a Validate method that returns nil or a
// [*ValidationError] listing every problem at once, each with the JSON path of the field
// and what would be valid, for example
//
//	links.runbook: must be an http or https URL, got "ftp://example.com"
//
// The catalog server (package catalog/server, its own module) decodes write bodies
// strictly before it calls Validate: unknown fields, duplicate keys, trailing data, too
// deep nesting and bodies over the limit are refused with the field named.
//
// # Concurrency and zero values
//
// The types are plain values: safe for concurrent reads, not for concurrent writes. The
// zero Component or Instance is not valid (a name is required); [Component.WithDefaults]
// fills the optional fields a registration may leave out. The zero [ComponentFilter]
// matches every component.
package catalog
