package problem_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paved-road/paved/problem"
)

func TestWriteDefaultsAndHeaders(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Retry-After", "1")
	problem.Write(w, httptest.NewRequest("GET", "/x", nil), problem.Problem{})
	want := `{"title":"Internal Server Error","status":500}` + "\n"
	if got := w.Body.String(); got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	for k, v := range map[string]string{
		"Content-Type": problem.ContentType, "Content-Length": "47", "X-Content-Type-Options": "nosniff",
		"Content-Encoding": "", "Retry-After": "1",
	} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	if w.Code != 500 {
		t.Errorf("status: got %d, want 500", w.Code)
	}
}

func TestWriteHEADHasNoBody(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest("HEAD", "/x", nil), problem.Problem{Status: 503, Detail: "not yet"})
	if w.Code != 503 || w.Body.Len() != 0 {
		t.Errorf("got %d with %d body bytes, want 503 with none", w.Code, w.Body.Len())
	}
}

func TestFieldErrorWireForms(t *testing.T) {
	tests := []struct {
		fe   problem.FieldError
		want string
	}{
		{problem.FieldError{Field: "qty", Detail: "must be positive"}, `{"field":"qty","detail":"must be positive"}`},
		{problem.FieldError{Field: "links.runbook", Message: "must be an http URL"}, `{"field":"links.runbook","message":"must be an http URL"}`},
		{problem.FieldError{Message: "is empty"}, `{"message":"is empty"}`},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		problem.Write(w, nil, problem.Problem{Status: 400, Errors: []problem.FieldError{tt.fe}})
		want := `{"title":"Bad Request","status":400,"errors":[` + tt.want + "]}\n"
		if got := w.Body.String(); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	if got, want := (problem.FieldError{Field: "a", Message: "m"}).String(), "a: m"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
	if got, want := (problem.FieldError{Detail: "d"}).String(), "d"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
}

func TestFromResponse(t *testing.T) {
	tests := []struct {
		ct, body string
		ok       bool
	}{
		{"application/problem+json", `{"title":"Conflict","status":409,"errors":[{"field":"id","message":"taken"}]}`, true},
		{"application/problem+json; charset=utf-8", `{"title":"Conflict","status":409}`, true},
		{"application/json", `{"title":"Conflict","status":409}`, false},
		{"application/problem+json", `not json`, false},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{"Content-Type": {tt.ct}}, Body: io.NopCloser(strings.NewReader(tt.body))}
		p, ok := problem.FromResponse(resp)
		if ok != tt.ok {
			t.Errorf("%s %s: got ok %v, want %v", tt.ct, tt.body, ok, tt.ok)
			continue
		}
		if ok && (p.Status != 409 || p.Title != "Conflict") {
			t.Errorf("got %+v, want 409 Conflict", p)
		}
	}
}

func TestNearest(t *testing.T) {
	valid := []string{"SHUTDOWN_TIMEOUT", "DRAIN_DELAY", "NATS_PUBLISH_BREAKER_OPEN_TIMEOUT", "owner-set"}
	tests := []struct{ value, want string }{
		{"SHUTDOWN_TIMOUT", "SHUTDOWN_TIMEOUT"},
		{"DRAIN_DELY", "DRAIN_DELAY"},
		{"NATS_PUBLISH_BREAKER_OPEN_TIMOUT", "NATS_PUBLISH_BREAKER_OPEN_TIMEOUT"},
		{"ownr-set", "owner-set"},
		{"SHUTDOWN_TIMEOUT", ""}, // not a typo: the value itself
		{"COMPLETELY_ELSE", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := problem.Nearest(tt.value, valid); got != tt.want {
			t.Errorf("Nearest(%q): got %q, want %q", tt.value, got, tt.want)
		}
	}
}
