// Package store defines [Store], where the catalog keeps its components, instances and
// scorecards, and the rules every implementation follows:
//
//   - Every call is one transaction: it is applied completely or not at all.
//   - Values are validated before anything is written; invalid input returns the
//     [*catalog.ValidationError] of the value's Validate method.
//   - A missing component or instance is reported with an error that wraps [ErrNotFound].
//   - [Store.HeartbeatInstance] refreshes only an instance that exists, checking and
//     writing in one atomic step, so a heartbeat racing a deregistration never
//     re-creates the instance; [Store.GetInstance] reads one instance without listing
//     its component.
//   - The store keeps a change index that grows with every change. [Store.Instances]
//     returns it with the instance set; [Store.Watch] with that index blocks until the set
//     changes: an instance joins or leaves, or changes status, version, addresses, TTL or
//     metadata. A heartbeat that changes nothing but the heartbeat time wakes no watcher.
//   - TTL: an instance that is not heartbeated for its TTL is reported critical with
//     Expired set, and is removed after a grace period (by default its TTL). Both changes
//     wake watchers. A heartbeat before removal revives it.
//   - Restart: a store reopened on old data (a catalog restarted after an outage) never
//     lists passing an instance whose last heartbeat is older than its TTL (it is
//     critical with Expired set until it heartbeats), and removes no instance before it
//     had one full TTL after the reopening to heartbeat again.
//
// Implementations: store/memory (for tests and development), store/bbolt (a local file,
// the default: every acknowledged write is fsynced), store/etcd (several catalog
// processes over one etcd cluster; TTLs are etcd leases). store/storetest is the
// conformance suite all three pass.
//
// Implementations are safe for concurrent use.
package store
