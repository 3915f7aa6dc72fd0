// Package storetest is the conformance suite every [store.Store] implementation passes:
// call [Run] from the implementation's tests with a [Harness] that makes empty stores
// and, for a store that keeps its data, reopens one as a restarted catalog would.
//
// Time-dependent cases (TTL expiry, watch timeouts) use real time APIs; an
// implementation whose clock is time.Now sets [Harness.Synctest] so each case runs in a
// testing/synctest bubble and takes no wall time. An implementation over an outside
// server (etcd) runs with real time, TTLs of 2 s.
package storetest
