package fakeconsul_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/paved-road/paved/discovery/consul/internal/fakeconsul"
)

// The fake answers the agent endpoints over real HTTP.
func Example() {
	fake := fakeconsul.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	defer fake.Close()

	body := `{"ID":"web-1","Name":"web","Port":8080,"Check":{"CheckID":"service:web-1","TTL":"10s","Status":"passing"}}`
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/agent/service/register", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("register:", resp.StatusCode)

	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/v1/agent/check/update/service:nope", strings.NewReader(`{"Status":"passing"}`))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print("unknown check: ", resp.StatusCode, " ", string(msg))
	fmt.Println("requests:", fake.Requests("PUT /v1/agent/check/update"))
	// Output:
	// register: 200
	// unknown check: 500 CheckID "service:nope" does not have associated TTL
	// requests: 1
}
