package static_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/go-kit/kit/sd/lb"
	kitlog "github.com/go-kit/log"

	"github.com/paved-road/paved/discovery/static"
)

// Fixed instances from the environment, balanced with go-kit's sd and lb packages.
func ExampleParse() {
	spec := "inventory=127.0.0.1:8081,127.0.0.1:8082;orders=grpc://127.0.0.1:9000" // os.Getenv(static.EnvVar)
	services, err := static.Parse(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	inventory := static.NewInstancer(services["inventory"])
	defer inventory.Stop()
	factory := func(addr string) (endpoint.Endpoint, io.Closer, error) {
		return func(context.Context, any) (any, error) { return "called " + addr, nil }, nil, nil
	}
	endpointer := sd.NewEndpointer(inventory, factory, kitlog.NewNopLogger())
	defer endpointer.Close()
	for eps, _ := endpointer.Endpoints(); len(eps) < 2; eps, _ = endpointer.Endpoints() {
		time.Sleep(time.Millisecond) // go-kit applies the first event in its own goroutine
	}
	balancer := lb.NewRoundRobin(endpointer)
	for range 3 {
		ep, _ := balancer.Endpoint()
		out, _ := ep(context.Background(), nil)
		fmt.Println(out)
	}
	fmt.Println(services["orders"][0].ID, services["orders"][0].Addresses.GRPC)
	// Output:
	// called 127.0.0.1:8081
	// called 127.0.0.1:8082
	// called 127.0.0.1:8081
	// orders-1 127.0.0.1:9000
}

func ExampleParse_error() {
	_, err := static.Parse("inventory=127.0.0.1;orders=udp://10.0.0.1:53")
	fmt.Println(err)
	// Output:
	// static: invalid DISCOVERY_STATIC: entry 1: address "127.0.0.1": addresses.http must be host:port, got "127.0.0.1"; entry 2: address "udp://10.0.0.1:53": scheme must be http, grpc or admin, got "udp"
}
