// Command badsvc is a deliberately non-compliant service for the tests of paved check:
// it names no owner, serves pprof and a copy of /metrics on its public port, and is
// meant to run with PPROF_ENABLED=true and SERVICE_ENV=production.
package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"

	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/service/profiler"
)

func main() {
	info := service.Info{Name: "badsvc", Version: "1.0.0", Description: "Breaks every rule it can."}
	service.Main(info, func(s *service.Service, cfg *service.Config) error {
		s.HandleFunc("/debug/pprof/", pprof.Index)
		s.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "# public metrics, as a mistake")
		})
		return nil
	}, service.WithProfiler(profiler.Register))
}
