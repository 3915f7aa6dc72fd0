package profiler

import (
	"net/http"
	"net/http/pprof"
)

// Register adds the profiler's handlers under /debug/pprof/ to mux: the index and the
// named profiles (heap, goroutine, allocs, block, mutex, threadcreate), cmdline,
// profile (CPU, ?seconds=N), symbol and trace (?seconds=N). Pass it to
// service.WithProfiler; the service calls it on its admin mux when PPROF_ENABLED=true.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
