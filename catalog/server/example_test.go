package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

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
