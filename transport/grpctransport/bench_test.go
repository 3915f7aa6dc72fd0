package grpctransport_test

import (
	"context"
	"net"
	"runtime/metrics"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/grpctransport"
)

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkPolicyUnaryGoroutines: goroutines and allocations per unary call over
// loopback through PolicyUnary (default policy: the attempt carries a deadline)
// against the same connection without it, and with a plain context.WithTimeout
// for comparison.
func BenchmarkPolicyUnaryGoroutines(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, &testService{})
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	pol, err := resilience.NewPolicy("bench", resilience.PolicyConfig{})
	if err != nil {
		b.Fatal(err)
	}
	dial := func(b *testing.B, opts ...grpc.DialOption) testgrpc.TestServiceClient {
		conn, err := grpc.NewClient(l.Addr().String(), append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		c := testgrpc.NewTestServiceClient(conn)
		if _, err := c.EmptyCall(context.Background(), &testgrpc.Empty{}); err != nil {
			b.Fatal(err)
		}
		return c
	}
	run := func(b *testing.B, c testgrpc.TestServiceClient, ctxFor func() (context.Context, context.CancelFunc)) {
		b.ReportAllocs()
		before := goroutinesCreated()
		n := 0
		for b.Loop() {
			ctx, cancel := ctxFor()
			_, err := c.EmptyCall(ctx, &testgrpc.Empty{})
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(goroutinesCreated()-before)/float64(n), "goroutines/op")
	}
	background := func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }
	b.Run("baseline", func(b *testing.B) { run(b, dial(b), background) })
	b.Run("withtimeout", func(b *testing.B) {
		run(b, dial(b), func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), resilience.DefaultAttemptTimeout)
		})
	})
	b.Run("policy", func(b *testing.B) {
		run(b, dial(b, grpc.WithChainUnaryInterceptor(grpctransport.PolicyUnary(pol))), background)
	})
}
