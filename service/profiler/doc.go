// Package profiler links Go's HTTP profiler (net/http/pprof) into a service, for
// PPROF_ENABLED=true:
//
//	service.Main(info, setup, service.WithProfiler(profiler.Register))
//
// The service then serves /debug/pprof/ on its admin address, never on the public one,
// and only while PPROF_ENABLED=true (the compliance rule pprof-off fails it in
// production). A service that does not link it carries none of the profiler's code,
// and PPROF_ENABLED=true there is a configuration error (exit 2) naming this line.
//
// Importing this package imports net/http/pprof, whose init also registers its
// handlers on http.DefaultServeMux: a program that links the profiler must not serve
// http.DefaultServeMux on a port it exposes (Paved's servers never use it). That side
// effect is why the profiler is not part of package service.
package profiler
