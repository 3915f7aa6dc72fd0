// Package core holds what the catalog store implementations share: the stored form of an
// instance, the TTL state machine, change detection and a broadcast for watchers.
//
// Functions are pure; [Hub] is safe for concurrent use and its zero value is ready.
package core
