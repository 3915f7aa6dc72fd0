// Package integration holds the tests that need Paved's parts together: a service
// registering in a real catalog server, the catalog client against the server, and the
// ready-made checks against real drivers. It is a module of its own so that the core's
// go.mod lists nothing only these tests use (the catalog server and its stores, SQLite).
// It has no non-test code.
package integration
