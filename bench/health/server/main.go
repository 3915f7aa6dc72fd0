package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/paved-road/paved/health"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:23150", "listen address (loopback)")
	flag.Parse()
	if err := run(*addr); err != nil {
		log.Fatal(err)
	}
}

func newRegistry(checks int) (*health.Registry, error) {
	reg, err := health.New(health.Options{})
	if err != nil {
		return nil, err
	}
	for i := range checks {
		err := reg.Register(health.Check{
			Name:     fmt.Sprintf("dep%d", i),
			CacheTTL: time.Hour, // always answered from cache after the first probe
			Check:    func(context.Context) error { return nil },
		})
		if err != nil {
			return nil, err
		}
	}
	reg.MarkStarted()
	return reg, nil
}

func run(addr string) error {
	ten, err := newRegistry(10)
	if err != nil {
		return err
	}
	defer ten.Close()
	none, err := newRegistry(0)
	if err != nil {
		return err
	}
	defer none.Close()
	mux := http.NewServeMux()
	mux.Handle("/ten/", http.StripPrefix("/ten", ten.Handler()))
	mux.Handle("/none/", http.StripPrefix("/none", none.Handler()))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("serving /ten/readyz and /none/readyz on http://%s", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
