package profiler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/paved-road/paved/service/profiler"
)

// Register mounts the profiler on a mux; a service does it on its admin mux when
// PPROF_ENABLED=true, after service.WithProfiler(profiler.Register).
func ExampleRegister() {
	mux := http.NewServeMux()
	profiler.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/cmdline", nil))
	fmt.Println(rec.Code)
	// Output: 200
}
