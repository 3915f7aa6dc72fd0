package grpctransport_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/transport/grpctransport"
)

// grpc.NewClient("paved:///inventory", grpc.WithResolvers(builder)) finds the instances
// and follows the registry as they come and go.
func TestResolverFollowsRegistry(t *testing.T) {
	a := startServer(t, grpctransport.ServerOptions{}, &testService{id: "a"})
	b := startServer(t, grpctransport.ServerOptions{}, &testService{id: "b"})
	var reg static.Registry
	ctx := t.Context()
	if err := reg.Register(ctx, a.instance("a")); err != nil {
		t.Fatal(err)
	}
	in := reg.Instancer("inventory")
	defer in.Stop()
	builder := grpctransport.NewResolverBuilder(func(service string) (discovery.Instancer, error) {
		if service != "inventory" {
			return nil, errors.New("unknown")
		}
		return in, nil
	})
	conn, err := grpc.NewClient("paved:///inventory", grpc.WithResolvers(builder), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := testgrpc.NewTestServiceClient(conn)
	if resp, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil || resp.ServerId != "a" {
		t.Fatalf("got %v %v, want a", resp.GetServerId(), err)
	}
	if err := reg.Register(ctx, b.instance("b")); err != nil {
		t.Fatal(err)
	}
	if err := reg.Deregister(ctx, a.instance("a")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
		if err == nil && resp.ServerId == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after deregistering a: got %v %v, want b", resp.GetServerId(), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 10 {
		if resp, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil || resp.ServerId != "b" {
			t.Fatalf("got %v %v, want b only", resp.GetServerId(), err)
		}
	}
}

func TestResolverErrors(t *testing.T) {
	empty := static.NewInstancer(nil)
	defer empty.Stop()
	tests := []struct {
		name, target string
		lookup       grpctransport.LookupFunc
		want         string
	}{
		{"unknown service", "paved:///billing", grpctransport.Static("inventory", empty), `no instancer for service "billing"`},
		{"no service", "paved:///", grpctransport.Static("inventory", empty), "names no service"},
		{"no instance", "paved:///inventory", grpctransport.Static("inventory", empty), `no ready instance of "inventory"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := grpc.NewClient(tt.target, grpc.WithResolvers(grpctransport.NewResolverBuilder(tt.lookup)),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := contextWithTimeout(t, time.Second)
			defer cancel()
			_, err = testgrpc.NewTestServiceClient(conn).EmptyCall(ctx, &testgrpc.Empty{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
