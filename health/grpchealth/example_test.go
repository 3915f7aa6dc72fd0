package grpchealth_test

import (
	"context"
	"fmt"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/health/grpchealth"
)

func Example() {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	srv := grpchealth.New(reg, "orders.v1.Orders")
	// In a program: healthpb.RegisterHealthServer(grpcServer, srv)
	ask := func(service string) {
		resp, err := srv.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			fmt.Println(service, err)
			return
		}
		fmt.Printf("%q %v\n", service, resp.GetStatus())
	}
	ask("")
	reg.MarkStarted()
	ask("orders.v1.Orders")
	reg.Shutdown()
	ask("")
	ask("liveness")
	ask("billing.v1.Billing")
	// Output:
	// "" NOT_SERVING
	// "orders.v1.Orders" SERVING
	// "" NOT_SERVING
	// "liveness" SERVING
	// billing.v1.Billing rpc error: code = NotFound desc = unknown service "billing.v1.Billing"
}
