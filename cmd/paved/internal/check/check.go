package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/service"
)

// DefaultTimeout bounds a whole check when [Options.Timeout] is zero.
const DefaultTimeout = 10 * time.Second

// maxBody bounds every body read from the service.
const maxBody = 8 << 20

// redacted is what a Paved service shows in place of a secret in /config.
const redacted = "[REDACTED]"

// Options says what to check. AdminURL is required; every other field may be zero.
type Options struct {
	// AdminURL is the service's admin base URL, such as http://127.0.0.1:9090. Required.
	AdminURL string
	// PublicURL is the service's public base URL. Empty means the public address the
	// service reports in /info (addresses.http), with the admin URL's host when that
	// address is bound to every interface.
	PublicURL string
	// MinScore fails the check when the compliance score is below it, 0 to 100. Zero
	// means no bar beyond compliance itself.
	MinScore int
	// Timeout bounds the whole check, every request included. Zero means
	// [DefaultTimeout].
	Timeout time.Duration
	// Wait is how long to keep asking while /readyz answers 503 or /compliance is not
	// evaluated yet (a service that has just started), on top of Timeout. Zero means
	// ask once.
	Wait time.Duration
	// Client makes the requests. Nil means a client of its own that does not follow
	// redirects off the service.
	Client *http.Client
}

// Probes returns the ids of the findings every check reports, in report order; failed
// compliance rules follow as "compliance/<rule-id>", and "min-score" when asked for.
func Probes() []string {
	return []string{"info", "compliance", "readyz", "metrics-text", "metrics-openmetrics", "config-secrets", "public-pprof", "public-admin-endpoints"}
}

// Status is a finding's outcome.
type Status string

// The outcomes of a finding. Only StatusFail fails the check.
const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
	StatusWarn Status = "warn" // a recommended compliance rule failed
	StatusSkip Status = "skip" // the probe could not apply
)

// Finding is the outcome of one probe or one failed compliance rule.
type Finding struct {
	// ID names the probe ("readyz", "public-pprof"...) or, prefixed with
	// "compliance/", the compliance rule.
	ID string `json:"id"`
	// Status is pass, fail, warn or skip.
	Status Status `json:"status"`
	// Message says what was found.
	Message string `json:"message"`
	// Fix says what to change; set when Status is fail or warn.
	Fix string `json:"fix,omitempty"`
}

// ServiceInfo is what the service said about itself in /info.
type ServiceInfo struct {
	Name        string `json:"name"`        // component name
	Version     string `json:"version"`     // version of the running build
	Owner       string `json:"owner"`       // owning team
	Environment string `json:"environment"` // development, staging or production
}

// Result is the outcome of [Run]: the service's own report and each probe's finding.
type Result struct {
	// AdminURL and PublicURL are the base URLs probed; PublicURL is empty when the
	// service has no public address.
	AdminURL  string `json:"adminUrl"`
	PublicURL string `json:"publicUrl,omitempty"`
	// Service is what /info said; zero when /info did not answer.
	Service ServiceInfo `json:"service"`
	// Compliance is the report /compliance served; nil when it did not answer.
	Compliance *compliance.Report `json:"compliance,omitempty"`
	// Findings lists every probe's outcome, then each failed compliance rule.
	Findings []Finding `json:"findings"`
	// Passed reports that no finding failed.
	Passed bool `json:"passed"`
}

// Failures returns the failed findings, in order.
func (r *Result) Failures() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Status == StatusFail {
			out = append(out, f)
		}
	}
	return out
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for a person: a header naming the service, one line per finding
// with its fix, and the verdict.
func (r *Result) WriteText(w io.Writer) error {
	var b bytes.Buffer
	s := r.Service
	fmt.Fprintf(&b, "paved check %s\n", r.AdminURL)
	if s.Name != "" {
		fmt.Fprintf(&b, "service %s %s, owner %q, environment %s\n", s.Name, s.Version, s.Owner, s.Environment)
	}
	if r.Compliance != nil {
		fmt.Fprintf(&b, "%s\n", r.Compliance.Summary())
	}
	b.WriteString("\n")
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%-4s  %-36s %s\n", strings.ToUpper(string(f.Status)), f.ID, f.Message)
		if f.Fix != "" && (f.Status == StatusFail || f.Status == StatusWarn) {
			fmt.Fprintf(&b, "      %-36s fix: %s\n", "", f.Fix)
		}
	}
	if fails := r.Failures(); len(fails) > 0 {
		ids := make([]string, len(fails))
		for i, f := range fails {
			ids[i] = f.ID
		}
		fmt.Fprintf(&b, "\nFAIL: %d failed (%s)\n", len(fails), strings.Join(ids, ", "))
	} else {
		b.WriteString("\nPASS: compliant, every probe passed\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// UsageError reports a check that could not run: a URL that is not an http(s) URL, an
// option out of range, or an admin address that does not answer.
type UsageError struct {
	// Field names the argument or option, such as "admin-url".
	Field string
	// Value is the value given.
	Value string
	// Reason says what is wrong and what would be valid.
	Reason string
	// Err is the cause, such as the dial error; may be nil.
	Err error
}

// Error returns "<field> <value>: <reason>[: <cause>]".
func (e *UsageError) Error() string {
	s := fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// ParseBaseURL checks that s is an absolute http or https URL with a host, and returns
// it without a trailing slash. field names the argument in the error.
func ParseBaseURL(field, s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		return nil, &UsageError{Field: field, Value: s, Reason: "has no http:// or https:// scheme; did you mean http://" + s + "?"}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, &UsageError{Field: field, Value: s, Reason: "not a URL; want http://host:port", Err: err}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &UsageError{Field: field, Value: s, Reason: "scheme must be http or https, as in http://127.0.0.1:9090"}
	}
	if u.Host == "" {
		return nil, &UsageError{Field: field, Value: s, Reason: "has no host; want http://host:port"}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &UsageError{Field: field, Value: s, Reason: "must be a base URL without credentials, query or fragment"}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// prober holds one check's state.
type prober struct {
	client *http.Client
	admin  *url.URL
	wait   time.Duration
	res    *Result
}

// Run checks the service at opts.AdminURL. It returns a [*UsageError] when the options
// are invalid or the admin address does not answer at all; otherwise a Result, failed
// or not.
func Run(ctx context.Context, opts Options) (*Result, error) {
	admin, err := ParseBaseURL("admin-url", opts.AdminURL)
	if err != nil {
		return nil, err
	}
	var public *url.URL
	if opts.PublicURL != "" {
		if public, err = ParseBaseURL("--public-url", opts.PublicURL); err != nil {
			return nil, err
		}
	}
	if opts.MinScore < 0 || opts.MinScore > 100 {
		return nil, &UsageError{Field: "--min-score", Value: fmt.Sprint(opts.MinScore), Reason: "must be between 0 and 100"}
	}
	if opts.Timeout < 0 || opts.Wait < 0 {
		return nil, &UsageError{Field: "--timeout/--wait", Value: fmt.Sprint(opts.Timeout, "/", opts.Wait), Reason: "must not be negative"}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+opts.Wait)
	defer cancel()
	client := opts.Client
	if client == nil {
		client = &http.Client{
			Transport: &http.Transport{DisableKeepAlives: true, ResponseHeaderTimeout: timeout},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
		defer client.CloseIdleConnections()
	}
	p := &prober{client: client, admin: admin, wait: opts.Wait, res: &Result{AdminURL: admin.String()}}

	addrs, err := p.info(ctx)
	if err != nil {
		return nil, err
	}
	if public == nil && addrs.HTTP != "" {
		public = publicFromAddr(admin, addrs.HTTP)
	}
	if public != nil {
		p.res.PublicURL = public.String()
	}
	p.compliance(ctx, opts.MinScore)
	p.readyz(ctx)
	p.metrics(ctx)
	p.configSecrets(ctx)
	p.publicPort(ctx, public)
	p.complianceRules()
	p.res.Passed = len(p.res.Failures()) == 0
	return p.res, nil
}

// publicFromAddr makes a base URL of a listen address, taking the admin URL's host when
// the address is bound to every interface.
func publicFromAddr(admin *url.URL, addr string) *url.URL {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = admin.Hostname()
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
}

func (p *prober) add(id string, st Status, fix, format string, args ...any) {
	p.res.Findings = append(p.res.Findings, Finding{ID: id, Status: st, Message: fmt.Sprintf(format, args...), Fix: fix})
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

// get fetches base+path with the given Accept header.
func (p *prober) get(ctx context.Context, base *url.URL, path, accept string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+path, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the body: %w", req.URL, err)
	}
	return &response{code: resp.StatusCode, header: resp.Header, body: body}, nil
}

// getWaiting is get, asked again while the answer is 503 and the wait lasts.
func (p *prober) getWaiting(ctx context.Context, path, accept string) (*response, error) {
	deadline := time.Now().Add(p.wait)
	for {
		r, err := p.get(ctx, p.admin, path, accept)
		if err != nil || r.code != http.StatusServiceUnavailable || !time.Now().Before(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

type infoAddrs struct {
	HTTP  string `json:"http"`
	Admin string `json:"admin"`
}

// info reads /info. Not reaching the admin address at all is a usage error.
func (p *prober) info(ctx context.Context) (infoAddrs, error) {
	r, err := p.get(ctx, p.admin, "/info", "application/json")
	if err != nil {
		reason := "does not answer; is the service running and is this its admin address (ADMIN_ADDR)?"
		if errors.Is(err, context.DeadlineExceeded) {
			reason = "did not answer in time; is this the service's admin address (ADMIN_ADDR)?"
		}
		return infoAddrs{}, &UsageError{Field: "admin-url", Value: p.admin.String(), Reason: reason, Err: err}
	}
	var doc struct {
		ServiceInfo
		Addresses infoAddrs `json:"addresses"`
	}
	const fix = "Point paved check at the admin address (ADMIN_ADDR) of a service built with Paved."
	if r.code != http.StatusOK {
		p.add("info", StatusFail, fix, "GET /info answered %d, want 200", r.code)
		return infoAddrs{}, nil
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.Name == "" {
		p.add("info", StatusFail, fix, "GET /info is not a service's info document (JSON with a name): %v", err)
		return infoAddrs{}, nil
	}
	p.res.Service = doc.ServiceInfo
	p.add("info", StatusPass, "", "GET /info: %s %s", doc.Name, doc.Version)
	return doc.Addresses, nil
}

func (p *prober) compliance(ctx context.Context, minScore int) {
	const id = "compliance"
	r, err := p.getWaiting(ctx, "/compliance?format=json", "application/json")
	if err != nil {
		p.add(id, StatusFail, "Make sure the admin server stays up.", "GET /compliance: %v", err)
		return
	}
	if r.code != http.StatusOK {
		p.add(id, StatusFail, "Let the service finish starting (see --wait), and keep COMPLIANCE_MODE at report or enforce, not off.",
			"GET /compliance answered %d, want 200: %s", r.code, clip(string(r.body)))
		return
	}
	var rep compliance.Report
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.RuleSetVersion == "" {
		p.add(id, StatusFail, "Point paved check at the admin address of a service built with Paved.", "GET /compliance is not a compliance report: %v", err)
		return
	}
	p.res.Compliance = &rep
	if rep.Compliant() {
		p.add(id, StatusPass, "", "compliant, score %d/100 (rule set %s)", rep.Score, rep.RuleSetVersion)
	} else {
		ids := make([]string, 0)
		for _, f := range rep.RequiredFailures() {
			ids = append(ids, f.ID)
		}
		p.add(id, StatusFail, "Fix each failed required rule listed below.", "not compliant: required rules failed: %s", strings.Join(ids, ", "))
	}
	if minScore > 0 {
		if rep.Score < minScore {
			p.add("min-score", StatusFail, "Fix the failed rules listed below, recommended ones included.", "score %d is below the minimum %d", rep.Score, minScore)
		} else {
			p.add("min-score", StatusPass, "", "score %d is at least %d", rep.Score, minScore)
		}
	}
}

// complianceRules adds one finding per failed rule of the report, with its fix.
func (p *prober) complianceRules() {
	if p.res.Compliance == nil {
		return
	}
	for _, f := range p.res.Compliance.Failures() {
		st := StatusWarn
		if f.Level == compliance.Required {
			st = StatusFail
		}
		p.add("compliance/"+f.ID, st, f.Fix, "%s (%s): %s", f.Title, f.Level, f.Message)
	}
}

func (p *prober) readyz(ctx context.Context) {
	const id = "readyz"
	r, err := p.getWaiting(ctx, "/readyz", "")
	switch {
	case err != nil:
		p.add(id, StatusFail, "Serve /readyz on the admin address (Paved's admin server does).", "GET /readyz: %v", err)
	case r.code != http.StatusOK:
		p.add(id, StatusFail, "See GET /readyz?verbose on the admin address for the failing check.", "GET /readyz answered %d, want 200 (ready): %s", r.code, clip(string(r.body)))
	default:
		p.add(id, StatusPass, "", "GET /readyz answered 200")
	}
}

// metrics fetches /metrics as Prometheus text and as OpenMetrics and parses both.
func (p *prober) metrics(ctx context.Context) {
	const fix = "Serve the registry with promhttp.HandlerFor (Paved's admin server does) and fix the collector named in the error."
	r, err := p.get(ctx, p.admin, "/metrics", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	if err != nil {
		p.add("metrics-text", StatusFail, fix, "GET /metrics: %v", err)
		return
	}
	if r.code != http.StatusOK {
		p.add("metrics-text", StatusFail, fix, "GET /metrics answered %d, want 200", r.code)
		return
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
	switch {
	case err != nil:
		p.add("metrics-text", StatusFail, fix, "/metrics does not parse as Prometheus text format: %v", err)
	case fams["build_info"] == nil:
		p.add("metrics-text", StatusFail, "Register the build_info collector (telemetry.NewRegistry does).", "/metrics parses (%d families) but has no build_info", len(fams))
	default:
		p.add("metrics-text", StatusPass, "", "/metrics parses as Prometheus text: %d metric families, build_info present", len(fams))
	}

	om := expfmt.NewFormat(expfmt.TypeOpenMetrics)
	r, err = p.get(ctx, p.admin, "/metrics", string(om))
	if err != nil {
		p.add("metrics-openmetrics", StatusFail, fix, "GET /metrics: %v", err)
		return
	}
	if expfmt.ResponseFormat(r.header).FormatType() != expfmt.TypeOpenMetrics && !strings.HasPrefix(r.header.Get("Content-Type"), expfmt.OpenMetricsType) {
		p.add("metrics-openmetrics", StatusWarn, "Set promhttp.HandlerOpts.EnableOpenMetrics (Paved's admin server does), so exemplars reach Prometheus.",
			"/metrics does not offer OpenMetrics (answered %q)", r.header.Get("Content-Type"))
		return
	}
	n, err := parseOpenMetrics(r.body)
	if err != nil {
		p.add("metrics-openmetrics", StatusFail, fix, "/metrics does not parse as OpenMetrics: %v", err)
		return
	}
	p.add("metrics-openmetrics", StatusPass, "", "/metrics parses as OpenMetrics: %d metric families", n)
}

// parseOpenMetrics checks an OpenMetrics 1.0 exposition: it must end with "# EOF", and
// each metric family, exemplars set aside, must parse with expfmt's decoder. Families
// are parsed one by one because OpenMetrics names a counter without its _total suffix,
// so client_golang's go_memstats_alloc_bytes gauge and counter share a name, which
// expfmt's text parser rejects as a second HELP line.
func parseOpenMetrics(body []byte) (int, error) {
	text, ok := bytes.CutSuffix(body, []byte("# EOF\n"))
	if !ok {
		return 0, errors.New(`the exposition does not end with "# EOF"`)
	}
	var blocks []*bytes.Buffer
	current, sawType := "", false
	for line := range bytes.Lines(text) {
		if fields := strings.Fields(string(line)); len(fields) >= 3 && fields[0] == "#" {
			switch fields[1] {
			case "UNIT":
				continue // expfmt's text parser does not know it
			case "HELP", "TYPE":
				// A family starts at its HELP, or at a TYPE of a new name or a second
				// TYPE (a family without HELP).
				if fields[1] == "HELP" || fields[2] != current || sawType || len(blocks) == 0 {
					blocks = append(blocks, new(bytes.Buffer))
					sawType = false
				}
				current = fields[2]
				sawType = sawType || fields[1] == "TYPE"
			}
		} else if len(line) > 0 && line[0] != '#' {
			// An exemplar follows " # " after the sample value.
			if i := bytes.Index(line, []byte(" # {")); i >= 0 {
				line = append(line[:i:i], '\n')
			}
		}
		if len(blocks) == 0 {
			blocks = append(blocks, new(bytes.Buffer))
		}
		blocks[len(blocks)-1].Write(line)
	}
	n := 0
	for _, b := range blocks {
		dec := expfmt.NewDecoder(b, expfmt.NewFormat(expfmt.TypeOpenMetrics))
		for {
			var mf dto.MetricFamily
			err := dec.Decode(&mf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return n, err
			}
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("no metric family")
	}
	return n, nil
}

// configSecrets checks that /config redacts every secret-looking setting.
func (p *prober) configSecrets(ctx context.Context) {
	const id = "config-secrets"
	r, err := p.get(ctx, p.admin, "/config", "application/json")
	if err != nil {
		p.add(id, StatusFail, "Serve /config on the admin address.", "GET /config: %v", err)
		return
	}
	if r.code != http.StatusOK {
		p.add(id, StatusSkip, "", "GET /config answered %d; nothing to inspect", r.code)
		return
	}
	var settings map[string]any
	if err := json.Unmarshal(r.body, &settings); err != nil {
		p.add(id, StatusFail, "Serve /config as a JSON object of settings (Paved's admin server does).", "GET /config is not a JSON object: %v", err)
		return
	}
	var leaked []string
	n := 0
	for k, v := range settings {
		if !service.IsSecretName(k) {
			continue
		}
		n++
		if s, ok := v.(string); !ok || (s != "" && s != redacted) {
			leaked = append(leaked, k)
		}
	}
	if len(leaked) > 0 {
		slices.Sort(leaked)
		p.add(id, StatusFail, `Redact these settings: tag the fields secret:"true" (Paved's /config then shows [REDACTED]), and rotate the exposed secrets.`,
			"/config shows secret-looking settings unredacted: %s", strings.Join(leaked, ", "))
		return
	}
	p.add(id, StatusPass, "", "/config redacts every secret-looking setting (%d of %d settings)", n, len(settings))
}

// publicPort checks that pprof and the admin endpoints are not served on the public
// port.
func (p *prober) publicPort(ctx context.Context, public *url.URL) {
	if public == nil {
		p.add("public-pprof", StatusSkip, "", "the service reports no public HTTP address; pass --public-url to probe one")
		p.add("public-admin-endpoints", StatusSkip, "", "the service reports no public HTTP address; pass --public-url to probe one")
		return
	}
	probe := func(path string) (int, error) {
		r, err := p.get(ctx, public, path, "")
		if err != nil {
			return 0, err
		}
		return r.code, nil
	}
	unreachable := fmt.Sprintf("Make the public address reachable from here, or pass --public-url with the address to probe (tried %s).", public)
	code, err := probe("/debug/pprof/")
	switch {
	case err != nil:
		p.add("public-pprof", StatusFail, unreachable, "GET %s/debug/pprof/: %v", public, err)
		return
	case code == http.StatusOK:
		p.add("public-pprof", StatusFail, "Remove the pprof handlers from the public mux; link service.WithProfiler(profiler.Register) and set PPROF_ENABLED=true to serve them on the admin address only, and never in production.",
			"GET %s/debug/pprof/ answered 200: profiles are public", public)
	default:
		p.add("public-pprof", StatusPass, "", "GET %s/debug/pprof/ answered %d", public, code)
	}
	var open []string
	for _, path := range []string{"/metrics", "/config"} {
		code, err := probe(path)
		if err != nil {
			p.add("public-admin-endpoints", StatusFail, unreachable, "GET %s%s: %v", public, path, err)
			return
		}
		if code == http.StatusOK {
			open = append(open, path)
		}
	}
	if len(open) > 0 {
		p.add("public-admin-endpoints", StatusFail, "Serve admin endpoints on the admin address only (ADMIN_ADDR); remove them from the public mux.",
			"the public port answers 200 on %s", strings.Join(open, ", "))
		return
	}
	p.add("public-admin-endpoints", StatusPass, "", "the public port serves neither /metrics nor /config")
}

// clip shortens s for a message.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
