package fakeconsul

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// NodeName is the node every service of the fake runs on.
const NodeName = "fake-node"

// Server is the fake agent, an http.Handler. See the package documentation.
type Server struct {
	// mu guards the fields below.
	mu       sync.Mutex
	index    uint64
	services map[string]*service // by service id
	changed  chan struct{}       // closed and replaced at each change
	closed   bool
	requests map[string]int // "METHOD /v1/path-pattern" → count
}

type service struct {
	reg        api.AgentServiceRegistration
	checkID    string
	status     string
	output     string
	ttl        time.Duration
	deregAfter time.Duration
	expiry     *time.Timer // turns the check critical
	reaper     *time.Timer // removes the service after critical for deregAfter
}

// New returns an empty fake agent.
func New() *Server {
	return &Server{index: 1, services: map[string]*service{}, changed: make(chan struct{}), requests: map[string]int{}}
}

// Close stops the fake's timers and ends its blocking queries.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, sv := range s.services {
		sv.stopTimers()
	}
	close(s.changed)
}

// Reset forgets every service, as an agent restarted without its data would.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sv := range s.services {
		sv.stopTimers()
		delete(s.services, id)
	}
	s.bumpLocked()
}

// Forget removes the service id, as if the agent lost it.
func (s *Server) Forget(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.services[id]
	if ok {
		sv.stopTimers()
		delete(s.services, id)
		s.bumpLocked()
	}
	return ok
}

// Requests returns how many requests the fake answered for the endpoint, named as in the
// package documentation ("PUT /v1/agent/check/update").
func (s *Server) Requests(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[endpoint]
}

func (sv *service) stopTimers() {
	if sv.expiry != nil {
		sv.expiry.Stop()
	}
	if sv.reaper != nil {
		sv.reaper.Stop()
	}
}

func (s *Server) bumpLocked() {
	s.index++
	if !s.closed {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPut && p == "/v1/agent/service/register":
		s.count("PUT /v1/agent/service/register")
		s.register(w, r)
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/v1/agent/check/update/"):
		s.count("PUT /v1/agent/check/update")
		s.update(w, r, strings.TrimPrefix(p, "/v1/agent/check/update/"))
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/v1/agent/service/deregister/"):
		s.count("PUT /v1/agent/service/deregister")
		s.deregister(w, strings.TrimPrefix(p, "/v1/agent/service/deregister/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1/health/service/"):
		s.count("GET /v1/health/service")
		s.health(w, r, strings.TrimPrefix(p, "/v1/health/service/"))
	default:
		http.Error(w, "fakeconsul: not faked: "+r.Method+" "+p, http.StatusNotFound)
	}
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	s.requests[endpoint]++
	s.mu.Unlock()
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var reg api.AgentServiceRegistration
	if err := json.NewDecoder(r.Body).Decode(&reg); err != nil {
		http.Error(w, "Request decode failed: "+err.Error(), http.StatusBadRequest)
		return
	}
	if reg.Name == "" {
		http.Error(w, "Missing service name", http.StatusBadRequest)
		return
	}
	if reg.ID == "" {
		reg.ID = reg.Name
	}
	sv := &service{reg: reg}
	if c := reg.Check; c != nil {
		ttl, err := time.ParseDuration(c.TTL)
		if err != nil || ttl <= 0 {
			http.Error(w, fmt.Sprintf("Invalid check: TTL must be a positive duration, got %q", c.TTL), http.StatusBadRequest)
			return
		}
		sv.ttl = ttl
		if c.DeregisterCriticalServiceAfter != "" {
			if sv.deregAfter, err = time.ParseDuration(c.DeregisterCriticalServiceAfter); err != nil {
				http.Error(w, "Invalid DeregisterCriticalServiceAfter: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		sv.checkID = c.CheckID
		if sv.checkID == "" {
			sv.checkID = "service:" + reg.ID
		}
		sv.status = c.Status
		if sv.status == "" {
			sv.status = api.HealthCritical
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.services[reg.ID]; old != nil {
		old.stopTimers()
	}
	s.services[reg.ID] = sv
	s.armLocked(sv)
	s.bumpLocked()
}

// armLocked (re)starts the TTL of sv's check.
func (s *Server) armLocked(sv *service) {
	if sv.ttl == 0 {
		return
	}
	sv.stopTimers()
	sv.reaper = nil
	sv.expiry = time.AfterFunc(sv.ttl, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.services[sv.reg.ID] != sv || s.closed {
			return
		}
		sv.status, sv.output = api.HealthCritical, "TTL expired"
		s.bumpLocked()
		if sv.deregAfter > 0 {
			sv.reaper = time.AfterFunc(sv.deregAfter, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.services[sv.reg.ID] == sv && !s.closed {
					delete(s.services, sv.reg.ID)
					s.bumpLocked()
				}
			})
		}
	})
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, checkID string) {
	var body struct{ Status, Output string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "Request decode failed: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch body.Status {
	case api.HealthPassing, api.HealthWarning, api.HealthCritical:
	default:
		http.Error(w, fmt.Sprintf("Invalid check status: %q", body.Status), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sv := range s.services {
		if sv.checkID == checkID && sv.ttl > 0 {
			changed := sv.status != body.Status || sv.output != body.Output
			sv.status, sv.output = body.Status, body.Output
			s.armLocked(sv)
			if changed {
				s.bumpLocked()
			}
			return
		}
	}
	http.Error(w, fmt.Sprintf("CheckID %q does not have associated TTL", checkID), http.StatusInternalServerError)
}

func (s *Server) deregister(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.services[id]
	if !ok {
		http.Error(w, fmt.Sprintf("Unknown service ID %q. Ensure that the service ID is passed, not the service name.", id), http.StatusNotFound)
		return
	}
	sv.stopTimers()
	delete(s.services, id)
	s.bumpLocked()
}

func (s *Server) health(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	var index uint64
	if v := q.Get("index"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			http.Error(w, "Invalid index: "+v, http.StatusBadRequest)
			return
		}
		index = n
	}
	wait := 5 * time.Minute
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			http.Error(w, "Invalid wait time: "+v, http.StatusBadRequest)
			return
		}
		wait = min(d, 10*time.Minute)
	}
	_, passingOnly := q["passing"]

	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		cur, changed, closed := s.index, s.changed, s.closed
		if index == 0 || cur > index || closed {
			entries := s.entriesLocked(name, passingOnly)
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Consul-Index", strconv.FormatUint(cur, 10))
			w.Header().Set("X-Consul-Knownleader", "true")
			_ = json.NewEncoder(w).Encode(entries)
			return
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			index = 0 // answer with the current state
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) entriesLocked(name string, passingOnly bool) []api.ServiceEntry {
	entries := []api.ServiceEntry{}
	ids := make([]string, 0, len(s.services))
	for id, sv := range s.services {
		if sv.reg.Name == name {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		sv := s.services[id]
		checks := api.HealthChecks{{Node: NodeName, CheckID: "serfHealth", Name: "Serf Health Status", Status: api.HealthPassing}}
		if sv.checkID != "" {
			checks = append(checks, &api.HealthCheck{
				Node: NodeName, CheckID: sv.checkID, Name: sv.reg.Check.Name, Status: sv.status,
				Output: sv.output, ServiceID: sv.reg.ID, ServiceName: sv.reg.Name, Type: "ttl",
			})
		}
		if passingOnly && checks.AggregatedStatus() != api.HealthPassing {
			continue
		}
		entries = append(entries, api.ServiceEntry{
			Node: &api.Node{Node: NodeName, Address: "127.0.0.1", Datacenter: "dc1"},
			Service: &api.AgentService{
				ID: sv.reg.ID, Service: sv.reg.Name, Tags: sv.reg.Tags, Meta: sv.reg.Meta,
				Port: sv.reg.Port, Address: sv.reg.Address,
			},
			Checks: checks,
		})
	}
	return entries
}
