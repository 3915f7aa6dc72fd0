//go:build tools

// Package nats pins the NATS server binary (github.com/nats-io/nats-server/v2) that
// Paved's messaging binding (transport/messaging/natsjs) is tested against
// (nats-server -js on loopback). It is a separate module so that the server's
// dependencies never reach the library's go.mod or any module a service imports.
package nats

import _ "github.com/nats-io/nats-server/v2"
