package store_test

import (
	"context"
	"fmt"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/memory"
)

// A long-poll loop: read the set, then wait for each change from the index it came with.
func ExampleStore_watch() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var s store.Store = memory.New(memory.Options{})
	defer s.Close()
	_, _ = s.PutComponent(ctx, catalog.Component{Name: "orders", Owner: "team-a"}.WithDefaults())

	set, _ := s.Instances(ctx, "orders")
	go func() {
		for _, id := range []string{"orders-1", "orders-2"} {
			_, _ = s.PutInstance(ctx, catalog.Instance{
				ID: id, Component: "orders", Version: "1.0.0",
				Addresses: catalog.Addresses{HTTP: "127.0.0.1:8080"},
				StartedAt: time.Now(), TTLSeconds: 30, Status: catalog.StatusPassing,
			})
		}
	}()
	for len(set.Instances) < 2 {
		next, err := s.Watch(ctx, "orders", set.Index)
		if err != nil {
			fmt.Println(err)
			return
		}
		set = next
	}
	fmt.Println(len(set.Instances), "instances")
	// Output:
	// 2 instances
}
