// Package etcd is a [store.Store] in etcd (go.etcd.io/etcd/client/v3), for a replicated
// catalog: several catalog processes share one etcd cluster and see the same components,
// instances and watches.
//
// Every write is one etcd transaction (plain heartbeats aside, see below), guarded by compare-and-swap on the keys it read, so
// concurrent catalog processes never half-apply a change. The change index is the etcd
// revision.
//
// TTL uses etcd leases, so no catalog process needs to sweep: an instance's record lives
// on a lease of TTL + grace, and an "alive" key on a lease of TTL. A heartbeat renews both.
// A heartbeat that changes nothing but the time does no more than that: its time is
// written with the others the store took, in batches every [FlushInterval] (and at
// Close), to an "hb" key on the record's lease. Reads through the store that took a
// heartbeat see its time at once; other catalog processes see it after the flush. So a
// heartbeat costs a read and two lease renewals, not a write of the record and its watch
// event on every catalog process.
// When the alive key's lease expires the instance is reported critical with Expired set;
// when the record's lease expires the instance is gone. etcd rounds lease TTLs up to its
// minimum (about 2 s with default settings). Watch is an etcd watch on the component's
// keys from the given revision.
//
// A catalog process that starts may follow an outage of every catalog process, during
// which no heartbeat renewed a lease: [New] renews the record lease of every expired
// instance (and of every one whose grace is shorter than its TTL), so that none is
// removed before it had one full TTL to heartbeat again; it stays critical until it
// does. An instance whose record lease ran out during the outage is gone: its agent is
// told so (412) at its next heartbeat and registers again. When other catalog processes
// kept running, a start only keeps dead instances listed critical up to TTL + grace
// longer.
//
// Keys live under [Options.Prefix]:
//
//	<prefix>c/<component>                 the component (JSON)
//	<prefix>i/<component>/<id>/rec        the instance (JSON), lease TTL+grace
//	<prefix>i/<component>/<id>/alive      empty, lease TTL
//	<prefix>i/<component>/<id>/score      the latest scorecard (JSON), lease TTL+grace
//	<prefix>i/<component>/<id>/hb         the latest heartbeat time (RFC 3339), lease TTL+grace
//
// A Store is safe for concurrent use. It does not own the etcd client: close the client
// after the store.
package etcd
