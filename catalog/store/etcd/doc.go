// Package etcd is a [store.Store] in etcd (go.etcd.io/etcd/client/v3), for a replicated
// catalog: several catalog processes share one etcd cluster and see the same components,
// instances and watches.
//
// Every write is one etcd transaction (plain heartbeats aside, see below), guarded by
// compare-and-swap on the keys it read, so concurrent catalog processes never half-apply
// a change. The change index is the etcd revision.
//
// TTL uses etcd leases, so no catalog process needs to sweep: an instance's record lives
// on a lease of TTL + grace, and an "alive" key on a lease of TTL. A heartbeat renews both.
//
// # Heartbeats
//
// A heartbeat that changes nothing but the time (a plain heartbeat) costs one etcd
// round trip, and reads and writes no key:
//
//   - Each store remembers, per instance, what the last registration or heartbeat through
//     it learned: the record as stored, its two leases, and the etcd revision at which
//     that was true. A plain heartbeat of an instance it remembers is compared with that
//     record in memory.
//   - The two leases are renewed together on LeaseKeepAlive streams the store keeps open
//     (a few, a lease always on the same one), shared by every heartbeat; the answers
//     are matched to the renewals by lease ID. clientv3's KeepAliveOnce would open a
//     gRPC stream per call. A stream that breaks fails the renewals waiting on it, which
//     are sent once more on a new one.
//   - Its time is written with the others the store took, in batches every
//     [FlushInterval] (and at Close), to an "hb" key on the record's lease, each in a
//     nested transaction conditional on the record still being on that lease: a time
//     never outlives or brings back a deleted record. Reads through the store that took
//     a heartbeat see its time at once; other catalog processes see it after the flush.
//
// What a store remembers is kept coherent with writes from every catalog process by one
// watch on the instance keys, from the revision the store started at: a change to an
// instance's record or alive key at a later revision than the one remembered (another
// replica changed, deleted or re-registered it, or it expired) drops the entry, and a
// registration or heartbeat under way keeps what it learned only when the watch saw no
// change after its read. When the watch breaks the store forgets everything and watches
// again from the next revision (from the compaction revision when that history is gone).
// A lease found gone sends the heartbeat down the full path anyway. The full path, taken
// by every heartbeat the store cannot answer from memory and by every registration, is a
// read transaction, the renewals, then a write transaction conditional on the record's
// revision as read, so an instance deleted in between is not re-created. A plain
// heartbeat racing a change made through another catalog process, closer to it than the
// watch's delay (milliseconds), is ordered before that change. The memory this takes is
// one small entry per instance that heartbeats through the store.
//
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
