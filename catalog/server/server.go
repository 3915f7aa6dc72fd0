package server

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/problem"
	"github.com/paved-road/paved/transport/httptransport"
)

// DefaultMaxBodyBytes is the body limit of a write when [Options.MaxBodyBytes] is 0.
const DefaultMaxBodyBytes = 64 << 10

// Options are a Server's settings. The zero value serves reads to anyone and refuses
// every write (no token is known).
type Options struct {
	// Tokens maps team tokens to teams. Nil means none.
	Tokens *Tokens
	// AdminToken, when set, may change any component. It is kept hashed.
	AdminToken string
	// ReadToken, when set, makes reads need a token: this one, a team's or the admin's.
	ReadToken string
	// Open lets every write through without a token. For local development only: New
	// logs a warning.
	Open bool
	// Logger receives errors and the open-mode warning. Nil means discard.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies. Zero means [DefaultMaxBodyBytes] (64 KiB).
	MaxBodyBytes int64
	// DefaultWait is how long a long poll (?index=) waits when it gives no ?wait=. Zero
	// means 30 s.
	DefaultWait time.Duration
	// MaxWait caps ?wait=. Zero means 5 minutes.
	MaxWait time.Duration
	// Scorecards is the platform team's scorecards file (compliance.LoadScorecards, the
	// catalog's CATALOG_SCORECARDS_FILE): each component's scorecard is scored by the
	// scorecards that apply to it, with their levels and weights. Nil means the cards as
	// the instances reported them.
	Scorecards *compliance.ScorecardFile
	// RuleSet fills in the weights, levels and titles of the rules named in reported
	// cards when scoring them by Scorecards; the file must have been parsed with it. The
	// zero RuleSet means compliance.DefaultRuleSet().
	RuleSet compliance.RuleSet

	// Development says the catalog runs in SERVICE_ENV=development: the default address
	// policy then allows loopback and private networks. Open implies it.
	Development bool
	// AllowedNetworks is the address policy (CATALOG_ALLOWED_NETWORKS): the networks
	// the addresses of registered instances may be in. Nil means
	// DefaultAllowedNetworks(Development): outside development private networks and
	// public addresses, never loopback. Loopback is allowed only by a network inside a
	// loopback range (127.0.0.0/8, ::1/128 or narrower), not by a wider one such as
	// 0.0.0.0/0. Link-local (169.254.0.0/16, fe80::/10), unspecified and multicast
	// addresses and the cloud metadata addresses (169.254.169.254, fd00:ec2::254,
	// 100.100.100.200, metadata.google.internal...) are refused whatever the list. A
	// host name is allowed when every address it resolves to is. docs/catalog.md
	// describes the policy.
	AllowedNetworks []netip.Prefix
	// Resolver resolves the host names of instance addresses. Nil means
	// net.DefaultResolver.
	Resolver Resolver
	// ResolveTimeout bounds the resolution of one host name. Zero means
	// DefaultResolveTimeout (2 s).
	ResolveTimeout time.Duration
	// Registerer receives the catalog's own metrics (paved_catalog_*, docs/metrics.md);
	// [Server.Run] feeds the expirations counter. Nil means none. New panics when a name
	// is taken already on it (a registry given to two servers).
	Registerer prometheus.Registerer
	// Limits are the per-client limits: a connection cap per client (applied by
	// [Server.LimitListener]) and request rates per client and per token. The zero value
	// limits nothing; the catalog program uses [DefaultLimits].
	Limits Limits
	// DORA tunes how deployments and incidents are recorded and DORA's keys computed.
	DORA DORAOptions
	// CompassIDs are the Compass ids of teams and components (CATALOG_COMPASS_TEAMS,
	// CATALOG_COMPASS_COMPONENTS): the compass.yml export's ownerId, id and
	// relationships.DEPENDS_ON, and the push's. It must be valid (CompassIDs.Validate).
	CompassIDs catalog.CompassIDs
	// Compass, when set, keeps Atlassian Compass in step with the catalog (compass.go):
	// New then needs a store that implements store.Outbox, and [Server.RunCompass]
	// sends what the outbox holds.
	Compass *CompassOptions
}

// Server is the catalog REST API. It implements http.Handler.
type Server struct {
	st        store.Store
	opts      Options
	log       *slog.Logger
	admin     *[sha256.Size]byte
	read      *[sha256.Size]byte
	tokens    *Tokens
	mux       *http.ServeMux
	maxBody   int64
	waitDef   time.Duration
	waitLimit time.Duration
	policy    *addressPolicy
	// raw is the store New was given; base is raw timed and counted (meteredStore),
	// under st, which adds the scores.
	raw, base store.Store
	met       *metrics
	lim       *limiter
	now       func() time.Time
	front     http.Handler   // mux behind the rate limits (rateGuard)
	dora      DORAOptions    // with defaults
	compass   *compassPusher // nil without Options.Compass (compass.go)
	apis      *apis          // API versions being fetched, api-compatible verdicts (apis.go)
	set       compliance.RuleSet
	changes   changes // writes other than instances', for WaitChange (changes.go)
}

// New returns a Server over st.
func New(st store.Store, opts Options) *Server {
	set := opts.RuleSet
	if set.Len() == 0 {
		set = compliance.DefaultRuleSet()
	}
	s := &Server{raw: st, opts: opts, log: opts.Logger, tokens: opts.Tokens, maxBody: opts.MaxBodyBytes,
		waitDef: opts.DefaultWait, waitLimit: opts.MaxWait, met: newMetrics(), lim: newLimiter(opts.Limits), now: time.Now}
	s.dora = opts.DORA.withDefaults()
	s.set = set
	s.raw = notifyingStore{Store: s.newCompass(st, opts.Compass), ch: &s.changes}
	s.base = meteredStore{Store: s.raw, s: s}
	s.st = &scoredStore{Store: s.base, file: opts.Scorecards, set: set, api: s.applyAPIRule}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.tokens == nil {
		s.tokens = &Tokens{}
	}
	if opts.AdminToken != "" {
		h := sha256.Sum256([]byte(opts.AdminToken))
		s.admin = &h
	}
	if opts.ReadToken != "" {
		h := sha256.Sum256([]byte(opts.ReadToken))
		s.read = &h
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.waitDef <= 0 {
		s.waitDef = 30 * time.Second
	}
	if s.waitLimit <= 0 {
		s.waitLimit = 5 * time.Minute
	}
	if opts.Open {
		s.log.Warn("catalog: open mode: writes need no token; never use it outside local development")
	}
	s.policy = newAddressPolicy(opts)
	s.apis = newAPIs(s.policy)
	s.routes()
	s.front = s.rateGuard(s.mux)
	if opts.Registerer != nil {
		if s.compass != nil {
			if err := s.compass.met.register(opts.Registerer); err != nil {
				panic("server: registering the catalog's Compass metrics (paved_catalog_compass_*) on Options.Registerer: " + err.Error())
			}
		}
		if err := s.met.register(opts.Registerer, s); err != nil {
			panic("server: registering the catalog's metrics (paved_catalog_*) on Options.Registerer: " + err.Error())
		}
	}
	return s
}

// Store returns the store as the API reads it: scorecards scored by Options.Scorecards,
// with their failing rules. Give it to the UI (ui.New) so that its pages show the scores
// the API computes. Closing it closes the store New was given.
func (s *Server) Store() store.Store { return s.st }

// OpenMode reports whether writes need no token (for the UI's banner).
func (s *Server) OpenMode() bool { return s.opts.Open }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.front.ServeHTTP(w, r) }

// Route is one operation of the API: a method and a ServeMux path pattern.
type Route struct {
	Method  string // GET, PUT, POST or DELETE
	Pattern string // the ServeMux path pattern, such as /api/v1/components/{name}
}

// Routes returns the API's operations, in the order of the OpenAPI document.
func Routes() []Route {
	return []Route{
		{"GET", "/api/v1/components"},
		{"GET", "/api/v1/components/{name}"},
		{"PUT", "/api/v1/components/{name}"},
		{"DELETE", "/api/v1/components/{name}"},
		{"GET", "/api/v1/components/{name}/instances"},
		{"PUT", "/api/v1/components/{name}/instances/{id}"},
		{"DELETE", "/api/v1/components/{name}/instances/{id}"},
		{"GET", "/api/v1/components/{name}/scorecard"},
		{"PUT", "/api/v1/components/{name}/scorecard"},
		{"GET", "/api/v1/components/{name}/catalog-info.yaml"},
		{"GET", "/api/v1/components/{name}/compass.yml"},
		{"GET", "/api/v1/export/catalog-info.yaml"},
		{"GET", "/api/v1/export/compass.yml"},
		{"GET", "/api/v1/export/compass.tar.gz"},
		{"GET", "/api/v1/export/backstage/location.yaml"},
		{"GET", "/api/v1/components/{name}/deployments"},
		{"GET", "/api/v1/deployments"},
		{"GET", "/api/v1/dora"},
		{"POST", "/api/v1/events"},
		{"GET", "/api/v1/teams"},
		{"GET", "/api/v1/teams/{name}"},
		{"GET", "/api/v1/rules"},
		{"GET", "/api/v1/targets"},
		{"GET", "/api/v1/apis"},
		{"GET", "/api/v1/apis/{name}"},
		{"GET", "/api/v1/apis/{name}/definition"},
		{"GET", "/api/v1/openapi.json"},
	}
}

//go:embed openapi.json
var openAPI string

// OpenAPI returns the API's OpenAPI 3.1 document (served at /api/v1/openapi.json).
func OpenAPI() []byte { return []byte(openAPI) }

func (s *Server) routes() {
	handlers := map[Route]http.HandlerFunc{
		{"GET", "/api/v1/components"}:                          s.readable(s.listComponents),
		{"GET", "/api/v1/components/{name}"}:                   s.readable(s.getComponent),
		{"PUT", "/api/v1/components/{name}"}:                   s.putComponent,
		{"DELETE", "/api/v1/components/{name}"}:                s.deleteComponent,
		{"GET", "/api/v1/components/{name}/instances"}:         s.readable(s.listInstances),
		{"PUT", "/api/v1/components/{name}/instances/{id}"}:    s.putInstance,
		{"DELETE", "/api/v1/components/{name}/instances/{id}"}: s.deleteInstance,
		{"GET", "/api/v1/components/{name}/scorecard"}:         s.readable(s.getScorecard),
		{"PUT", "/api/v1/components/{name}/scorecard"}:         s.putScorecard,
		{"GET", "/api/v1/components/{name}/catalog-info.yaml"}: s.readable(s.exportOne(catalog.BackstageYAML)),
		{"GET", "/api/v1/components/{name}/compass.yml"}:       s.readable(s.exportOne(s.compassYAML)),
		{"GET", "/api/v1/export/catalog-info.yaml"}:            s.readable(s.backstageStream),
		{"GET", "/api/v1/export/compass.yml"}:                  s.readable(s.exportAll(s.compassYAML)),
		{"GET", "/api/v1/export/compass.tar.gz"}:               s.readable(s.compassArchive),
		{"GET", "/api/v1/export/backstage/location.yaml"}:      s.readable(s.backstageLocation),
		{"GET", "/api/v1/components/{name}/deployments"}:       s.readable(s.listComponentDeployments),
		{"GET", "/api/v1/deployments"}:                         s.readable(s.listDeployments),
		{"GET", "/api/v1/dora"}:                                s.readable(s.getDORA),
		{"POST", "/api/v1/events"}:                             s.postEvent,
		{"GET", "/api/v1/teams"}:                               s.readable(s.listTeams),
		{"GET", "/api/v1/teams/{name}"}:                        s.readable(s.getTeam),
		{"GET", "/api/v1/rules"}:                               s.readable(s.listRules),
		{"GET", "/api/v1/targets"}:                             s.readable(s.targets),
		{"GET", "/api/v1/apis"}:                                s.readable(s.listAPIs),
		{"GET", "/api/v1/apis/{name}"}:                         s.readable(s.getAPI),
		{"GET", "/api/v1/apis/{name}/definition"}:              s.readable(s.getAPIDefinition),
		{"GET", "/api/v1/openapi.json"}: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, openAPI)
		},
	}
	m := http.NewServeMux()
	allow := map[string][]string{}
	for _, rt := range Routes() {
		m.HandleFunc(rt.Method+" "+rt.Pattern, s.guard(handlers[rt]))
		allow[rt.Pattern] = append(allow[rt.Pattern], rt.Method)
		if rt.Method == "GET" {
			allow[rt.Pattern] = append(allow[rt.Pattern], "HEAD")
		}
	}
	// Fallbacks, so that a wrong method or path still gets problem+json.
	for p, methods := range allow {
		list := strings.Join(methods, ", ")
		m.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", list)
			s.problem(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+list, nil)
		})
	}
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, http.StatusNotFound, "no such API path", nil)
	})
	s.mux = m
}

// problem writes an RFC 9457 problem document.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, detail string, errs []catalog.FieldError) {
	problem.Write(w, r, problem.Problem{Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path, Errors: errs})
}

// decode reads a write's body into v with the strict decoder every Paved server uses,
// [httptransport.DecodeJSONReader] (the guard checked the Content-Type): unknown,
// duplicate or case-mismatched names, wrong types, null where a value is required, NUL
// characters, nesting deeper than 32 and trailing data are refused, v is untouched then,
// and [Server.fail] answers the [*httptransport.Error].
func (s *Server) decode(r *http.Request, v any) error {
	return httptransport.DecodeJSONReader(r.Body, v, s.maxBody)
}

// fail maps an error of decoding, validation or the store to a problem.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *catalog.ValidationError
	var de *httptransport.Error
	switch {
	case errors.As(err, &ve):
		s.problem(w, r, http.StatusBadRequest, "the body has invalid fields", ve.Errors)
	case errors.As(err, &de) && de.Code == http.StatusRequestEntityTooLarge:
		s.problem(w, r, http.StatusRequestEntityTooLarge, strings.TrimPrefix(de.Msg, "request "), nil)
	case errors.As(err, &de) && de.Code == http.StatusBadRequest:
		s.problem(w, r, http.StatusBadRequest, "the body could not be decoded", decodeFields(de))
	case errors.Is(err, store.ErrNotFound):
		s.problem(w, r, http.StatusNotFound, strings.TrimPrefix(err.Error(), "store: "), nil)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, store.ErrClosed):
		s.problem(w, r, http.StatusServiceUnavailable, "the catalog is shutting down or the request was cancelled", nil)
	default:
		s.log.ErrorContext(r.Context(), "catalog: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		s.problem(w, r, http.StatusInternalServerError, "internal error; the catalog's log has the cause", nil)
	}
}

// decodeFields turns a decoding error into the catalog's field errors: the field and
// what is wrong with it ("labels[a]": "appears more than once"), or, for the body as a
// whole, an entry without a field ("has data after the JSON value: ...").
func decodeFields(e *httptransport.Error) []catalog.FieldError {
	if len(e.Fields) == 0 {
		return []catalog.FieldError{{Message: strings.TrimPrefix(e.Msg, "request body ")}}
	}
	out := make([]catalog.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = catalog.FieldError{Field: f.Field, Message: f.Detail}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// caller is who made a request.
type caller struct {
	team  string
	admin bool
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authenticate identifies the caller of a write, or writes 401 and returns false. In open
// mode everyone is admin.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (caller, bool) {
	if s.opts.Open {
		return caller{admin: true}, true
	}
	tok := bearer(r)
	if tok != "" {
		if hashEqual(tok, s.admin) {
			return caller{admin: true}, true
		}
		if team, ok := s.tokens.team(tok); ok {
			return caller{team: team}, true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="catalog"`)
	detail := "a bearer token is required"
	switch {
	case s.admin == nil && s.tokens.Len() == 0:
		detail = noTokensDetail
	case tok != "":
		detail = "the bearer token is not valid"
	}
	s.problem(w, r, http.StatusUnauthorized, detail, nil)
	return caller{}, false
}

// mayChange reports whether c may change a component owned by owner.
func (c caller) mayChange(owner string) bool { return c.admin || c.team == owner }

func (s *Server) forbid(w http.ResponseWriter, r *http.Request, c caller, owner string) {
	s.problem(w, r, http.StatusForbidden, "team "+strconv.Quote(c.team)+" may not change a component owned by "+strconv.Quote(owner), nil)
}

// readable wraps a read handler with the read-token check.
func (s *Server) readable(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.read != nil && !s.opts.Open {
			tok := bearer(r)
			_, isTeam := s.tokens.team(tok)
			if tok == "" || !(hashEqual(tok, s.read) || hashEqual(tok, s.admin) || isTeam) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="catalog"`)
				s.problem(w, r, http.StatusUnauthorized, "reads need a bearer token", nil)
				return
			}
		}
		h(w, r)
	}
}
