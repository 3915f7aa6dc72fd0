package httptransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/transport/httptransport"
)

type kitStatusErr struct{ code int }

func (e kitStatusErr) Error() string   { return fmt.Sprintf("internal detail %d", e.code) }
func (e kitStatusErr) StatusCode() int { return e.code }

type openBreaker struct{}

func (openBreaker) Error() string             { return "breaker inventory is open (internal)" }
func (openBreaker) RetryAfter() time.Duration { return 2500 * time.Millisecond }

func TestNewServerErrors(t *testing.T) {
	type req struct {
		Qty int `json:"qty"`
	}
	tests := []struct {
		name       string
		err        error
		body       string
		wantCode   int
		wantDetail string
		wantRA     string
	}{
		{"ok", nil, `{"qty":1}`, 200, "", ""},
		{"validation", httptransport.BadRequest("qty must be positive", httptransport.FieldError{Field: "qty", Detail: "must be > 0"}), `{"qty":0}`, 400, "qty must be positive", ""},
		{"not found", httptransport.NotFound("no such order"), `{"qty":1}`, 404, "no such order", ""},
		{"conflict", httptransport.Conflict("order exists"), `{"qty":1}`, 409, "order exists", ""},
		{"kit status coder", kitStatusErr{422}, `{"qty":1}`, 422, "", ""},
		{"open breaker", fmt.Errorf("calling inventory: %w", openBreaker{}), `{"qty":1}`, 503, "", "3"},
		{"internal error hidden", errors.New("pq: password authentication failed for user admin"), `{"qty":1}`, 500, "", ""},
		{"deadline", context.DeadlineExceeded, `{"qty":1}`, 504, "", ""},
		{"unknown field", nil, `{"qty":1,"x":2}`, 400, `unknown field "x"`, ""},
		{"trailing data", nil, `{"qty":1} {"qty":2}`, 400, "data after the JSON value", ""},
		{"wrong type", nil, `{"qty":"one"}`, 400, "wrong type", ""},
		{"malformed", nil, `{"qty":`, 400, "", ""},
		{"too large", nil, `{"qty":1` + strings.Repeat(" ", 200) + `}`, 413, "larger than the limit of 100 bytes", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptransport.NewServer(
				func(ctx context.Context, request any) (any, error) {
					if tt.err != nil {
						return nil, tt.err
					}
					return map[string]int{"qty": request.(req).Qty}, nil
				},
				httptransport.DecodeJSONRequest[req](100),
				httptransport.EncodeJSON,
			)
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/orders", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			srv.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("status: got %d, want %d (%s)", w.Code, tt.wantCode, w.Body)
			}
			if tt.wantCode == 200 {
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != httptransport.ProblemContentType {
				t.Errorf("Content-Type: got %q", ct)
			}
			var p httptransport.Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.wantCode || p.Title == "" {
				t.Errorf("problem: got %+v", p)
			}
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail: got %q, want it to contain %q", p.Detail, tt.wantDetail)
			}
			if tt.wantCode >= 500 && (strings.Contains(w.Body.String(), "internal") || strings.Contains(w.Body.String(), "password")) {
				t.Errorf("5xx leaks internal text: %s", w.Body)
			}
			if got := w.Header().Get("Retry-After"); got != tt.wantRA {
				t.Errorf("Retry-After: got %q, want %q", got, tt.wantRA)
			}
		})
	}
}

func TestDecodeJSONContentType(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "text/plain")
	var v struct{}
	var he *httptransport.Error
	if err := httptransport.DecodeJSON(r, &v, 0); !errors.As(err, &he) || he.Code != http.StatusUnsupportedMediaType {
		t.Errorf("got %v, want a 415 *Error", err)
	}
}
