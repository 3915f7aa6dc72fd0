package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
)

// Example mounts the UI beside the REST API and reads the components table.
func Example() {
	st := memory.New(memory.Options{})
	defer st.Close()
	ctx := context.Background()
	_, _ = st.PutComponent(ctx, catalog.Component{Name: "orders", Owner: "team-a", Type: "service", Tier: 1,
		Lifecycle: catalog.LifecycleProduction, DependsOn: []string{"inventory"}})
	_, _ = st.PutComponent(ctx, catalog.Component{Name: "inventory", Owner: "team-b", Type: "service", Tier: 2,
		Lifecycle: catalog.LifecycleProduction})

	api := server.New(st, server.Options{Open: true}) // development only
	h, err := ui.New(st, ui.Options{Open: api.OpenMode()})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", h)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	for _, path := range []string{"/", "/components/orders", "/graph.svg", "/components/payments"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = resp.Body.Close()
		ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
		fmt.Println(path, resp.StatusCode, ct)
	}
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Header.Get("Content-Security-Policy"))
	// Output:
	// / 200 text/html
	// /components/orders 200 text/html
	// /graph.svg 200 image/svg+xml
	// /components/payments 404 text/html
	// default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'
}
