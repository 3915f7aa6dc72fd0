package httptransport_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paved-road/paved/transport/httptransport"
)

// A handler answers errors as problem+json; the stack adds request ids, limits and
// metrics around the mux.
func ExampleStack() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /greetings", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name string `json:"name"`
		}
		if err := httptransport.DecodeJSON(r, &req, 1024); err != nil {
			httptransport.WriteError(w, r, nil, err)
			return
		}
		fmt.Fprintf(w, "hello, %s\n", req.Name)
	})
	h, err := httptransport.Stack(mux, httptransport.StackOptions{})
	if err != nil {
		panic(err)
	}

	for _, body := range []string{`{"name":"Ada"}`, `{"name":"Ada","admin":true}`} {
		r := httptest.NewRequest("POST", "/greetings", strings.NewReader(body))
		r.Header.Set("X-Request-ID", "req-1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		b, _ := io.ReadAll(w.Body)
		fmt.Print(w.Code, " ", w.Header().Get("Content-Type"), " ", string(b))
	}
	// Output:
	// 200 text/plain; charset=utf-8 hello, Ada
	// 400 application/problem+json {"title":"Bad Request","status":400,"detail":"request body has an unknown field \"admin\"","instance":"urn:request:req-1","errors":[{"field":"admin","detail":"is not a known field"}]}
}
