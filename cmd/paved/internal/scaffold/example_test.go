package scaffold_test

import (
	"fmt"

	"github.com/paved-road/paved/cmd/paved/internal/scaffold"
)

func ExampleComponentName() {
	name, _ := scaffold.ComponentName("github.com/acme/Shop_API/v2")
	fmt.Println(name)
	// Output: shop-api
}
