package server_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/paved-road/paved/catalog/server"
)

// The catalog's OpenAPI document is a valid OpenAPI document (kin-openapi, the library
// oasdiff reads definitions with): every $ref resolves, every schema is well formed.
func TestOpenAPIDocumentValidates(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(server.OpenAPI())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, p := range []string{"/api/v1/apis", "/api/v1/apis/{name}", "/api/v1/apis/{name}/definition"} {
		if doc.Paths.Find(p) == nil || doc.Paths.Find(p).Get == nil {
			t.Errorf("the document has no GET %s", p)
		}
	}
}
