package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/apicheck"
	"github.com/paved-road/paved/catalog/store"
)

// The catalog keeps every version of every API a component publishes (docs/apis.md).
// A registration carries each API's descriptor (name, kind, digest, size), never the
// definition: when an instance registers or heartbeats with a digest the store does not
// have, the catalog fetches the definition once from the instance's admin address
// (/apis/{name}), an address the address policy admitted at registration and that is
// checked again when dialled. The fetch is bounded (DefaultAPIFetchTimeout,
// catalog.MaxAPIDefinitionBytes), its digest must be the registered one, and it runs
// in [Server.Run], at most apiFetchers at once; a failed fetch is logged and tried again
// at a later registration or heartbeat, at most once per apiRetry.

// DefaultAPIFetchTimeout bounds the fetch of one API definition from an instance.
const DefaultAPIFetchTimeout = 10 * time.Second

const (
	apiFetchers   = 2                // fetches at once
	apiQueue      = 64               // fetches waiting; more are dropped and tried again later
	apiRetry      = time.Minute      // least time between two fetches of one digest
	apiRuleMaxAge = 5 * time.Second  // how long the api-compatible verdicts are reused
	apiKnownMax   = 1 << 16          // digests remembered as stored
	apiTriedMax   = 4096             // failed digests remembered
	apiRuleID     = "api-compatible" // the catalog-side compliance rule
)

// apiFetch is one definition to fetch.
type apiFetch struct {
	component, instance, admin string
	api                        catalog.API
}

// apis is the Server's state of API versions: what is stored, what is being fetched,
// and the verdicts of the api-compatible rule.
type apis struct {
	queue  chan apiFetch
	client *http.Client

	mu       sync.Mutex
	known    map[string]bool               // name@digest stored
	inflight map[string]bool               // name@digest queued or being fetched
	tried    map[string]time.Time          // name@digest: last failed fetch
	rule     map[string]catalog.RuleResult // api-compatible failures by component; nil: to compute
	ruleAt   time.Time                     // when rule was computed
	gen      uint64                        // grows at every apisChanged
}

func newAPIs(p *addressPolicy) *apis {
	d := &net.Dialer{Timeout: DefaultAPIFetchTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		// The address dialled, after any resolution: a name that now resolves into a
		// refused network is refused here, not only at registration.
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("address %q: %w", address, err)
		}
		if why := p.checkIP(ap.Addr()); why != "" {
			return fmt.Errorf("%s %s (%s)", ap.Addr(), why, p.describe)
		}
		return nil
	}}
	return &apis{
		queue: make(chan apiFetch, apiQueue),
		client: &http.Client{
			Timeout: DefaultAPIFetchTimeout,
			Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, MaxResponseHeaderBytes: 16 << 10,
				ResponseHeaderTimeout: DefaultAPIFetchTimeout, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		known: map[string]bool{}, inflight: map[string]bool{}, tried: map[string]time.Time{},
	}
}

func apiKey(name, digest string) string { return name + "@" + digest }

// noteAPIs queues the fetch of each API of the instance's component whose digest is not
// stored yet. c is the component when the caller read it already (a heartbeat), else
// nil: it is read then (a registration). A heartbeat of a component whose digests are
// known to be stored costs map lookups only.
func (s *Server) noteAPIs(ctx context.Context, in catalog.Instance, c *catalog.Component) {
	if in.Addresses.Admin == "" {
		return
	}
	if c == nil {
		got, err := s.raw.GetComponent(ctx, in.Component)
		if err != nil {
			return
		}
		c = &got
	}
	now := s.now()
	for _, a := range c.APIs {
		key := apiKey(a.Name, a.Digest)
		s.apis.mu.Lock()
		skip := s.apis.known[key] || s.apis.inflight[key] || now.Sub(s.apis.tried[key]) < apiRetry
		s.apis.mu.Unlock()
		if skip {
			continue
		}
		if vs, err := s.raw.APIVersions(ctx, a.Name); err == nil && slices.ContainsFunc(vs, func(v catalog.APIVersion) bool { return v.Digest == a.Digest }) {
			s.markKnown(key) // stored before this process started, or by another catalog process
			continue
		}
		s.apis.mu.Lock()
		if s.apis.inflight[key] {
			s.apis.mu.Unlock()
			continue
		}
		select {
		case s.apis.queue <- apiFetch{component: in.Component, instance: in.ID, admin: in.Addresses.Admin, api: a}:
			s.apis.inflight[key] = true
		default: // full: a later heartbeat tries again
		}
		s.apis.mu.Unlock()
	}
}

func (s *Server) markKnown(key string) {
	s.apis.mu.Lock()
	defer s.apis.mu.Unlock()
	if len(s.apis.known) >= apiKnownMax {
		clear(s.apis.known)
	}
	s.apis.known[key] = true
}

// runAPIFetchers fetches the queued definitions until ctx ends; it returns when every
// fetcher has stopped.
func (s *Server) runAPIFetchers(ctx context.Context) {
	var wg sync.WaitGroup
	for range apiFetchers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case f := <-s.apis.queue:
					s.fetchAPI(ctx, f)
				}
			}
		})
	}
	wg.Wait()
}

// fetchAPI fetches one definition, checks it against the latest stored version and
// stores it.
func (s *Server) fetchAPI(ctx context.Context, f apiFetch) {
	key := apiKey(f.api.Name, f.api.Digest)
	ok := false
	defer func() {
		s.apis.mu.Lock()
		delete(s.apis.inflight, key)
		if !ok {
			if len(s.apis.tried) >= apiTriedMax {
				clear(s.apis.tried)
			}
			s.apis.tried[key] = s.now()
		}
		s.apis.mu.Unlock()
	}()
	def, err := s.download(ctx, f)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("catalog: fetching an API definition failed; tried again at a later heartbeat", "component", f.component,
				"instance", f.instance, "api", f.api.Name, "digest", f.api.Digest, "err", err)
		}
		return
	}
	created, err := s.storeAPIVersion(ctx, f.component, f.api, def)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("catalog: storing an API version failed", "component", f.component, "api", f.api.Name, "digest", f.api.Digest, "err", err)
		}
		return
	}
	ok = true
	s.markKnown(key)
	if created {
		s.log.Info("catalog: stored a new API version", "component", f.component, "api", f.api.Name, "version", f.api.Version, "digest", f.api.Digest)
	}
}

// download reads /apis/{name} from the instance's admin address and checks its size and
// digest against the descriptor.
func (s *Server) download(ctx context.Context, f apiFetch) ([]byte, error) {
	u := url.URL{Scheme: "http", Host: f.admin, Path: "/apis/" + f.api.Name}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.apis.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d, want 200", u.String(), resp.StatusCode)
	}
	if resp.ContentLength > catalog.MaxAPIDefinitionBytes {
		return nil, fmt.Errorf("GET %s: %d bytes, more than the %d a definition may have", u.String(), resp.ContentLength, catalog.MaxAPIDefinitionBytes)
	}
	def, err := io.ReadAll(io.LimitReader(resp.Body, catalog.MaxAPIDefinitionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.String(), err)
	}
	if len(def) > catalog.MaxAPIDefinitionBytes {
		return nil, fmt.Errorf("GET %s: more than the %d bytes a definition may have", u.String(), catalog.MaxAPIDefinitionBytes)
	}
	if d := catalog.Digest(def); d != f.api.Digest || len(def) != f.api.Size {
		return nil, fmt.Errorf("GET %s: got %d bytes of digest %s, want the registered %d bytes of digest %s (the instance serves another version than it registered)",
			u.String(), len(def), d, f.api.Size, f.api.Digest)
	}
	return def, nil
}

// storeAPIVersion checks definition def of api, published by component, against the
// latest stored version of the API and stores it. It reports whether it was new.
func (s *Server) storeAPIVersion(ctx context.Context, component string, api catalog.API, def []byte) (bool, error) {
	v := catalog.APIVersion{API: api, Provider: component, PublishedAt: s.now().UTC().Round(0)}
	prev, err := s.raw.APIVersions(ctx, api.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, err
	default:
		if slices.ContainsFunc(prev, func(p catalog.APIVersion) bool { return p.Digest == api.Digest }) {
			return false, nil
		}
		latest := prev[len(prev)-1]
		v.Previous = latest.Digest
		old, err := s.raw.APIDefinition(ctx, api.Name, latest.Digest)
		if err != nil {
			return false, err
		}
		if latest.Kind != api.Kind {
			v.CheckError = fmt.Sprintf("the previous version is of kind %s, this one of kind %s: not compared", latest.Kind, api.Kind)
		} else if v.Breaking, err = apicheck.Check(api.Kind, old, def); err != nil {
			v.Breaking, v.CheckError = nil, clipMessage(err.Error())
		}
	}
	created, err := s.raw.PutAPIVersion(ctx, v, def)
	if created {
		s.apisChanged()
	}
	return created, err
}

// apisChanged drops the api-compatible verdicts: a version was stored, or a component
// (a provider or consumer) changed.
func (s *Server) apisChanged() {
	s.apis.mu.Lock()
	s.apis.rule = nil
	s.apis.gen++
	s.apis.mu.Unlock()
}

// LatestAPIDefinition returns the latest stored version of the API name and its
// definition, or an error wrapping store.ErrNotFound when none is stored. It is the
// lookup exports use to embed a definition (Backstage's spec.definition); its
// signature is stable.
func (s *Server) LatestAPIDefinition(ctx context.Context, name string) (catalog.APIVersion, []byte, error) {
	vs, err := s.raw.APIVersions(ctx, name)
	if err != nil {
		return catalog.APIVersion{}, nil, err
	}
	v := vs[len(vs)-1]
	def, err := s.raw.APIDefinition(ctx, name, v.Digest)
	if err != nil {
		return catalog.APIVersion{}, nil, err
	}
	return v, def, nil
}

// summaries returns what the catalog knows of every API.
func (s *Server) summaries(ctx context.Context) ([]catalog.APISummary, error) {
	comps, err := s.st.ListComponents(ctx, catalog.ComponentFilter{})
	if err != nil {
		return nil, err
	}
	vs, err := s.st.APIVersions(ctx, "")
	if err != nil {
		return nil, err
	}
	return catalog.SummarizeAPIs(comps, vs), nil
}

func (s *Server) listAPIs(w http.ResponseWriter, r *http.Request) {
	all, err := s.summaries(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range all {
		all[i].Versions = nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"apis": all})
}

// summary returns the summary of the API in the path, or writes 404.
func (s *Server) summary(w http.ResponseWriter, r *http.Request) (catalog.APISummary, bool) {
	name := r.PathValue("name")
	if !catalog.IsAPIName(name) {
		s.problem(w, r, http.StatusNotFound, "no API "+strconv.Quote(catalog.Clip(name))+": an API name is "+catalog.APINameRule, nil)
		return catalog.APISummary{}, false
	}
	all, err := s.summaries(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return catalog.APISummary{}, false
	}
	i := slices.IndexFunc(all, func(a catalog.APISummary) bool { return a.Name == name })
	if i < 0 {
		s.problem(w, r, http.StatusNotFound, "no API "+strconv.Quote(name)+" is provided, consumed or stored", nil)
		return catalog.APISummary{}, false
	}
	return all[i], true
}

func (s *Server) getAPI(w http.ResponseWriter, r *http.Request) {
	sum, ok := s.summary(w, r)
	if !ok {
		return
	}
	if sum.Versions == nil {
		sum.Versions = []catalog.APIVersion{}
	}
	writeJSON(w, http.StatusOK, sum)
}

// getAPIDefinition serves a stored definition with its media type: the latest
// version, the one of ?digest=, or the latest of ?version=.
func (s *Server) getAPIDefinition(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var errs []catalog.FieldError
	for k := range q {
		if k != "digest" && k != "version" {
			errs = append(errs, catalog.FieldError{Field: k, Message: "unknown parameter; valid: digest, version"})
		}
	}
	digest, version := q.Get("digest"), q.Get("version")
	if digest != "" && version != "" {
		errs = append(errs, catalog.FieldError{Field: "digest", Message: "give digest or version, not both"})
	}
	if digest != "" && !strings.HasPrefix(digest, "sha256:") {
		errs = append(errs, catalog.FieldError{Field: "digest", Message: "must be \"sha256:\" and 64 lower-case hex digits, got " + strconv.Quote(catalog.Clip(digest))})
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b catalog.FieldError) int { return strings.Compare(a.Field, b.Field) })
		s.problem(w, r, http.StatusBadRequest, "invalid query parameters", errs)
		return
	}
	name := r.PathValue("name")
	vs, err := s.st.APIVersions(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	i := len(vs) - 1
	switch {
	case digest != "":
		i = slices.IndexFunc(vs, func(v catalog.APIVersion) bool { return v.Digest == digest })
	case version != "":
		i = -1
		for j, v := range vs {
			if v.Version == version {
				i = j // the latest of that version
			}
		}
	}
	if i < 0 {
		s.problem(w, r, http.StatusNotFound, "API "+strconv.Quote(name)+" has no stored version of that digest or version", nil)
		return
	}
	v := vs[i]
	def, err := s.st.APIDefinition(r.Context(), name, v.Digest)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", v.MediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+v.Digest+`"`)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", v.PublishedAt, bytes.NewReader(def))
}

// apiRule returns the api-compatible verdict of each component that fails it: a
// provider of an API whose latest version breaks the one before while another
// component still consumes the API. The verdicts are computed at most every
// apiRuleMaxAge, and again as soon as a version is stored.
func (s *Server) apiRule(ctx context.Context) (map[string]catalog.RuleResult, error) {
	s.apis.mu.Lock()
	if s.apis.rule != nil && s.now().Sub(s.apis.ruleAt) < apiRuleMaxAge {
		defer s.apis.mu.Unlock()
		return s.apis.rule, nil
	}
	gen := s.apis.gen
	s.apis.mu.Unlock()
	comps, err := s.raw.ListComponents(ctx, catalog.ComponentFilter{})
	if err != nil {
		return nil, err
	}
	vs, err := s.raw.APIVersions(ctx, "")
	if err != nil {
		return nil, err
	}
	rule := map[string]catalog.RuleResult{}
	for _, a := range catalog.SummarizeAPIs(comps, vs) {
		if !a.Breaking() {
			continue
		}
		for _, p := range a.Providers {
			var users []string
			for _, c := range a.Consumers {
				if c.Component != p {
					users = append(users, c.Component)
				}
			}
			if len(users) == 0 {
				continue
			}
			var parts []string
			for _, b := range a.Latest.Breaking {
				parts = append(parts, strings.TrimSpace(b.Operation+" "+b.ID))
			}
			msg := fmt.Sprintf("API %s version %s breaks %s (%d breaking change(s): %s) while %s still consume(s) it",
				a.Name, cmpOr(a.Latest.Version, a.Latest.Digest), cmpOr(shortDigest(a.Latest.Previous), "the previous version"),
				len(a.Latest.Breaking), strings.Join(parts, "; "), strings.Join(users, ", "))
			if old, ok := rule[p]; ok {
				msg = old.Message + "; " + msg
			}
			rule[p] = catalog.RuleResult{ID: apiRuleID, Level: catalog.LevelError, Message: clipMessage(msg)}
		}
	}
	s.apis.mu.Lock()
	if s.apis.gen == gen { // else a change came while computing: the next call computes again
		s.apis.rule, s.apis.ruleAt = rule, s.now()
	}
	s.apis.mu.Unlock()
	return rule, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// shortDigest is a digest's first 12 hex digits, as people quote it.
func shortDigest(d string) string {
	if h, ok := strings.CutPrefix(d, "sha256:"); ok && len(h) >= 12 {
		return "sha256:" + h[:12]
	}
	return d
}

// applyAPIRule adds the api-compatible failure of component to its scorecard.
func (s *Server) applyAPIRule(ctx context.Context, sc *catalog.ComponentScorecard) error {
	rule, err := s.apiRule(ctx)
	if err != nil {
		return err
	}
	res, ok := rule[sc.Component]
	if !ok {
		return nil
	}
	for i := range sc.Instances {
		card := &sc.Instances[i]
		card.Passed = slices.DeleteFunc(card.Passed, func(id string) bool { return id == apiRuleID })
		card.Failed = slices.DeleteFunc(card.Failed, func(f catalog.RuleResult) bool { return f.ID == apiRuleID })
		card.Failed = append(card.Failed, res)
		slices.SortFunc(card.Failed, func(a, b catalog.RuleResult) int { return strings.Compare(a.ID, b.ID) })
	}
	if len(sc.Instances) > 0 {
		sc.Failing = catalog.FailingRules(sc.Instances)
		return nil
	}
	sc.Failing = slices.DeleteFunc(sc.Failing, func(f catalog.RuleResult) bool { return f.ID == apiRuleID })
	sc.Failing = append(sc.Failing, res)
	slices.SortFunc(sc.Failing, func(a, b catalog.RuleResult) int { return strings.Compare(a.ID, b.ID) })
	return nil
}
