// Command genschemas writes the JSON schemas kubeconform validates Paved's manifests
// against, offline, from sources on the Go module proxy: the Kubernetes OpenAPI v2
// document (api/openapi-spec/swagger.json of the k8s.io/kubernetes module) for the
// built-in kinds, and the Prometheus Operator's CRDs (example/prometheus-operator-crd of
// its module) for PodMonitor. It does what kubeconform's openapi2jsonschema does for
// its schema registry, in the "standalone-strict" flavour: every $ref inlined, objects
// with properties closed (additionalProperties: false, as kubectl's validation), and
// int-or-string fields made oneOf string or integer (quantities string or number).
//
//	go run ./genschemas -swagger SWAGGER.json -crd CRD.yaml... -out DIR KIND...
//
// KIND is group/version/Kind, such as apps/v1/Deployment or v1/Service.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

type crdFlag []string

func (c *crdFlag) String() string     { return strings.Join(*c, ",") }
func (c *crdFlag) Set(s string) error { *c = append(*c, s); return nil }

func main() {
	swagger := flag.String("swagger", "", "Kubernetes swagger.json")
	out := flag.String("out", "", "directory to write the schemas into")
	var crds crdFlag
	flag.Var(&crds, "crd", "a CustomResourceDefinition YAML file; repeatable")
	flag.Parse()
	if err := run(*swagger, crds, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "genschemas:", err)
		os.Exit(1)
	}
}

func run(swaggerPath string, crds []string, out string, kinds []string) error {
	if swaggerPath == "" || out == "" {
		return errors.New("-swagger and -out are required")
	}
	b, err := os.ReadFile(swaggerPath)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", swaggerPath, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, k := range kinds {
		i := strings.LastIndex(k, "/")
		gv, kind := k[:i], k[i+1:]
		group, version := "", gv
		if j := strings.LastIndex(gv, "/"); j >= 0 {
			group, version = gv[:j], gv[j+1:]
		}
		name, def := find(doc.Definitions, group, version, kind)
		if def == nil {
			return fmt.Errorf("no definition of %s in %s", k, swaggerPath)
		}
		schema, err := inline(doc.Definitions, def, []string{name})
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if err := write(out, kind, group, version, schema); err != nil {
			return err
		}
	}
	for _, path := range crds {
		if err := crd(out, path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// find returns the definition carrying the group, version and kind.
func find(defs map[string]map[string]any, group, version, kind string) (string, map[string]any) {
	for name, d := range defs {
		gvks, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			m, _ := g.(map[string]any)
			if m["group"] == group && m["version"] == version && m["kind"] == kind {
				return name, d
			}
		}
	}
	return "", nil
}

// inline returns v with every $ref replaced by the definition it names, recursively;
// stack holds the definitions being inlined, to refuse a cycle.
func inline(defs map[string]map[string]any, v any, stack []string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if ref, ok := t["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/definitions/")
			if name == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
				// A quantity is written as a string ("256Mi") or a number (1), as
				// the API server reads it.
				return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}, nil
			}
			for _, s := range stack {
				if s == name {
					return nil, fmt.Errorf("a cycle through %s: %s", name, strings.Join(stack, " > "))
				}
			}
			d, ok := defs[name]
			if !ok {
				return nil, fmt.Errorf("$ref %s is not defined", ref)
			}
			return inline(defs, d, append(stack, name))
		}
		out := map[string]any{}
		for k, e := range t {
			if k == "x-kubernetes-group-version-kind" {
				out[k] = e
				continue
			}
			r, err := inline(defs, e, stack)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			r, err := inline(defs, e, stack)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// strict closes every object with properties and makes int-or-string fields a oneOf,
// as openapi2jsonschema does with DENY_ROOT_ADDITIONAL_PROPERTIES (the root closed too,
// so a misspelt top-level field fails).
func strict(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t["format"] == "int-or-string" || t["x-kubernetes-int-or-string"] == true {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
		}
		out := map[string]any{}
		for k, e := range t {
			if k == "properties" {
				props := map[string]any{}
				for pk, pv := range e.(map[string]any) {
					props[pk] = strict(pv)
				}
				out[k] = props
				continue
			}
			out[k] = strict(e)
		}
		if _, ok := t["properties"]; ok {
			if _, has := t["additionalProperties"]; !has {
				out["additionalProperties"] = false
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = strict(e)
		}
		return out
	}
	return v
}

// write writes the schema as kubeconform's registry names it:
// kind[-group]-version.json, lower-cased, the group cut at its first dot.
func write(out, kind, group, version string, schema any) error {
	name := strings.ToLower(kind)
	if group != "" {
		name += "-" + strings.ToLower(strings.Split(group, ".")[0])
	}
	name += "-" + strings.ToLower(version) + ".json"
	b, err := json.Marshal(strict(schema))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, name), append(b, '\n'), 0o644)
}

// crd writes the schema of every version of the CRD in path.
func crd(out, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var c struct {
		Kind string `json:"kind"`
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return err
	}
	if c.Kind != "CustomResourceDefinition" || len(c.Spec.Versions) == 0 {
		return errors.New("not a CustomResourceDefinition with versions")
	}
	for _, v := range c.Spec.Versions {
		if v.Schema.OpenAPIV3Schema == nil {
			return fmt.Errorf("version %s has no openAPIV3Schema", v.Name)
		}
		if err := write(out, c.Spec.Names.Kind, c.Spec.Group, v.Name, v.Schema.OpenAPIV3Schema); err != nil {
			return err
		}
	}
	return nil
}
