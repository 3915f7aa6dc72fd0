package server_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// A write whose body is not declared JSON is refused with 415 before anything is read.
func TestWriteContentType(t *testing.T) {
	e := newEnv(t)
	body := mustJSON(storetest.Component("orders", "team-a"))
	for _, tt := range []struct {
		ct   []string
		want int
	}{
		{nil, 415},
		{[]string{"text/plain"}, 415},
		{[]string{"application/x-www-form-urlencoded"}, 415},
		{[]string{"application/json; charset=latin1"}, 415},
		{[]string{"application/json; boundary=x"}, 415},
		{[]string{"application/jsonx"}, 415},
		{[]string{"application/json", "application/json"}, 415},
		{[]string{"application/merge-patch+json"}, 415},
		{[]string{"application/json"}, 201},
		{[]string{"Application/JSON; Charset=UTF-8"}, 200},
	} {
		h := http.Header{}
		if tt.ct != nil {
			h["Content-Type"] = tt.ct
		} else {
			h["Content-Type"] = nil
		}
		r := e.doRaw("PUT", "/api/v1/components/orders", tokenA, h, body)
		if r.status != tt.want {
			t.Errorf("Content-Type %q: got %d %s, want %d", tt.ct, r.status, r.body, tt.want)
			continue
		}
		if tt.want == 415 {
			if p := r.problem(t); !strings.Contains(p.Detail, "Content-Type must be application/json") {
				t.Errorf("Content-Type %q: got detail %q, want it to say what is valid", tt.ct, p.Detail)
			}
		}
	}
	if _, err := e.st.GetComponent(t.Context(), "orders"); err != nil {
		t.Fatalf("got %v, want orders created by the JSON write", err)
	}
	// Reads and deletes carry no body: no Content-Type is needed.
	expect(t, e.doRaw("GET", "/api/v1/components/orders", "", http.Header{}, ""), 200)
	expect(t, e.doRaw("DELETE", "/api/v1/components/orders", tokenA, http.Header{}, ""), 204)
}

// doRaw sends body with exactly the given headers (no Content-Type added).
func (e *env) doRaw(method, path, token string, h http.Header, body string) resp {
	e.t.Helper()
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil
	}
	return e.doHeader(method, path, token, h, bodyOrNil(body))
}

func bodyOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NUL characters are refused in every text field, values and keys, naming the field.
func TestNULRefused(t *testing.T) {
	e := newEnv(t)
	e.seed()
	okComp := `"owner":"team-a","type":"service","tier":2,"lifecycle":"production"`
	for _, tt := range []struct{ path, body, field string }{
		{"/api/v1/components/orders", `{"name":"orders",` + okComp + `,"description":"a\u0000b"}`, "description"},
		{"/api/v1/components/orders", `{"name":"orders",` + okComp + `,"labels":{"domain":"x\u0000"}}`, "labels[domain]"},
		{"/api/v1/components/orders", `{"name":"orders",` + okComp + `,"labels":{"do\u0000main":"x"}}`, "labels"},
		{"/api/v1/components/orders/instances/i-1", `{"version":"1","addresses":{"admin":"10.0.0.1:80"},"startedAt":"2026-01-01T00:00:00Z","ttlSeconds":30,"status":"passing","metadata":{"k":"v\u0000"}}`, "metadata[k]"},
		{"/api/v1/components/orders/scorecard", `{"instance":"i-1","ruleSetVersion":"1","score":10,"failed":[{"id":"x","level":"error","message":"\u0000"}]}`, "failed[0].message"},
	} {
		r := e.do("PUT", tt.path, tokenA, tt.body)
		expect(t, r, 400)
		p := r.problem(t)
		if !slices.Equal(fieldsOf(p), []string{tt.field}) || !strings.Contains(string(r.body), "NUL") {
			t.Errorf("%s: got %s, want field %s and NUL named", tt.body, r.body, tt.field)
		}
	}
	if c, _ := e.st.GetComponent(t.Context(), "orders"); strings.ContainsRune(c.Description, 0) {
		t.Fatal("got a NUL stored")
	}
}

// Two Authorization headers are refused: which one counts would be a guess.
func TestDuplicateAuthorization(t *testing.T) {
	e := newEnv(t)
	h := http.Header{"Authorization": {"Bearer " + tokenA, "Bearer " + tokenB}}
	r := e.doHeader("PUT", "/api/v1/components/orders", "", h, storetest.Component("orders", "team-a"))
	expect(t, r, 400)
	if p := r.problem(t); !strings.Contains(p.Detail, "2 Authorization headers") {
		t.Fatalf("got detail %q, want it to say 2 Authorization headers", p.Detail)
	}
	expect(t, e.doHeader("GET", "/api/v1/components", "", h, nil), 400)
	if _, err := e.st.GetComponent(t.Context(), "orders"); err == nil {
		t.Fatal("got orders created, want nothing written")
	}
}

// A catalog without any token says so, whatever token the caller sent, so the caller's
// log points at the catalog's configuration.
func TestNoTokensConfigured(t *testing.T) {
	e := newEnv(t, func(o *server.Options) { o.Tokens, o.AdminToken = nil, "" })
	for _, tok := range []string{"", tokenA} {
		r := e.do("PUT", "/api/v1/components/orders", tok, storetest.Component("orders", "team-a"))
		expect(t, r, 401)
		if p := r.problem(t); !strings.Contains(p.Detail, "the catalog has no tokens configured") {
			t.Errorf("token %q: got detail %q, want it to say the catalog has no tokens configured", tok, p.Detail)
		}
	}
	// With tokens, an unknown token is still "not valid".
	e = newEnv(t)
	r := e.do("PUT", "/api/v1/components/orders", "unknown-token-0123456789", storetest.Component("orders", "team-a"))
	expect(t, r, 401)
	if p := r.problem(t); p.Detail != "the bearer token is not valid" {
		t.Errorf("got detail %q, want the bearer token is not valid", p.Detail)
	}
}

// Every bad line of a tokens file is reported, each with its number.
func TestParseTokensReportsEveryLine(t *testing.T) {
	_, err := server.ParseTokens(strings.NewReader("team-a:team-a-token-0123456789\nteam-b\n# fine\nTeam:abcdefghijklmnopq\nteam-c:short\nteam-d:sha256:zz\n"))
	if err == nil {
		t.Fatal("got no error, want four bad lines")
	}
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) || len(j.Unwrap()) != 4 {
		t.Fatalf("got %v, want four joined errors", err)
	}
	for i, want := range []string{"line 2: want team:token", "line 4: team \"Team\"", "line 5: the token of team \"team-c\" must be at least 16", "line 6: the sha256 of team \"team-d\""} {
		if got := j.Unwrap()[i].Error(); !strings.Contains(got, want) {
			t.Errorf("error %d: got %q, want it to contain %q", i, got, want)
		}
	}
	if strings.Contains(err.Error(), "abcdefghijklmnopq") || strings.Contains(err.Error(), "short") {
		t.Errorf("got %v, want no token quoted", err)
	}
}
