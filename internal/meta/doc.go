// Package meta keeps every module of the workspace to the project's rules: every
// package has a doc.go with a package comment and a runnable Example, every exported
// name has a doc comment, and every import is one the layering table ([Layers]) allows,
// so the core never pulls in etcd, Consul or the catalog server. The table is its only
// code; the rest is tests.
package meta
