package core_test

import (
	"fmt"

	"github.com/paved-road/paved/catalog/store/internal/core"
)

func ExampleHub() {
	var h core.Hub
	changed := h.Changed()
	go h.Notify()
	<-changed
	fmt.Println("woken")
	// Output:
	// woken
}
