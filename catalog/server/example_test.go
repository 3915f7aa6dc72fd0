package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
)

func Example() {
	tokens, err := server.ParseTokens(strings.NewReader(`
# team:token, or team:sha256:HEX for a token stored hashed
team-a:team-a-secret-token-1234
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	st := memory.New(memory.Options{})
	defer st.Close()
	ts := httptest.NewServer(server.New(st, server.Options{Tokens: tokens}))
	defer ts.Close()

	put := func(token, body string) {
		req, _ := http.NewRequest("PUT", ts.URL+"/api/v1/components/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	}
	body := `{"owner":"team-a","type":"service","tier":2,"lifecycle":"production"}`
	put("", body)
	put("team-a-secret-token-1234", body)
	put("team-a-secret-token-1234", `{"owner":"team-a","tier":7}`)
	// Output:
	// 401 Unauthorized application/problem+json
	// 201 Created application/json
	// 400 Bad Request application/problem+json
}

// A heartbeat is a PUT with If-Match: *: it refreshes a registered instance, and is
// refused with 412 once the instance is gone, so the agent registers again.
func Example_heartbeat() {
	st := memory.New(memory.Options{})
	defer st.Close()
	ts := httptest.NewServer(server.New(st, server.Options{Open: true}))
	defer ts.Close()

	put := func(path, ifMatch, body string) {
		req, _ := http.NewRequest("PUT", ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		fmt.Println(resp.Status)
	}
	put("/api/v1/components/orders", "", `{"owner":"team-a","type":"service","tier":2,"lifecycle":"production"}`)
	inst := `{"version":"1.0.0","addresses":{"http":"127.0.0.1:8080"},"startedAt":"2026-01-02T03:04:05Z","ttlSeconds":30,"status":"passing"}`
	put("/api/v1/components/orders/instances/orders-1", "*", inst) // not registered yet
	put("/api/v1/components/orders/instances/orders-1", "", inst)  // register
	put("/api/v1/components/orders/instances/orders-1", "*", inst) // heartbeat
	// Output:
	// 201 Created
	// 412 Precondition Failed
	// 200 OK
	// 200 OK
}

func ExampleDecodeStrict() {
	body := `{"name":"orders","owner":"team-a","owner":"team-b"}`
	var c catalog.Component
	err := server.DecodeStrict(strings.NewReader(body), 64<<10, &c)
	fmt.Println(err)
	// Output:
	// catalog: bad body: owner: appears more than once
}

// CATALOG_ALLOWED_NETWORKS is parsed with ParseNetworks, which lists every bad entry.
func ExampleParseNetworks() {
	nets, err := server.ParseNetworks([]string{"10.0.0.0/8", "fd00::/8"})
	fmt.Println(nets, err)
	_, err = server.ParseNetworks([]string{"10.0.0.1/8", "169.254.0.0/16"})
	fmt.Println(err)
	// Output:
	// [10.0.0.0/8 fd00::/8] <nil>
	// "10.0.0.1/8": has host bits set: did you mean 10.0.0.0/8?
	// "169.254.0.0/16": is link-local: instance addresses there are always refused
}
