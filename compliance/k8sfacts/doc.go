// Package k8sfacts reads a service's Kubernetes manifests into the facts the compliance
// rule kubernetes-manifests evaluates, so that a running service told where its
// manifests are shows the rule passing or failing in /compliance and in the catalog's
// scorecard, checked against the settings it really runs with.
//
// A team embeds its deploy/ directory and links the reader with a service option:
//
//	//go:embed deploy
//	var deploy embed.FS
//
//	service.Main(info, setup, service.WithManifests(k8sfacts.FS(deploy)))
//
// or reads them from a directory mounted into the pod with [Dir]. The Deployment that
// runs the service is the one named after it (SERVICE_NAME, or Info.Name), or the one
// whose pod template carries the label app.kubernetes.io/name with that name; the
// PodMonitors, ServiceMonitors and Services beside it say how its metrics are scraped.
// `paved check --manifests` reads manifests with the same code.
//
// The package imports a YAML decoder: a service that does not link it does not carry
// one. Functions here keep no state and are safe for concurrent use.
package k8sfacts
