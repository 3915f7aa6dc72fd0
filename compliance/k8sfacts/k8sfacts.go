package k8sfacts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/internal/k8s"
)

// nameLabel is the recommended Kubernetes label naming the application a pod runs.
const nameLabel = "app.kubernetes.io/name"

// Read reads every *.yaml and *.yml file of fsys and returns the facts of the Deployment
// that runs the service name: the one named name, else the one whose pod template is
// labelled app.kubernetes.io/name=name. Manifests that do not parse, and no such
// Deployment or more than one, are errors naming the files and the Deployments found.
func Read(fsys fs.FS, name string) (*compliance.Kubernetes, error) {
	docs, err := k8s.ReadDir(fsys)
	if err != nil {
		return nil, fmt.Errorf("k8sfacts: reading the manifests: %w", err)
	}
	set, err := k8s.Collect(docs)
	if err != nil {
		return nil, fmt.Errorf("k8sfacts: %w", err)
	}
	var found []string
	var byName, byLabel []k8s.Located[k8s.Deployment]
	for _, d := range set.Deployments {
		found = append(found, k8s.Where(d))
		switch {
		case d.Object.Metadata.Name == name:
			byName = append(byName, d)
		case d.Object.Spec.Template.Metadata.Labels[nameLabel] == name:
			byLabel = append(byLabel, d)
		}
	}
	match := byName
	if len(match) == 0 {
		match = byLabel
	}
	switch len(match) {
	case 1:
		return k8s.Facts(match[0], set), nil
	case 0:
		if len(found) == 0 {
			return nil, fmt.Errorf("k8sfacts: no Deployment among the %d objects of the manifests; want one named %q", len(docs), name)
		}
		return nil, fmt.Errorf("k8sfacts: no Deployment named %q or labelled %s=%s among %s", name, nameLabel, name, strings.Join(found, ", "))
	}
	var many []string
	for _, d := range match {
		many = append(many, k8s.Where(d))
	}
	return nil, fmt.Errorf("k8sfacts: %d Deployments run the service %q: %s; give the service the manifests of one environment", len(match), name, strings.Join(many, ", "))
}

// FS returns a reader for service.WithManifests that reads the manifests in fsys, such
// as a deploy/ directory embedded with //go:embed.
func FS(fsys fs.FS) func(name string) (*compliance.Kubernetes, error) {
	return func(name string) (*compliance.Kubernetes, error) {
		if fsys == nil {
			return nil, errors.New("k8sfacts: FS was given a nil file system")
		}
		return Read(fsys, name)
	}
}

// Dir returns a reader for service.WithManifests that reads the manifests under dir,
// such as a ConfigMap mounted into the pod.
func Dir(dir string) func(name string) (*compliance.Kubernetes, error) {
	return func(name string) (*compliance.Kubernetes, error) {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("k8sfacts: the manifests directory: %w", err)
		}
		k, err := Read(os.DirFS(dir), name)
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, dir)
		}
		return k, nil
	}
}
