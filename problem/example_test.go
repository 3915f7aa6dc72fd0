package problem_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/paved-road/paved/problem"
)

func ExampleWrite() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Problem{
			Status: http.StatusBadRequest,
			Detail: "the body has invalid fields",
			Errors: []problem.FieldError{{Field: "quantity", Detail: "must be from 1 to 100, got 0"}},
		})
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/orders", nil))
	b, _ := io.ReadAll(w.Body)
	fmt.Print(w.Code, " ", w.Header().Get("Content-Type"), " ", string(b))
	// Output:
	// 400 application/problem+json {"title":"Bad Request","status":400,"detail":"the body has invalid fields","errors":[{"field":"quantity","detail":"must be from 1 to 100, got 0"}]}
}

func ExampleFromResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Detail: "no order 42", Instance: r.URL.Path})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/orders/42")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	if p, ok := problem.FromResponse(resp); ok {
		fmt.Println(p.Status, p.Instance, p.Error())
	}
	// Output:
	// 404 /orders/42 problem: 404 Not Found: no order 42
}

func ExampleNearest() {
	fmt.Println(problem.Nearest("SHUTDOWN_TIMOUT", []string{"DRAIN_DELAY", "SHUTDOWN_TIMEOUT"}))
	// Output: SHUTDOWN_TIMEOUT
}
