package checks_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/health/checks"
)

func Example() {
	lis, _ := net.Listen("tcp", "127.0.0.1:0") // stands in for a database port
	defer lis.Close()

	reg, _ := health.New(health.Options{})
	defer reg.Close()
	tcp, err := checks.TCP(lis.Addr().String())
	if err != nil {
		panic(err)
	}
	_ = reg.Register(health.Check{Name: "db-port", Dependency: "postgres", Check: tcp, Timeout: time.Second})
	goroutines, _ := checks.Goroutines(100_000)
	_ = reg.Register(health.Check{Name: "goroutines", Kinds: health.Liveness, Check: goroutines})
	reg.MarkStarted()

	rep, _ := reg.Evaluate(context.Background(), health.AllKinds)
	fmt.Println(rep.Status)
	_, err = checks.TCP("db.internal")
	fmt.Println(err)
	// Output:
	// pass
	// checks: invalid argument: TCP addr "db.internal": want host:port
}
