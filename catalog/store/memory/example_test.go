package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/memory"
)

func Example() {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	defer s.Close()

	_, _ = s.PutComponent(ctx, catalog.Component{Name: "orders", Owner: "team-a"}.WithDefaults())
	before, _ := s.Instances(ctx, "orders")

	// Register in the background; Watch returns when the instance set changes.
	go func() {
		_, _ = s.PutInstance(ctx, catalog.Instance{
			ID: "orders-1", Component: "orders", Version: "1.0.0",
			Addresses: catalog.Addresses{HTTP: "127.0.0.1:8080"},
			StartedAt: time.Now(), TTLSeconds: 30, Status: catalog.StatusPassing,
		})
	}()
	set, err := s.Watch(ctx, "orders", before.Index)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range set.Instances {
		fmt.Println(in.ID, in.Status, in.Addresses.HTTP)
	}
	// Output:
	// orders-1 passing 127.0.0.1:8080
}
