package service

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// publicHandler is the public server's handler: the mux (or the handler set with
// SetHandler) behind the request body limit.
func (s *Service) publicHandler() http.Handler {
	h := s.handler
	if h == nil {
		h = s.mux
	}
	return http.MaxBytesHandler(h, s.cfg.HTTPMaxBodyBytes)
}

// adminHandler serves the admin endpoints. Handlers added with AdminHandle are on the
// same mux.
func (s *Service) adminHandler() http.Handler {
	m := s.adminMux
	m.HandleFunc("GET /livez", s.probe(func(st int32) bool { return st != stateStopped }))
	m.HandleFunc("GET /readyz", s.probe(func(st int32) bool { return st == stateReady }))
	m.HandleFunc("GET /startupz", s.probe(func(st int32) bool { return st != stateStarting }))
	m.HandleFunc("GET /healthz", s.probe(func(st int32) bool { return st == stateReady }))
	m.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		Registry:          s.registry,
		ErrorLog:          promLogger{s},
	}))
	m.HandleFunc("GET /info", s.serveInfo)
	m.HandleFunc("GET /config", s.serveConfig)
	if s.cfg.PprofEnabled {
		m.HandleFunc("/debug/pprof/", pprof.Index)
		m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		m.HandleFunc("/debug/pprof/profile", pprof.Profile)
		m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return m
}

type promLogger struct{ s *Service }

func (l promLogger) Println(v ...any) { l.s.logger.Error("metrics", "error", v) }

// probe answers 200 "ok" while pass holds for the current state, else 503.
func (s *Service) probe(pass func(int32) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if pass(s.state.Load()) {
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(stateNames[s.state.Load()] + "\n"))
	}
}

func (s *Service) serveInfo(w http.ResponseWriter, r *http.Request) {
	doc := infoDoc{
		Info:         s.info,
		InstanceID:   s.instanceID,
		Environment:  s.cfg.Env,
		Revision:     s.build.Revision,
		RevisionTime: s.build.RevisionTime,
		Modified:     s.build.Modified,
		GoVersion:    s.build.GoVersion,
		Module:       s.build.Module,
		StartTime:    s.startTime.UTC(),
		Uptime:       time.Since(s.startTime).Round(time.Second).String(),
		State:        stateNames[s.state.Load()],
	}
	if a := s.HTTPAddr(); a != nil {
		doc.Addresses.HTTP = a.String()
	}
	if a := s.AdminAddr(); a != nil {
		doc.Addresses.Admin = a.String()
	}
	s.mu.Lock()
	extra := make(map[string]func() any, len(s.extra))
	for k, f := range s.extra {
		extra[k] = f
	}
	s.mu.Unlock()
	if len(extra) > 0 {
		doc.Extra = make(map[string]any, len(extra))
		for k, f := range extra {
			doc.Extra[k] = f()
		}
	}
	writeJSON(w, doc)
}

func (s *Service) serveConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, Settings(s.full))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
