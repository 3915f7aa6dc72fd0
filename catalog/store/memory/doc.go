// Package memory is a [store.Store] kept in memory, for tests and local development:
// everything is lost when the process ends.
//
// A background sweep, every [Options.SweepInterval], marks instances that missed their TTL
// critical and removes them after the grace period; [Store.Close] stops it.
//
// A Store is safe for concurrent use. Create one with [New]; the zero Store is not usable.
package memory
