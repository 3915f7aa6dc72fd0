package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/bbolt"
	etcdstore "github.com/paved-road/paved/catalog/store/etcd"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/compliance"
	etcdsd "github.com/paved-road/paved/discovery/etcd"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/service/profiler"
)

// Config is the catalog's configuration: the base settings plus its own.
type Config struct {
	service.Config
	Settings
}

// Settings are the catalog's own settings; docs/catalog.md's table of them is generated
// from these tags (TestSettingsDocIsFresh).
type Settings struct {
	Store      string `env:"CATALOG_STORE" envDefault:"bbolt" desc:"Where the catalog keeps its data: bbolt (a file), etcd (shared by several catalog processes) or memory (tests)."`
	DataDir    string `env:"CATALOG_DATA_DIR" envDefault:"./catalog-data" desc:"Directory of the bbolt file, for CATALOG_STORE=bbolt."`
	TokensFile string `env:"CATALOG_TOKENS_FILE" desc:"File of team tokens: one team:token or team:sha256:HEX a line; # starts a comment."`
	AdminToken string `env:"CATALOG_ADMIN_TOKEN" secret:"true" desc:"Token that may change any component."`
	ReadToken  string `env:"CATALOG_READ_TOKEN" secret:"true" desc:"When set, reads need a token too (this one, a team's or the admin's); the UI is then not served."`
	Open       bool   `env:"CATALOG_OPEN" envDefault:"false" desc:"Development only (SERVICE_ENV=development): writes need no token. Logs a warning and shows a banner in the UI."`
	Scorecards string `env:"CATALOG_SCORECARDS_FILE" desc:"The platform team's scorecards file (JSON, docs/compliance.md): which rules are required, and their weights, by tier, lifecycle, environment and label. Scores shown by the API and the UI follow it."`
	// AllowedNetworks is the address policy for registered instances, CIDRs.
	AllowedNetworks []string `env:"CATALOG_ALLOWED_NETWORKS" desc:"Networks (CIDRs, comma-separated, such as 10.0.0.0/8,fd00::/8) the addresses of registered instances may be in; the targets Prometheus gets are filtered by it too. Unset: loopback and private networks in development; private networks and public addresses elsewhere. Loopback is allowed only when a loopback network (127.0.0.0/8, ::1/128) is listed; link-local, unspecified, multicast and cloud metadata addresses never are (docs/catalog.md)."`

	// Compass (docs/catalog.md, "Compass"): the export's ids and the optional push.
	CompassTeams       []string `env:"CATALOG_COMPASS_TEAMS" desc:"Compass ids of the teams, comma-separated team=id pairs (team-orders=ari:cloud:identity::team/UUID,...): the ownerId of their components in the compass.yml export and the push. An unmapped team's components have ownerId null (and the label owner:TEAM)."`
	CompassComponents  []string `env:"CATALOG_COMPASS_COMPONENTS" desc:"Compass ids of components already in Compass, comma-separated name=id pairs (orders=ari:cloud:compass:CLOUD:component/...): the id of their compass.yml, so that Compass updates them, and the targets of relationships.DEPENDS_ON. The push finds the components it created itself by their external alias."`
	CompassSiteURL     string   `env:"COMPASS_SITE_URL" desc:"Turns on the push to Atlassian Compass: the site, such as https://example.atlassian.net. Components are created and updated through Compass's GraphQL API, deployment events and scores sent as they are recorded, through a durable outbox in the store (nothing is lost while Compass is down). Needs COMPASS_USER, COMPASS_API_TOKEN, COMPASS_CLOUD_ID and COMPASS_CATALOG_URL."`
	CompassUser        string   `env:"COMPASS_USER" desc:"The Atlassian account (e-mail address) COMPASS_API_TOKEN belongs to."`
	CompassToken       string   `env:"COMPASS_API_TOKEN" secret:"true" desc:"The Atlassian API token of COMPASS_USER."`
	CompassCloudID     string   `env:"COMPASS_CLOUD_ID" desc:"The cloud id of the Compass site (query tenantContexts in Compass's GraphQL explorer)."`
	CompassCatalogURL  string   `env:"COMPASS_CATALOG_URL" desc:"The catalog's public URL: the link of a deployment event whose pipeline gave none is the component's page there."`
	CompassScoreMetric string   `env:"COMPASS_SCORE_METRIC_ID" desc:"The id of a Compass metric definition (ari:cloud:compass:...) the components' scores (0-100) are sent to, through a metric source the push creates on each component. Unset: scores are not sent."`

	// Per-client limits (docs/catalog.md, "Limits"). The per-token settings say BEARER:
	// a name holding TOKEN would mark them secret.
	MaxConnsPerClient   int           `env:"CATALOG_MAX_CONNS_PER_CLIENT" envDefault:"64" desc:"Most connections one client address (an IPv4 address or an IPv6 /64) may hold open at once; more are never read: held for CATALOG_HOLD_OVER_CAP, then closed. 0 means no cap."`
	HoldOverCap         time.Duration `env:"CATALOG_HOLD_OVER_CAP" envDefault:"30s" desc:"How long a connection over CATALOG_MAX_CONNS_PER_CLIENT is held open, unread, before it is closed, so that a client over its cap cannot reconnect faster (at most 16,384 held at once, or a quarter of the open-file limit; more are closed at once). 0 closes it as soon as it is accepted."`
	RatePerClient       float64       `env:"CATALOG_RATE_PER_CLIENT" envDefault:"50" desc:"Requests a second one client address may make on average; more get 429 with Retry-After. Heartbeats of registered instances at their rate are exempt. 0 means no limit."`
	BurstPerClient      int           `env:"CATALOG_BURST_PER_CLIENT" envDefault:"100" desc:"Requests one client address may make at once, above CATALOG_RATE_PER_CLIENT."`
	RatePerToken        float64       `env:"CATALOG_RATE_PER_BEARER" envDefault:"200" desc:"Requests a second that may carry one bearer token (a team's, the admin's or the read token), from any address; more get 429 with Retry-After. Heartbeats of registered instances at their rate are exempt. 0 means no limit."`
	BurstPerToken       int           `env:"CATALOG_BURST_PER_BEARER" envDefault:"400" desc:"Requests that may carry one token at once, above CATALOG_RATE_PER_BEARER."`
	DORAWindow          time.Duration `env:"CATALOG_DORA_WINDOW" envDefault:"720h" desc:"The window DORA's keys are computed over on the team pages, the incident view, GET /api/v1/dora, /api/v1/teams and /api/v1/rules (their default; ?window= changes it) and the paved_catalog_dora_* metrics: from 1h to 8784h (366 days)."`
	ChangeFailureWindow time.Duration `env:"CATALOG_CHANGE_FAILURE_WINDOW" envDefault:"24h" desc:"How long after a deployment a rollback to the previous version, or an incident (an instance critical), counts as that deployment's failure in the change failure rate: from 1m to 720h."`
	RefusalDelay        time.Duration `env:"CATALOG_REFUSAL_DELAY" envDefault:"1s" desc:"Paces the answers of a client over a request rate: its 429 comes after this delay, so that a client that ignores 429 cannot make the catalog spend its CPU on refusals. Counts against HTTP_MAX_CONCURRENT when that is set. 0 answers at once."`
}

// Validate checks the catalog's own settings.
func (c *Config) Validate() error {
	var errs []error
	switch c.Store {
	case "bbolt", "etcd", "memory":
	default:
		errs = append(errs, service.NewProblem("CATALOG_STORE", c.Store, "must be one of bbolt, etcd, memory"))
	}
	if c.Store == "etcd" && len(c.EtcdEndpoints) == 0 {
		errs = append(errs, service.NewProblem("ETCD_ENDPOINTS", "", "must list at least one endpoint when CATALOG_STORE=etcd"))
	}
	if c.Store == "bbolt" && c.DataDir == "" {
		errs = append(errs, service.NewProblem("CATALOG_DATA_DIR", "", "must be set when CATALOG_STORE=bbolt"))
	}
	if c.Open && c.Env != service.EnvDevelopment {
		errs = append(errs, service.NewProblem("CATALOG_OPEN", "true", "is allowed only with SERVICE_ENV=development: elsewhere writes need tokens"))
	}
	if c.TokensFile != "" {
		if _, err := loadTokens(c.TokensFile); err != nil {
			for _, e := range each(err) { // every bad line
				errs = append(errs, service.NewProblem("CATALOG_TOKENS_FILE", c.TokensFile, strings.TrimPrefix(e.Error(), "server: ")))
			}
		}
	}
	if _, err := server.ParseNetworks(c.AllowedNetworks); err != nil {
		for _, e := range each(err) { // every bad entry
			errs = append(errs, service.NewProblem("CATALOG_ALLOWED_NETWORKS", "", e.Error()))
		}
	}
	if c.Scorecards != "" {
		if _, err := compliance.LoadScorecards(c.Scorecards, compliance.DefaultRuleSet()); err != nil {
			errs = append(errs, service.NewProblem("CATALOG_SCORECARDS_FILE", c.Scorecards, err.Error()))
		}
	}
	errs = append(errs, c.validateLimits()...)
	errs = append(errs, c.validateCompass()...)
	return joinErrs(errs)
}

// compassIDs parses CATALOG_COMPASS_TEAMS and CATALOG_COMPASS_COMPONENTS, every
// problem at once.
func (c *Config) compassIDs() (catalog.CompassIDs, []error) {
	var ids catalog.CompassIDs
	var errs []error
	var err error
	if ids.Teams, err = catalog.ParseCompassIDs(c.CompassTeams); err != nil {
		errs = append(errs, service.NewProblem("CATALOG_COMPASS_TEAMS", "", err.Error()))
	}
	if ids.Components, err = catalog.ParseCompassIDs(c.CompassComponents); err != nil {
		errs = append(errs, service.NewProblem("CATALOG_COMPASS_COMPONENTS", "", err.Error()))
	}
	if err := ids.Validate(); err != nil {
		var ve *catalog.ValidationError
		if errors.As(err, &ve) {
			for _, fe := range ve.Errors {
				key := "CATALOG_COMPASS_TEAMS"
				if strings.HasPrefix(fe.Field, "components") {
					key = "CATALOG_COMPASS_COMPONENTS"
				}
				errs = append(errs, service.NewProblem(key, "", fe.Field+": "+fe.Message))
			}
		}
	}
	return ids, errs
}

// compass returns the push's options, nil when COMPASS_SITE_URL is unset.
func (c *Config) compass() *server.CompassOptions {
	if c.CompassSiteURL == "" {
		return nil
	}
	return &server.CompassOptions{SiteURL: c.CompassSiteURL, User: c.CompassUser, Token: c.CompassToken, CloudID: c.CompassCloudID,
		CatalogURL: c.CompassCatalogURL, ScoreMetricID: c.CompassScoreMetric}
}

// validateCompass checks the Compass settings, every problem at once: a COMPASS_*
// setting without COMPASS_SITE_URL would be ignored, so it is an error.
func (c *Config) validateCompass() []error {
	_, errs := c.compassIDs()
	o := c.compass()
	if o == nil {
		for _, s := range []struct{ key, value string }{{"COMPASS_USER", c.CompassUser}, {"COMPASS_API_TOKEN", c.CompassToken},
			{"COMPASS_CLOUD_ID", c.CompassCloudID}, {"COMPASS_CATALOG_URL", c.CompassCatalogURL}, {"COMPASS_SCORE_METRIC_ID", c.CompassScoreMetric}} {
			if s.value != "" {
				value := s.value
				if s.key == "COMPASS_API_TOKEN" {
					value = "[REDACTED]"
				}
				errs = append(errs, service.NewProblem(s.key, value, "is set but COMPASS_SITE_URL is not, so the push to Compass is off: set COMPASS_SITE_URL too, or unset it"))
			}
		}
		return errs
	}
	if err := o.Validate(); err != nil {
		for _, e := range each(err) {
			var p *server.SettingProblem
			if errors.As(e, &p) {
				errs = append(errs, service.NewProblem(p.Setting, p.Value, p.Rule))
			}
		}
	}
	if c.Store == "memory" {
		errs = append(errs, service.NewProblem("COMPASS_SITE_URL", c.CompassSiteURL, "needs a durable store for its outbox: CATALOG_STORE=bbolt or etcd, not memory"))
	}
	return errs
}

// validateLimits checks the per-client limits, every problem at once.
func (c *Config) validateLimits() []error {
	var errs []error
	if c.MaxConnsPerClient < 0 {
		errs = append(errs, service.NewProblem("CATALOG_MAX_CONNS_PER_CLIENT", strconv.Itoa(c.MaxConnsPerClient), "must be 0 (no cap) or more"))
	}
	if c.HoldOverCap < 0 || c.HoldOverCap > 10*time.Minute {
		errs = append(errs, service.NewProblem("CATALOG_HOLD_OVER_CAP", c.HoldOverCap.String(), "must be from 0s (close at once) to 10m"))
	}
	if c.DORAWindow < time.Hour || c.DORAWindow > 366*24*time.Hour {
		errs = append(errs, service.NewProblem("CATALOG_DORA_WINDOW", c.DORAWindow.String(), "must be from 1h to 8784h (366 days), such as 720h for 30 days"))
	}
	if c.ChangeFailureWindow < time.Minute || c.ChangeFailureWindow > 30*24*time.Hour {
		errs = append(errs, service.NewProblem("CATALOG_CHANGE_FAILURE_WINDOW", c.ChangeFailureWindow.String(), "must be from 1m to 720h (30 days), such as 24h"))
	}
	if c.RefusalDelay < 0 || c.RefusalDelay > time.Minute {
		errs = append(errs, service.NewProblem("CATALOG_REFUSAL_DELAY", c.RefusalDelay.String(), "must be from 0s (answer at once) to 1m"))
	}
	rates := []struct {
		rateKey, burstKey string
		rate              float64
		burst             int
	}{
		{"CATALOG_RATE_PER_CLIENT", "CATALOG_BURST_PER_CLIENT", c.RatePerClient, c.BurstPerClient},
		{"CATALOG_RATE_PER_BEARER", "CATALOG_BURST_PER_BEARER", c.RatePerToken, c.BurstPerToken},
	}
	for _, r := range rates {
		if math.IsNaN(r.rate) || math.IsInf(r.rate, 0) || r.rate < 0 {
			errs = append(errs, service.NewProblem(r.rateKey, strconv.FormatFloat(r.rate, 'g', -1, 64), "must be a number of requests a second, 0 (no limit) or more"))
		}
		if r.burst < 1 && r.rate > 0 {
			errs = append(errs, service.NewProblem(r.burstKey, strconv.Itoa(r.burst), "must be 1 or more when "+r.rateKey+" is set"))
		}
	}
	return errs
}

// limits returns the server's limits from the settings.
func (c *Config) limits() server.Limits {
	return server.Limits{MaxConnsPerClient: c.MaxConnsPerClient, HoldOverCap: c.HoldOverCap,
		ClientRate: c.RatePerClient, ClientBurst: c.BurstPerClient,
		TokenRate: c.RatePerToken, TokenBurst: c.BurstPerToken, RefusalDelay: c.RefusalDelay}
}

var info = service.Info{
	Name:         "catalog",
	Version:      "", // the module version, or SERVICE_VERSION
	Owner:        "team-platform",
	Description:  "The service catalog every Paved service registers itself in.",
	Tier:         1,
	Lifecycle:    "production",
	ProvidesAPIs: []string{"catalog-v1"},
	Links: service.Links{
		Repository: "https://github.com/paved-road/paved/tree/main/cmd/catalog",
		Docs:       "https://github.com/paved-road/paved/blob/main/docs/catalog.md",
		Runbook:    "https://github.com/paved-road/paved/blob/main/docs/operations.md",
		OnCall:     "https://oncall.example.com/team-platform",
		APISpec:    "https://github.com/paved-road/paved/blob/main/docs/openapi.json",
	},
}

func main() {
	self := newSelfRegistrar(info)
	service.Main(info, func(s *service.Service, cfg *Config) error { return setup(s, cfg, self) }, service.WithRegistrar(self),
		service.WithProfiler(profiler.Register))
}

// setup opens the store, mounts the API and the UI, and binds self, the registrar that
// registers the catalog in its own store.
func setup(s *service.Service, cfg *Config, self *selfRegistrar) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	s.OnStop("store", func(context.Context) error { return st.Close() })
	self.bind(st)
	// The catalog is the registry: it registers in it (selfRegistrar), which is the fact
	// the registration-configured rule asks for.
	s.AddFacts(func(f *compliance.Facts) { f.Registry = compliance.RegistryCatalog })
	if err := s.Health().Register(health.Check{Name: "store", Check: func(ctx context.Context) error {
		_, err := st.ListComponents(ctx, catalogFilterNone)
		return err
	}}); err != nil {
		return err
	}
	opts := server.Options{AdminToken: cfg.AdminToken, ReadToken: cfg.ReadToken, Open: cfg.Open, Logger: s.Logger(),
		Development: cfg.Env == service.EnvDevelopment, Registerer: s.Registerer(), Limits: cfg.limits(),
		DORA: server.DORAOptions{Window: cfg.DORAWindow, ChangeFailureWindow: cfg.ChangeFailureWindow}}
	if len(cfg.AllowedNetworks) > 0 {
		if opts.AllowedNetworks, err = server.ParseNetworks(cfg.AllowedNetworks); err != nil {
			return err
		}
	}
	policy := opts.AllowedNetworks
	if policy == nil {
		policy = server.DefaultAllowedNetworks(opts.Development || opts.Open)
	}
	s.Logger().Info("address policy for registered instances", "allowed_networks", fmt.Sprint(policy),
		"loopback", slices.ContainsFunc(policy, func(p netip.Prefix) bool { return p.Addr().IsLoopback() }))
	if cfg.TokensFile != "" {
		if opts.Tokens, err = loadTokens(cfg.TokensFile); err != nil {
			return err
		}
	}
	if cfg.Scorecards != "" {
		file, err := compliance.LoadScorecards(cfg.Scorecards, compliance.DefaultRuleSet())
		if err != nil {
			return err
		}
		opts.Scorecards = &file
		s.Logger().Info("scorecards file loaded", "path", cfg.Scorecards, "scorecards", len(file.Scorecards))
	}
	if !cfg.Open && cfg.AdminToken == "" && (opts.Tokens == nil || opts.Tokens.Len() == 0) {
		s.Logger().Warn("no tokens configured: the catalog serves reads and refuses every write; set CATALOG_TOKENS_FILE or CATALOG_ADMIN_TOKEN (or CATALOG_OPEN=true in development)")
	}
	ids, idErrs := cfg.compassIDs()
	if len(idErrs) > 0 {
		return joinErrs(idErrs)
	}
	opts.CompassIDs = ids
	opts.Compass = cfg.compass()
	api := server.New(st, opts)
	s.WrapHTTPListener(api.LimitListener)
	s.Go("catalog metrics", api.Run)
	if opts.Compass != nil {
		s.Go("compass push", api.RunCompass)
		s.Logger().Info("pushing to Compass", "site", opts.Compass.SiteURL, "user", opts.Compass.User, "scores", opts.Compass.ScoreMetricID != "")
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	if cfg.ReadToken == "" { // the UI has no login: it is served only when reads are open
		page, err := ui.New(api.Store(), ui.Options{Open: cfg.Open, Logger: s.Logger(), Insights: api})
		if err != nil {
			return err
		}
		mux.Handle("/", page)
		// The UI's live-update streams end when the catalog starts to stop (the
		// readiness set's shutdown gate fails first), so that the graceful shutdown
		// does not wait for the browsers.
		s.Go("ui live updates", func(ctx context.Context) error {
			gate, err := s.Health().WatchCheck(ctx, health.Readiness, "shutdown")
			if err != nil {
				return fmt.Errorf("watching the readiness shutdown gate: %w", err)
			}
			for st := range gate {
				page.SetLive(st != health.StatusFail)
			}
			return nil
		})
	}
	s.SetHandler(mux)
	return nil
}

func openStore(cfg *Config) (store.Store, error) {
	switch cfg.Store {
	case "memory":
		return memory.New(memory.Options{}), nil
	case "etcd":
		cli, err := etcdsd.NewClient(cfg.EtcdEndpoints)
		if err != nil {
			return nil, err
		}
		st, err := etcdstore.New(cli, etcdstore.Options{})
		if err != nil {
			_ = cli.Close()
			return nil, err
		}
		return closeBoth{st, st, cli}, nil
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("CATALOG_DATA_DIR: %w", err)
		}
		return bbolt.Open(filepath.Join(cfg.DataDir, "catalog.db"), bbolt.Options{})
	}
}

// closeBoth closes the etcd store and then its client. It keeps the store's outbox.
type closeBoth struct {
	store.Store
	store.Outbox
	cli interface{ Close() error }
}

func (c closeBoth) Close() error {
	err := c.Store.Close()
	if e := c.cli.Close(); err == nil {
		err = e
	}
	return err
}

func loadTokens(path string) (*server.Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return server.ParseTokens(f)
}
