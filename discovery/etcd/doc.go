// Package etcd is the discovery backend on etcd (go.etcd.io/etcd/client/v3).
//
// # Key layout
//
// Each instance is one key holding the JSON form of its [discovery.Instance]:
//
//	<prefix>/<service>/<instance id>  →  {"id":..., "service":..., "version":...,
//	                                      "addresses":{...}, "status":..., "metadata":{...}}
//
// The prefix defaults to [DefaultPrefix], "/paved/services". Service names are DNS labels
// and instance ids hold no '/', so the layout is unambiguous.
//
// # Registration
//
// [Registrar.Register] grants a lease of the instance's TTL (rounded up to whole
// seconds), puts the key under it and keeps the lease alive with the client's KeepAlive.
// [Registrar.Heartbeat] checks in one transaction that the key still exists under that
// lease and re-puts it when the status changed; when the key or the lease is gone (the
// lease expired while the registry was unreachable, someone deleted the key, the registry
// restarted empty) it returns [discovery.ErrUnknownInstance] and [discovery.Agent]
// registers again, granting a new lease. A process that dies without deregistering stops
// renewing its lease: etcd deletes the key after the TTL and watchers see it go.
// [Registrar.Deregister] deletes the key and revokes the lease.
//
// # Discovery
//
// [Instancer] reads the service's prefix, then watches it from the next revision. After
// a watch error (compaction, lost leader) it reads again and resumes watching from the
// new revision. It also checks every few seconds (see [WithRevisionCheck]) that etcd's
// revision did not go back, as it does when etcd was restarted empty, and reads again
// if so. While etcd is unreachable it keeps the last known set.
//
// [Registrar] and [Instancer] are safe for concurrent use. Neither owns the client: close
// it after them. [NewClient] builds one with settings suited to registration (fast
// reconnection, no log output).
package etcd
