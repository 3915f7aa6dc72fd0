#!/bin/sh
# tools/kubeconform/genschemas.sh: rewrites deploy/testdata/schemas, the JSON schemas
# kubeconform validates Paved's manifests against, from the Go module proxy only: the
# Kubernetes OpenAPI document of k8s.io/kubernetes and the Prometheus Operator's CRDs.
# Only the kinds Paved writes are kept. Run from anywhere; needs network access to the
# module proxy (or a module cache that holds both versions).
set -eu
KUBERNETES=v1.35.4
PROMETHEUS_OPERATOR=v0.85.0
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../deploy/testdata/schemas
k8s=$(cd / && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBERNETES" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
po=$(cd / && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
rm -rf "$out"
cd "$here"
GOWORK=off go run ./genschemas -swagger "$k8s/api/openapi-spec/swagger.json" \
	-crd "$po/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" \
	-out "$out" \
	apps/v1/Deployment v1/Service v1/PersistentVolumeClaim v1/Secret networking.k8s.io/v1/NetworkPolicy policy/v1/PodDisruptionBudget
printf 'Kubernetes %s (k8s.io/kubernetes api/openapi-spec/swagger.json), Prometheus Operator %s (PodMonitor CRD), written by tools/kubeconform/genschemas.sh\n' "$KUBERNETES" "$PROMETHEUS_OPERATOR" >"$out/SOURCE"
