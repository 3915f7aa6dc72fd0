//go:build tools

// Package consul pins the Consul agent binary (github.com/hashicorp/consul) that
// Paved's Consul backend is tested against (consul agent -dev on loopback). It is a
// separate module so that Consul's dependencies never reach the library's go.mod.
package consul

import _ "github.com/hashicorp/consul"
