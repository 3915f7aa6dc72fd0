package service_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/paved-road/paved/service"
)

// A team's config embeds service.Config; Load reports every problem at once and never
// shows a secret's value.
func ExampleLoad() {
	type Config struct {
		service.Config
		Greeting string `env:"GREETING" envDefault:"Hello"`
		APIKey   string `env:"UPSTREAM_KEY,required" secret:"true"`
	}
	_, err := service.Load[Config](service.WithEnviron(map[string]string{
		"SERVICE_ENV":      "prod",
		"SHUTDOWN_TIMEOUT": "10",
	}))
	fmt.Println(err)

	cfg, err := service.Load[Config](service.WithEnviron(map[string]string{"UPSTREAM_KEY": "k-123"}))
	fmt.Println(cfg.Greeting, cfg.HTTPAddr, cfg.AdminAddr, err)
	// Output:
	// service: invalid configuration (3 problems):
	//   SERVICE_ENV="prod": must be one of development, staging, production
	//   SHUTDOWN_TIMEOUT="10": is not a valid duration: use a number with a unit, such as 500ms, 30s or 2m
	//   UPSTREAM_KEY: is required but not set
	// Hello :8080 :9090 <nil>
}

// New and Run, for a main that wants the pieces; service.Main does all of this.
func ExampleService_Run() {
	cfg, _ := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
	}))
	s, err := service.New(service.Info{Name: "hello", Version: "1.0.0"}, &cfg, service.WithLogOutput(io.Discard))
	if err != nil {
		panic(err)
	}
	s.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
	s.Append(service.Hook{
		Name:    "greeter",
		OnStart: func(ctx context.Context) error { fmt.Println("start hook"); return nil },
		OnStop:  func(ctx context.Context) error { fmt.Println("stop hook"); return nil },
	})

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()

	resp, _ := http.Get("http://" + s.HTTPAddr().String() + "/hello")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ready, _ := http.Get("http://" + s.AdminAddr().String() + "/readyz")
	ready.Body.Close()
	fmt.Println(string(body), ready.StatusCode)

	stop()
	fmt.Println(<-done)
	// Output:
	// start hook
	// hello 200
	// stop hook
	// <nil>
}
