// Package apicheck reads the API definitions Paved services publish (OpenAPI 3,
// protobuf FileDescriptorSets of gRPC services, AsyncAPI 3) and finds the changes of a
// new version that break the consumers of the one before. It is the one home of that
// check: the catalog runs it when a new version registers, and `paved api check` runs
// it in a pipeline before deploying.
//
// OpenAPI documents are compared by github.com/oasdiff/oasdiff's breaking-change
// checker (its changes of level error). Protobuf descriptors are compared by
// [Check] itself: removed services, methods, messages and fields, a method whose
// request or response type or streaming changed, a field whose number, type or
// cardinality changed. AsyncAPI documents: removed channels and messages.
//
// It lives in the catalog server's module, not in the core module: a service that
// imports only package service must not link oasdiff and kin-openapi.
package apicheck
