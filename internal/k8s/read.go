package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"go.yaml.in/yaml/v3"
)

// Document is one YAML document of a manifest file.
type Document struct {
	File   string // the file it came from
	Header Header
	node   *yaml.Node
}

// ReadDir reads every *.yaml and *.yml file of fsys, each document of each.
func ReadDir(fsys fs.FS) ([]Document, error) {
	var docs []Document
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ds, err := Parse(p, b)
		docs = append(docs, ds...)
		return err
	})
	return docs, err
}

// Parse splits b, the content of file, into its documents; empty ones are dropped.
func Parse(file string, b []byte) ([]Document, error) {
	var docs []Document
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, fmt.Errorf("%s: %w", file, err)
		}
		if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			continue
		}
		d := Document{File: file, node: &n}
		if err := n.Decode(&d.Header); err != nil {
			return docs, fmt.Errorf("%s: %w", file, err)
		}
		if d.Header.Kind == "" {
			return docs, fmt.Errorf("%s:%d: a document without kind", file, n.Line)
		}
		docs = append(docs, d)
	}
}

// Decode decodes the document into v.
func (d Document) Decode(v any) error {
	if err := d.node.Decode(v); err != nil {
		return fmt.Errorf("%s: %s %s: %w", d.File, d.Header.Kind, d.Header.Metadata.Name, err)
	}
	return nil
}

// Located is an object with the file it was read from.
type Located[T any] struct {
	File   string
	Object T
}

// Set is what the facts and checks read of a set of manifests: its Deployments and
// Services with their files, and the Prometheus Operator's monitors.
type Set struct {
	Deployments     []Located[Deployment]
	Services        []Located[Service]
	PodMonitors     []PodMonitor
	ServiceMonitors []ServiceMonitor
}

// Collect decodes the Deployments, Services, PodMonitors and ServiceMonitors among docs;
// other kinds are skipped. A document that does not decode is an error.
func Collect(docs []Document) (Set, error) {
	var s Set
	for _, d := range docs {
		var err error
		switch d.Header.Kind {
		case "Deployment":
			var v Deployment
			err = d.Decode(&v)
			s.Deployments = append(s.Deployments, Located[Deployment]{d.File, v})
		case "Service":
			var v Service
			err = d.Decode(&v)
			s.Services = append(s.Services, Located[Service]{d.File, v})
		case "PodMonitor":
			var v PodMonitor
			err = d.Decode(&v)
			s.PodMonitors = append(s.PodMonitors, v)
		case "ServiceMonitor":
			var v ServiceMonitor
			err = d.Decode(&v)
			s.ServiceMonitors = append(s.ServiceMonitors, v)
		}
		if err != nil {
			return Set{}, err
		}
	}
	return s, nil
}
