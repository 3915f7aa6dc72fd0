package bbolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/bbolt"
)

func Example() {
	dir, _ := os.MkdirTemp("", "catalog")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "catalog.db")
	ctx := context.Background()

	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = s.PutComponent(ctx, catalog.Component{Name: "orders", Owner: "team-a"}.WithDefaults())
	_, _ = s.PutInstance(ctx, catalog.Instance{
		ID: "orders-1", Component: "orders", Version: "1.0.0",
		Addresses: catalog.Addresses{Admin: "127.0.0.1:9090"},
		StartedAt: time.Now(), TTLSeconds: 30, Status: catalog.StatusPassing,
	})
	_ = s.Close()

	// The registration was fsynced before PutInstance returned: it is there on reopen.
	s, err = bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	set, _ := s.Instances(ctx, "orders")
	for _, in := range set.Instances {
		fmt.Println(in.ID, in.Addresses.Admin)
	}
	// Output:
	// orders-1 127.0.0.1:9090
}
