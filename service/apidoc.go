package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// openAPIMethods are the operations a path item may hold (OpenAPI 3.0 to 3.2).
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"}

// parseAPIDocument checks the structure of an OpenAPI or AsyncAPI document in JSON,
// without an OpenAPI library (a service that publishes none links none): the version
// field (3.x), info.title and info.version, and for OpenAPI the paths, each starting
// with '/', and their members. It returns the document's version and, for OpenAPI, its
// operations as "METHOD /path", sorted.
func parseAPIDocument(kind APIKind, b []byte) (apiDocument, error) {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return apiDocument{}, fmt.Errorf("must be a %s document in JSON (the service links no YAML parser: convert a YAML file with `yq -o=json`), got %q", kind, clipBytes(t))
	}
	var doc struct {
		OpenAPI  *string `json:"openapi"`
		AsyncAPI *string `json:"asyncapi"`
		Info     *struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"info"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return apiDocument{}, fmt.Errorf("is not a %s document: %v", kind, err)
	}
	var errs []string
	field, v := "openapi", doc.OpenAPI
	if kind == APIKindAsyncAPI {
		field, v = "asyncapi", doc.AsyncAPI
	}
	if v == nil || !strings.HasPrefix(*v, "3.") {
		got := "none"
		if v != nil {
			got = fmt.Sprintf("%q", clipBytes([]byte(*v)))
		}
		errs = append(errs, fmt.Sprintf("%s: must be a version 3 such as \"3.1.0\", got %s", field, got))
	}
	var out apiDocument
	if doc.Info == nil {
		errs = append(errs, "info: is required, with title and version")
	} else {
		if strings.TrimSpace(doc.Info.Title) == "" {
			errs = append(errs, "info.title: is required")
		}
		if strings.TrimSpace(doc.Info.Version) == "" {
			errs = append(errs, "info.version: is required")
		}
		out.version = doc.Info.Version
	}
	if kind == APIKindOpenAPI {
		if doc.Paths == nil && v != nil && strings.HasPrefix(*v, "3.0") {
			errs = append(errs, "paths: is required in OpenAPI 3.0")
		}
		for _, path := range slices.Sorted(maps.Keys(doc.Paths)) {
			if !strings.HasPrefix(path, "/") {
				errs = append(errs, fmt.Sprintf("paths[%q]: must start with '/'", path))
				continue
			}
			for _, m := range slices.Sorted(maps.Keys(doc.Paths[path])) {
				switch {
				case slices.Contains(openAPIMethods, m):
					out.operations = append(out.operations, strings.ToUpper(m)+" "+path)
				case m == "summary", m == "description", m == "servers", m == "parameters", m == "$ref",
					m == "additionalOperations", strings.HasPrefix(m, "x-"):
				default:
					errs = append(errs, fmt.Sprintf("paths[%q].%s: is not an operation (want one of %s) nor a path item field", path, m, strings.Join(openAPIMethods, ", ")))
				}
			}
		}
	}
	if len(errs) > 0 {
		return apiDocument{}, fmt.Errorf("is not a valid %s document: %s", kind, strings.Join(errs, "; "))
	}
	return out, nil
}

// clipBytes returns b's first 40 bytes as a string.
func clipBytes(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
