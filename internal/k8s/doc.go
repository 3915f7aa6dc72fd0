// Package k8s reads Kubernetes manifests into the objects Paved writes and checks
// (reduced to the fields it sets or reads) and derives from a Deployment and the
// objects around it the facts the compliance rule kubernetes-manifests evaluates.
//
// It is the one home of that code for `paved manifests`, `paved check --manifests`
// (cmd/paved/internal/manifests) and a running service told where its manifests are
// (compliance/k8sfacts). It imports go.yaml.in/yaml/v3, so nothing a service links by
// default imports it.
//
// Functions here keep no state and are safe for concurrent use.
package k8s
