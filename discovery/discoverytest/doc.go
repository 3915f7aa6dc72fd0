// Package discoverytest is the conformance suite every discovery backend passes: [Run]
// registers, heartbeats, changes readiness, deregisters and watches through a backend's
// [discovery.Registrar] and instancer, and runs a [discovery.Agent] on it, asserting what
// clients rely on.
//
// It is for tests only. [Run] is safe to call from parallel tests when each call's
// backend is isolated (its own key prefix or server).
package discoverytest
