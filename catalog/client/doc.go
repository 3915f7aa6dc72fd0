// Package client is the Go client of the Paved catalog's REST API (/api/v1), and the
// catalog's backend for package discovery: a [Registrar] that registers a service's
// component, instance and compliance scorecard and heartbeats it, and an [Instancer]
// that watches a component's healthy instances with the catalog's long poll, so client
// side load balancing learns of changes within a second.
//
// Heartbeats are PUTs with If-Match: * ([Client.HeartbeatInstance]): the catalog
// refuses them with 412 for an instance it does not hold (deregistered, expired, or the
// catalog restarted empty), which the [Registrar] reports as
// discovery.ErrUnknownInstance so that the agent registers again. The [Instancer]
// reports a component the catalog does not know as an empty set, not as an error.
//
// A [Client] is safe for concurrent use; its zero value is not usable: build it with
// [New]. Errors from the catalog are [*Error] values carrying the RFC 9457 problem the
// catalog answered; errors.Is matches [ErrNotFound], [ErrUnauthorized], [ErrForbidden]
// and [ErrNotRegistered].
package client
