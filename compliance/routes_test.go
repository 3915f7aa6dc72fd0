package compliance_test

import (
	"testing"

	"github.com/paved-road/paved/compliance"
)

func TestRouteDocumented(t *testing.T) {
	ops := []string{"GET /items/{sku}", "POST /items", "GET /files/{path}", "GET /static/app.js", "GET /", "PUT /reservations/{id}/confirm", "HEAD /ping"}
	tests := []struct {
		pattern string
		want    bool
	}{
		{"GET /items/{sku}", true},
		{"GET /items/{id}", true}, // wildcard names need not agree
		{"HEAD /items/{sku}", false},
		{"POST /items", true},
		{"POST /items/", false},               // a subtree is not the exact path
		{"DELETE /items/{sku}", false},        // method not documented
		{"/items", true},                      // any method
		{"GET /items/new", false},             // a literal is not the template
		{"GET /files/{path...}", true},        // the rest matches the one parameter
		{"GET /static/", true},                // a subtree matches a path below it
		{"GET /assets/", false},               // nothing below it documented
		{"GET /{$}", true},                    // only "/"
		{"GET example.com/items/{sku}", true}, // the host is not part of the path
		{"PUT /reservations/{id}/confirm", true},
		{"PUT /reservations/{id}/cancel", false},
		{"GET /ping", true}, // GET serves HEAD too
	}
	for _, tt := range tests {
		if got := compliance.RouteDocumented(tt.pattern, ops); got != tt.want {
			t.Errorf("RouteDocumented(%q): got %v, want %v", tt.pattern, got, tt.want)
		}
	}
}
