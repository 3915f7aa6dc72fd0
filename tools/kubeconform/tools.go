//go:build tools

// Package kubeconform pins kubeconform, the Kubernetes manifest validator Paved's CI
// runs on every manifest it ships or generates, against the JSON schemas kept in
// deploy/testdata/schemas (made by genschemas from the module proxy). It is a separate
// module so that its dependencies never reach Paved's.
package kubeconform

import _ "github.com/yannh/kubeconform/cmd/kubeconform"
