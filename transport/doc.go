// Package transport is the home of Paved's transports: [httptransport] for HTTP servers
// and clients on go-kit, and grpctransport for gRPC. This package itself holds no code;
// it names the family, so that its members never clash with net/http or grpc.
//
// [httptransport]: https://pkg.go.dev/github.com/paved-road/paved/transport/httptransport
package transport
