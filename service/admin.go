package service

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// publicHandler is the public server's handler: the mux (or the handler set with
// SetHandler) inside Paved's standard middleware stack.
func (s *Service) publicHandler() (http.Handler, error) {
	h := s.handler
	if h == nil {
		h = s.mux
	}
	return httptransport.Stack(h, httptransport.StackOptions{
		Logger:         s.logger,
		TracerProvider: s.tracer,
		Propagator:     s.propagator,
		Registerer:     s.registry,
		AccessLog:      httptransport.AccessLogOptions{SampleRate: s.cfg.AccessLogSample},
		MaxBodyBytes:   s.cfg.HTTPMaxBodyBytes,
		MaxConcurrent:  s.cfg.HTTPMaxConcurrent,
	})
}

// adminHandler serves the admin endpoints. Handlers added with AdminHandle are on the
// same mux.
func (s *Service) adminHandler() http.Handler {
	m := s.adminMux
	s.health.Mount(m)
	// Without prometheus in OTEL_METRICS_EXPORTER (otlp alone, or none) there is no
	// /metrics: the metrics go where the setting says, and only there.
	if telemetry.ServesMetrics(s.cfg.Tracing) {
		m.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
			EnableOpenMetrics: true,
			Registry:          s.registry,
			ErrorLog:          promLogger{s},
		}))
	}
	m.HandleFunc("GET /info", s.serveInfo)
	m.HandleFunc("GET /config", s.serveConfig)
	m.HandleFunc("GET /apis", s.serveAPIs)
	m.HandleFunc("GET /apis/{name}", s.serveAPI)
	m.Handle("/compliance", compliance.NewHandler(s.ComplianceReport))
	if s.cfg.PprofEnabled && s.profiler != nil {
		s.profiler(m)
	}
	return m
}

type promLogger struct{ s *Service }

func (l promLogger) Println(v ...any) { l.s.logger.Error("metrics", "error", v) }

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
