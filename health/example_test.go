package health_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/paved-road/paved/health"
)

func Example() {
	reg, err := health.New(health.Options{ServiceID: "orders", Version: "1.4.2"})
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	// A readiness check of a dependency; liveness would refuse it.
	_ = reg.Register(health.Check{
		Name:       "db",
		Dependency: "postgres",
		Check:      func(ctx context.Context) error { return errors.New("connection refused") },
	})
	// A liveness check of the process itself.
	_ = reg.Register(health.Check{
		Name:  "loop",
		Kinds: health.Liveness,
		Check: func(ctx context.Context) error { return nil },
	})
	reg.MarkStarted()

	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	for _, path := range []string{"/livez", "/readyz?verbose"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d\n%s", path, resp.StatusCode, trimDurations(string(body)))
	}
	// Output:
	// /livez 200
	// ok
	// /readyz?verbose 503
	// [+]started ok
	// [+]shutdown ok
	// [-]db failed: reason withheld
	// readyz check failed
}

func ExampleRegistry_Register_duplicate() {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	ok := func(context.Context) error { return nil }
	fmt.Println(reg.Register(health.Check{Name: "db", Check: ok}))
	err := reg.Register(health.Check{Name: "db", Check: ok})
	fmt.Println(errors.Is(err, health.ErrDuplicate), err)
	err = reg.Register(health.Check{Name: "redis", Kinds: health.Liveness, Dependency: "redis", Check: ok})
	fmt.Println(errors.Is(err, health.ErrLivenessDependency))
	// Output:
	// <nil>
	// true health: duplicate check name: "db" is already registered
	// true
}

func ExampleRegistry_Watch() {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ch := reg.Watch(ctx, health.Readiness)
	fmt.Println(<-ch) // not started yet
	reg.MarkStarted()
	fmt.Println(<-ch)
	reg.Shutdown()
	fmt.Println(<-ch)
	cancel()
	_, open := <-ch
	fmt.Println(open)
	// Output:
	// fail
	// pass
	// fail
	// false
}

// The read-only listing answers audit questions such as "does liveness include
// dependency checks?" and "is there a readiness check?".
func ExampleRegistry_Checks() {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	ok := func(context.Context) error { return nil }
	_ = reg.Register(health.Check{Name: "loop", Kinds: health.Liveness, Check: ok})
	_ = reg.Register(health.Check{Name: "db", Dependency: "postgres", Check: ok})
	_ = reg.Register(health.Check{Name: "cache", Dependency: "redis", NonCritical: true, Check: ok})
	liveDeps, readiness := false, false
	for _, c := range reg.Checks() {
		fmt.Printf("%s kinds=%s dependency=%q critical=%v\n", c.Name, c.Kinds, c.Dependency, c.Critical)
		liveDeps = liveDeps || (c.Kinds.Has(health.Liveness) && c.Dependency != "")
		readiness = readiness || c.Kinds.Has(health.Readiness)
	}
	fmt.Println("liveness includes dependencies:", liveDeps)
	fmt.Println("has a readiness check:", readiness)
	// Output:
	// loop kinds=liveness dependency="" critical=true
	// db kinds=readiness dependency="postgres" critical=true
	// cache kinds=readiness dependency="redis" critical=false
	// liveness includes dependencies: false
	// has a readiness check: true
}

func ExampleRegistry_Evaluate() {
	reg, _ := health.New(health.Options{})
	defer reg.Close()
	_ = reg.Register(health.Check{Name: "cache", NonCritical: true,
		Check: func(context.Context) error { return errors.New("redis: i/o timeout") }})
	reg.MarkStarted()
	rep, _ := reg.Evaluate(context.Background(), health.Readiness)
	fmt.Println(rep.Status, rep.Status.OK())
	for _, c := range rep.Checks {
		fmt.Println(c.Name, c.Status, c.Err)
	}
	// Output:
	// warn true
	// started pass <nil>
	// shutdown pass <nil>
	// cache warn redis: i/o timeout
}
