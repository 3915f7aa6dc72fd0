package check_test

import (
	"fmt"

	"github.com/paved-road/paved/cmd/paved/internal/check"
)

func ExampleParseBaseURL() {
	u, err := check.ParseBaseURL("admin-url", "http://127.0.0.1:9090/")
	fmt.Println(u, err)
	_, err = check.ParseBaseURL("admin-url", "127.0.0.1:9090")
	fmt.Println(err)
	// Output:
	// http://127.0.0.1:9090 <nil>
	// admin-url "127.0.0.1:9090": has no http:// or https:// scheme; did you mean http://127.0.0.1:9090?
}
