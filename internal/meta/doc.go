// Package meta holds tests that keep the whole module to its own rules: every package
// has a doc.go with a package comment, every exported name has a doc comment, and the
// lean core packages never pull in etcd, Consul or the catalog server. It has no code of
// its own.
package meta
