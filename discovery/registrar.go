package discovery

import (
	"context"
	"errors"
)

// ErrUnknownInstance is returned, possibly wrapped, by [Registrar.Heartbeat] when the
// registry does not know the instance: it was never registered, it expired, or the
// registry restarted empty. The caller registers it again.
var ErrUnknownInstance = errors.New("discovery: unknown instance")

// Registrar registers instances in a registry. Unlike go-kit's sd.Registrar, every call
// takes a context that bounds it and returns an error instead of logging it.
// Implementations are safe for concurrent use.
type Registrar interface {
	// Register adds the instance, or replaces the registration with the same service and
	// id. It fails with a [*ValidationError] for an invalid instance.
	Register(ctx context.Context, inst Instance) error
	// Heartbeat tells the registry the instance is alive and carries its current Status.
	// It returns an error matching [ErrUnknownInstance] when the registry forgot it.
	Heartbeat(ctx context.Context, inst Instance) error
	// Deregister removes the instance. Removing an unknown instance is not an error.
	Deregister(ctx context.Context, inst Instance) error
}
