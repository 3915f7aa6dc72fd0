package server_test

import (
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog/server"
)

// TestDecodeProblems: a write body the strict decoder refuses is a 400 problem whose one
// error names the field and says what is wrong (or, for the body as a whole, has no
// field), and a body over the limit is a 413 naming the limit; nothing is written.
func TestDecodeProblems(t *testing.T) {
	e := newEnv(t, func(o *server.Options) { o.MaxBodyBytes = 2048 })
	e.seed()
	const comp = "/api/v1/components/orders"
	okComp := `"owner":"team-a","type":"service","tier":2,"lifecycle":"production"`
	tests := []struct {
		name, path, body string
		status           int
		field, message   string
	}{
		{"unknown field", comp, `{"name":"orders",` + okComp + `,"colour":"red"}`, 400, "colour", "is not a known field"},
		{"unknown nested field", comp, `{` + okComp + `,"links":{"wiki":"https://x"}}`, 400, "links.wiki", "is not a known field"},
		{"wrong case", comp, `{"Name":"orders",` + okComp + `}`, 400, "Name", "is not a known field"},
		{"duplicate key", comp, `{"name":"orders",` + okComp + `,"name":"x"}`, 400, "name", "appears more than once"},
		{"duplicate map key", comp, `{` + okComp + `,"labels":{"a":"1","a":"2"}}`, 400, "labels[a]", "appears more than once"},
		{"wrong type", comp, `{` + okComp + `,"dependsOn":["a",2]}`, 400, "dependsOn[1]", "must be a string, got a number"},
		{"null", comp, `{"name":null,` + okComp + `}`, 400, "name", "must be a string, got null"},
		{"NUL", comp, `{"description":"a\u0000b",` + okComp + `}`, 400, "description", "must not contain NUL characters (U+0000)"},
		{"fraction", comp, `{"owner":"team-a","tier":1.5}`, 400, "tier", "must be an integer that fits in 64 bits"},
		{"not an object", comp, `[1,2]`, 400, "", "must be an object, got an array"},
		{"trailing data", comp, `{"name":"orders",` + okComp + `} {}`, 400, "", "has data after the JSON value"},
		{"empty", comp, `   `, 400, "", "is empty"},
		{"truncated", comp, `{"name":"orders"`, 400, "", "is truncated"},
		{"syntax", comp, `{"name" "orders"}`, 400, "name", "is not valid JSON"},
		{"bad time", comp + "/instances/i-9", `{"startedAt":"yesterday"}`, 400, "startedAt", "must be an RFC 3339 time"},
		{"too large", comp, `{"description":"` + strings.Repeat("x", 3000) + `"}`, 413, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", tt.path, tokenA, tt.body)
			expect(t, r, tt.status)
			p := r.problem(t)
			if tt.status == 413 {
				if p.Detail != "body is larger than the limit of 2048 bytes" || len(p.Errors) != 0 {
					t.Fatalf("got %+v, want the detail to name the limit of 2048 bytes", p)
				}
				return
			}
			if p.Detail != "the body could not be decoded" || len(p.Errors) != 1 {
				t.Fatalf("got %+v, want one error and detail \"the body could not be decoded\"", p)
			}
			if got := p.Errors[0]; got.Field != tt.field || !strings.HasPrefix(got.Message, tt.message) || got.Detail != "" {
				t.Fatalf("got error %+v, want field %q and a message starting %q", got, tt.field, tt.message)
			}
		})
	}
	c, _ := e.st.GetComponent(t.Context(), "orders")
	if c.Tier != 2 || c.Links.Runbook != "https://wiki.example.com/orders" {
		t.Fatalf("got %+v, want orders as seeded", c)
	}
}
