package httptransport_test

import (
	"errors"
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

// The strict decoder names the field of each problem; the body's value is not stored.
func ExampleDecodeJSONBytes() {
	type order struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	for _, body := range []string{
		`{"sku":"tea","qty":2}`,
		`{"sku":"tea","qty":2,"qty":2000}`,
		`{"SKU":"tea","qty":2}`,
		`{"sku":null,"qty":2}`,
	} {
		var o order
		err := httptransport.DecodeJSONBytes([]byte(body), &o)
		var he *httptransport.Error
		if errors.As(err, &he) {
			fmt.Printf("%d %s: %v\n", he.Code, he.Msg, he.Fields)
			continue
		}
		fmt.Printf("%+v\n", o)
	}
	// Output:
	// {SKU:tea Qty:2}
	// 400 request body has the field "qty" more than once: [qty: appears more than once]
	// 400 request body has an unknown field "SKU": [SKU: is not a known field]
	// 400 request body has a value of the wrong type: [sku: must be a string, got null]
}
