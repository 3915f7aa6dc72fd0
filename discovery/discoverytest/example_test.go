package discoverytest_test

import (
	"fmt"

	"github.com/paved-road/paved/discovery/discoverytest"
)

// The suite's instances are valid and carry every kind of address.
func ExampleNewInstance() {
	in := discoverytest.NewInstance("orders", "orders-a", 20001)
	fmt.Println(in.Addresses.HTTP, in.Addresses.Admin, in.Addresses.GRPC, in.Status, in.Validate())
	// Output:
	// 127.0.0.1:20001 127.0.0.1:20002 127.0.0.1:20003 passing <nil>
}
