package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// filteredComponents lists the components that the request's filters (see
// [Server.filter]) select; it answers the request itself and returns false when they are
// invalid or the store fails.
func (s *Server) filteredComponents(w http.ResponseWriter, r *http.Request) ([]catalog.Component, bool) {
	f, ok := s.filter(w, r)
	if !ok {
		return nil, false
	}
	list, err := s.st.ListComponents(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return list, true
}

// filter reads a component filter from the query, or writes a 400 problem and returns
// false.
func (s *Server) filter(w http.ResponseWriter, r *http.Request) (catalog.ComponentFilter, bool) {
	q := r.URL.Query()
	f := catalog.ComponentFilter{Owner: q.Get("owner"), Lifecycle: catalog.Lifecycle(q.Get("lifecycle")), Text: q.Get("q")}
	var errs []catalog.FieldError
	if t := q.Get("tier"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < catalog.MinTier || n > catalog.MaxTier {
			errs = append(errs, catalog.FieldError{Field: "tier", Message: "must be a number from 1 to 4, got " + strconv.Quote(t)})
		}
		f.Tier = n
	}
	if f.Lifecycle != "" && !f.Lifecycle.Valid() {
		errs = append(errs, catalog.FieldError{Field: "lifecycle", Message: "must be one of experimental, production, deprecated, got " + strconv.Quote(string(f.Lifecycle))})
	}
	for _, l := range q["label"] {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			errs = append(errs, catalog.FieldError{Field: "label", Message: "must be key=value, got " + strconv.Quote(l)})
			continue
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		f.Labels[k] = v
	}
	if len(errs) > 0 {
		s.problem(w, r, http.StatusBadRequest, "invalid query parameters", errs)
		return f, false
	}
	return f, true
}

func (s *Server) listComponents(w http.ResponseWriter, r *http.Request) {
	failing, hasFailing := r.URL.Query()["failing"]
	if hasFailing && (len(failing) != 1 || !validRuleID(failing[0])) {
		s.problem(w, r, http.StatusBadRequest, "invalid query parameters", []catalog.FieldError{{Field: "failing",
			Message: "must be one rule id such as runbook-link (1-128 printable ASCII characters without spaces), got " + strconv.Quote(strings.Join(failing, ","))}})
		return
	}
	list, ok := s.filteredComponents(w, r)
	if !ok {
		return
	}
	if hasFailing {
		var err error
		if list, err = s.failingComponents(r.Context(), list, failing[0]); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, list)
}

// validRuleID reports whether id is a rule id as scorecards carry them: 1-128 printable
// ASCII characters without spaces.
func validRuleID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// failingComponents keeps the components of list whose scorecard (as scored by the
// scorecards file) fails rule. It reads one scorecard per component.
func (s *Server) failingComponents(ctx context.Context, list []catalog.Component, rule string) ([]catalog.Component, error) {
	out := list[:0]
	for _, c := range list {
		sc, err := s.st.Scorecard(ctx, c.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the list
		}
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(sc.Failing, func(f catalog.RuleResult) bool { return f.ID == rule }) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Server) getComponent(w http.ResponseWriter, r *http.Request) {
	c, err := s.st.GetComponent(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// existingOwner returns the owner of a component, "" when it does not exist.
func (s *Server) existingOwner(ctx context.Context, name string) (string, error) {
	c, err := s.st.GetComponent(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return c.Owner, err
}

func (s *Server) putComponent(w http.ResponseWriter, r *http.Request) {
	who, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	owner, err := s.existingOwner(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if owner != "" && !who.mayChange(owner) {
		s.forbid(w, r, who, owner)
		return
	}
	var c catalog.Component
	if err := s.decode(r, &c); err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Name == "" {
		c.Name = name
	}
	if c.Name != name {
		s.problem(w, r, http.StatusBadRequest, "the body names another component than the path",
			[]catalog.FieldError{{Field: "name", Message: "must be " + strconv.Quote(name) + " as in the path, got " + strconv.Quote(c.Name)}})
		return
	}
	if err := c.Validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	if !who.mayChange(c.Owner) {
		s.problem(w, r, http.StatusForbidden, "team "+strconv.Quote(who.team)+" may not create or give a component to team "+strconv.Quote(c.Owner), nil)
		return
	}
	created, err := s.st.PutComponent(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.apisChanged()
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", r.URL.Path)
	}
	writeJSON(w, status, c)
}

// authorizeComponent authenticates the caller and checks it may change component name,
// which must exist. It writes the problem and returns false otherwise.
func (s *Server) authorizeComponent(w http.ResponseWriter, r *http.Request, name string) bool {
	who, ok := s.authenticate(w, r)
	if !ok {
		return false
	}
	c, err := s.st.GetComponent(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if !who.mayChange(c.Owner) {
		s.forbid(w, r, who, c.Owner)
		return false
	}
	return true
}

func (s *Server) deleteComponent(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.authorizeComponent(w, r, name) {
		return
	}
	if err := s.st.DeleteComponent(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apisChanged()
	w.WriteHeader(http.StatusNoContent)
}

// heartbeatOnly reads the If-Match header of an instance PUT: "*" makes it a heartbeat
// that acts only on an existing instance (RFC 9110, section 13.1.1). Instances have no
// entity tags, so any other If-Match never matches: it writes 412 and returns ok false.
func (s *Server) heartbeatOnly(w http.ResponseWriter, r *http.Request) (heartbeat, ok bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	switch v {
	case "":
		return false, true
	case "*":
		return true, true
	}
	s.problem(w, r, http.StatusPreconditionFailed, "If-Match "+strconv.Quote(v)+" does not match: instances have no entity tags; send If-Match: * to heartbeat an existing instance", nil)
	return false, false
}

// unknownInstance writes the 412 of a heartbeat whose instance does not exist.
func (s *Server) unknownInstance(w http.ResponseWriter, r *http.Request, name, id string) {
	s.problem(w, r, http.StatusPreconditionFailed, "instance "+strconv.Quote(name+"/"+id)+" is not registered (never registered, deregistered, expired or its component deleted): register it again with a PUT without If-Match", nil)
}

func (s *Server) putInstance(w http.ResponseWriter, r *http.Request) {
	name, id := r.PathValue("name"), r.PathValue("id")
	heartbeat, ok := s.heartbeatOnly(w, r)
	if !ok {
		return
	}
	var comp *catalog.Component // read by a heartbeat, for noteAPIs
	if heartbeat {
		// The component may be gone with its instances (a catalog restarted empty): that
		// is an unknown instance too, which the caller answers by registering again.
		who, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		c, err := s.st.GetComponent(r.Context(), name)
		if errors.Is(err, store.ErrNotFound) {
			s.unknownInstance(w, r, name, id)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !who.mayChange(c.Owner) {
			s.forbid(w, r, who, c.Owner)
			return
		}
		comp = &c
	} else if !s.authorizeComponent(w, r, name) {
		return
	}
	var in catalog.Instance
	if err := s.decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	var errs []catalog.FieldError
	if in.Component == "" {
		in.Component = name
	}
	if in.ID == "" {
		in.ID = id
	}
	if in.Component != name {
		errs = append(errs, catalog.FieldError{Field: "component", Message: "must be " + strconv.Quote(name) + " as in the path, got " + strconv.Quote(in.Component)})
	}
	if in.ID != id {
		errs = append(errs, catalog.FieldError{Field: "id", Message: "must be " + strconv.Quote(id) + " as in the path, got " + strconv.Quote(in.ID)})
	}
	if len(errs) > 0 {
		s.problem(w, r, http.StatusBadRequest, "the body names another instance than the path", errs)
		return
	}
	if !s.admitAddresses(w, r, in) {
		return
	}
	put := s.st.PutInstance
	if heartbeat {
		put = s.st.HeartbeatInstance
	}
	stored, err := put(r.Context(), in)
	if heartbeat && errors.Is(err, store.ErrNotFound) {
		s.unknownInstance(w, r, name, id)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.noteAPIs(r.Context(), stored, comp)
	writeJSON(w, http.StatusOK, stored)
}

func (s *Server) deleteInstance(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.authorizeComponent(w, r, name) {
		return
	}
	if err := s.st.DeleteInstance(r.Context(), name, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// IndexHeader carries the change index of an instance list, for the next long poll.
const IndexHeader = "X-Catalog-Index"

func (s *Server) listInstances(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q := r.URL.Query()
	all := false
	switch st := q.Get("status"); st {
	case "", "healthy":
	case "all":
		all = true
	default:
		s.problem(w, r, http.StatusBadRequest, "invalid query parameters",
			[]catalog.FieldError{{Field: "status", Message: "must be healthy (the default) or all, got " + strconv.Quote(st)}})
		return
	}
	var set store.InstanceSet
	var err error
	if ix := q.Get("index"); ix != "" {
		after, perr := strconv.ParseUint(ix, 10, 64)
		wait := s.waitDef
		var errs []catalog.FieldError
		if perr != nil {
			errs = append(errs, catalog.FieldError{Field: "index", Message: "must be a non-negative integer from " + IndexHeader + ", got " + strconv.Quote(ix)})
		}
		if ws := q.Get("wait"); ws != "" {
			d, derr := time.ParseDuration(ws)
			if derr != nil || d <= 0 {
				errs = append(errs, catalog.FieldError{Field: "wait", Message: "must be a positive duration such as 30s, got " + strconv.Quote(ws)})
			}
			wait = min(d, s.waitLimit)
		}
		if len(errs) > 0 {
			s.problem(w, r, http.StatusBadRequest, "invalid query parameters", errs)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		set, err = s.st.Watch(ctx, name, after)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
			// Nothing changed within the wait: answer with the current set.
			set, err = s.st.Instances(r.Context(), name)
		}
	} else {
		set, err = s.st.Instances(r.Context(), name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !all {
		healthy := set.Instances[:0:0]
		for _, in := range set.Instances {
			if in.Healthy() {
				healthy = append(healthy, in)
			}
		}
		set.Instances = healthy
	}
	if set.Instances == nil {
		set.Instances = []catalog.Instance{}
	}
	w.Header().Set(IndexHeader, strconv.FormatUint(set.Index, 10))
	writeJSON(w, http.StatusOK, set)
}

func (s *Server) getScorecard(w http.ResponseWriter, r *http.Request) {
	sc, err := s.st.Scorecard(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

func (s *Server) putScorecard(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.authorizeComponent(w, r, name) {
		return
	}
	var sc catalog.Scorecard
	if err := s.decode(r, &sc); err != nil {
		s.fail(w, r, err)
		return
	}
	if sc.Component == "" {
		sc.Component = name
	}
	if sc.Component != name {
		s.problem(w, r, http.StatusBadRequest, "the body names another component than the path",
			[]catalog.FieldError{{Field: "component", Message: "must be " + strconv.Quote(name) + " as in the path, got " + strconv.Quote(sc.Component)}})
		return
	}
	if err := s.st.PutScorecard(r.Context(), sc); err != nil {
		s.fail(w, r, err)
		return
	}
	s.retainScorecard(r.Context(), sc)
	w.WriteHeader(http.StatusNoContent)
}

// TargetGroup is one entry of Prometheus HTTP service discovery: one live instance.
type TargetGroup struct {
	Targets []string          `json:"targets"` // host:port to scrape: the admin address
	Labels  map[string]string `json:"labels"`  // component, owner, tier, lifecycle, version, instance_id, health (passing, warning or critical), environment (when registered)
}

// targets lists the admin address of every live instance (registered and not expired,
// whatever its readiness), labelled with its component and its health, so that
// Prometheus keeps scraping an instance that fails readiness. An address the address
// policy refuses is not published, whenever it was registered.
func (s *Server) targets(w http.ResponseWriter, r *http.Request) {
	comps, err := s.st.ListComponents(r.Context(), catalog.ComponentFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byName := make(map[string]*catalog.Component, len(comps))
	for i := range comps {
		byName[comps[i].Name] = &comps[i]
	}
	set, err := s.st.Instances(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	live := set.Instances[:0:0]
	admins := make([]string, 0, len(set.Instances))
	for _, in := range set.Instances {
		if byName[in.Component] == nil || in.Expired || in.Addresses.Admin == "" {
			continue
		}
		live = append(live, in)
		admins = append(admins, in.Addresses.Admin)
	}
	allowed := s.policy.publishable(r.Context(), admins)
	out := []TargetGroup{}
	for _, in := range live {
		if !allowed(in.Addresses.Admin) {
			continue
		}
		c := byName[in.Component]
		labels := map[string]string{
			"component":   in.Component,
			"owner":       c.Owner,
			"tier":        strconv.Itoa(c.Tier),
			"lifecycle":   string(c.Lifecycle),
			"version":     in.Version,
			"instance_id": in.ID,
			"health":      string(in.Status),
		}
		if env := in.Metadata[EnvironmentMetadata]; env != "" {
			labels["environment"] = env
		}
		out = append(out, TargetGroup{Targets: []string{in.Addresses.Admin}, Labels: labels})
	}
	writeJSON(w, http.StatusOK, out)
}

const yamlContentType = "application/yaml"

// exportOne serves one component in a descriptor format.
func (s *Server) exportOne(render func(catalog.Component) []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.st.GetComponent(r.Context(), r.PathValue("name"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", yamlContentType)
		_, _ = w.Write(render(c))
	}
}

// exportAll serves every component in a descriptor format, as one multi-document YAML
// stream; the filters of the component list apply.
func (s *Server) exportAll(render func(catalog.Component) []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list, ok := s.filteredComponents(w, r)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", yamlContentType)
		for _, c := range list {
			_, _ = io.WriteString(w, "---\n")
			_, _ = w.Write(render(c))
		}
	}
}
