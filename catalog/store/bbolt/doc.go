// Package bbolt is a [store.Store] in a local bbolt file (go.etcd.io/bbolt), the catalog's
// default store.
//
// Every write is one bbolt read-write transaction, fsynced before the call returns: an
// acknowledged write survives kill -9 and power loss. Concurrent registrations are
// grouped into one transaction and one fsync (bbolt's Batch, [Options.BatchDelay]).
// A heartbeat that changes nothing but the heartbeat time is not a transaction: it is
// kept in memory, seen by every read at once, and written by the next sweep (one
// transaction for all of them, every [Options.SweepInterval]) and by Close. After a crash
// an instance's last heartbeat may thus be up to one sweep interval older; a new or
// changed registration is never lost. The change index is stored in the file and keeps
// growing across restarts.
//
// A background sweep, every [Options.SweepInterval], marks instances that missed their
// TTL critical and removes them after the grace period. After a restart, instances whose
// TTL passed while the catalog was down expire on the first sweep.
//
// A Store is safe for concurrent use; one file can be open in one process at a time.
package bbolt
