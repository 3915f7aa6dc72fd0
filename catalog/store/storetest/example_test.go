package storetest_test

import (
	"fmt"

	"github.com/paved-road/paved/catalog/store/storetest"
)

// The suite's fixtures are valid values, ready for a store.
func ExampleInstance() {
	c := storetest.Component("orders", "team-a")
	in := storetest.Instance("orders", "i-1")
	fmt.Println(c.Validate(), in.Validate(), in.TTL())
	// Output:
	// <nil> <nil> 2s
}
