// Command catalog is the catalog's load tool: for each instance count it starts the
// catalog program (cmd/catalog, bbolt store, in a fresh data directory) as a separate
// process on loopback, registers N simulated instances over N/10 components through
// catalog/client, and heartbeats each every TTL/3 (If-Match: * heartbeats, as agents
// send them), spread evenly over the interval. Watchers long-poll one component while
// one of its instances changes version twice a second. After a warm-up of one
// heartbeat interval it measures, for a fixed window:
//
//   - heartbeat latency (p50, p99, max), from sending to the answer;
//   - watch delivery latency (p50, p99), from sending the change to a watcher holding
//     the new set;
//   - the catalog's CPU (utime+stime from /proc/<pid>/stat over the window, as a share
//     of one core) and its RSS (VmRSS and VmHWM from /proc/<pid>/status) at the end.
//
// Run it from the module root:
//
//	go run ./bench/catalog -n 1000,10000 -ttl 30s -duration 30s
//
// On etcd (-etcd URL, or -etcd start to have the tool start etcd from the PATH on free
// loopback ports in a temporary directory, a fresh one per measurement, stopped after
// it) it also reports etcd's CPU when it started etcd. -baseline BIN measures a second
// catalog binary (one built from an earlier commit) after each -n in the same run and
// prints the ratios; -rounds R repeats each pair R times, who goes first alternating, and
// prints the median ratios. -replicas K runs K catalog processes over the one etcd (instance i
// heartbeats through replica i mod K and moves to the next when its replica does not
// answer, as behind a load balancer), and -kill SIGKILLs the first in the middle of the
// window, then counts the instances each survivor lists as live and the changes the
// watchers on the survivors saw against those made:
//
//	go run ./bench/catalog -n 10000 -ttl 30s -duration 30s -etcd start
//	go run ./bench/catalog -n 3000 -ttl 10s -duration 30s -etcd start -replicas 3 -kill
//
// Two other modes: -noisy measures other clients beside one client with thousands of
// connections (issue #15's per-client limits), and -churn runs reliability test L3:
//
//	go run ./bench/catalog -n 1000 -churn 0.1 -duration 10m
//
// N instances heartbeat while a tenth of them deregister and as many new ones register
// every minute; it counts false expirations (a heartbeat answered 412, or a live
// instance missing, expired or critical in a watcher's set; one watcher per component)
// and measures registration and watch delivery latency and the catalog's RSS from the
// end of the warm-up (-churn-warmup) to the end.
//
// Every loop is bounded by the window and by a count; everything stays on 127.0.0.1.
// bench/catalog/README.md has the figures.
package main
