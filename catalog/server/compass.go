package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// CompassOptions configure the push to Atlassian Compass (the catalog's COMPASS_*
// settings). The catalog writes what Compass must learn (a component changed, a
// deployment moved, a new score) to a durable outbox in its store, next to the change;
// [Server.RunCompass] sends the outbox through Compass's GraphQL API in order,
// retrying with backoff while Compass is unreachable, so that nothing is lost when it
// is down or the catalog restarts.
type CompassOptions struct {
	// SiteURL is the Compass site, such as https://example.atlassian.net. Required.
	SiteURL string
	// User is the Atlassian account (an e-mail address) the API token belongs to.
	// Required.
	User string
	// Token is that account's API token. Required. It is never logged.
	Token string
	// CloudID is the site's cloud id. Required.
	CloudID string
	// ScoreMetricID is the id of the Compass metric definition the components' scores
	// (0-100) are sent to. Empty means scores are not sent.
	ScoreMetricID string
	// CatalogURL is the catalog's public URL: the link of a deployment event whose
	// pipeline gave none is the component's page there. Required.
	CatalogURL string
	// Client sends the requests. Nil means a client with a 30 s timeout.
	Client *http.Client
	// MinBackoff and MaxBackoff bound the wait before a failed send is retried,
	// doubling from one to the other. Zero means 1 s and 5 minutes.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often an empty outbox is read again (changes made by this process
	// wake the sender at once). Zero means 10 s.
	Poll time.Duration
}

// SettingProblem is one problem of a [CompassOptions]: the catalog setting, its value
// (never a secret's) and the rule it breaks.
type SettingProblem struct {
	Setting, Value, Rule string
}

// Error implements error.
func (p *SettingProblem) Error() string {
	return p.Setting + " " + strconv.Quote(p.Value) + ": " + p.Rule
}

// Validate returns every problem of o at once (joined *SettingProblem errors), each
// naming its setting.
func (o *CompassOptions) Validate() error {
	var errs []error
	bad := func(setting, value, rule string) {
		errs = append(errs, &SettingProblem{setting, value, rule})
	}
	for _, u := range []struct{ setting, value string }{{"COMPASS_SITE_URL", o.SiteURL}, {"COMPASS_CATALOG_URL", o.CatalogURL}} {
		p, err := url.Parse(u.value)
		switch {
		case u.value == "":
			bad(u.setting, "", "is required")
		case err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http"):
			bad(u.setting, redactURL(u.value), "must be an absolute http or https URL")
		case p.User != nil:
			bad(u.setting, redactURL(u.value), "must not carry credentials (set COMPASS_USER and COMPASS_API_TOKEN)")
		}
	}
	if o.User == "" {
		bad("COMPASS_USER", "", "is required: the Atlassian account the API token belongs to")
	}
	if o.Token == "" {
		bad("COMPASS_API_TOKEN", "", "is required")
	}
	if o.CloudID == "" || strings.ContainsAny(o.CloudID, " \"'\\/") {
		bad("COMPASS_CLOUD_ID", o.CloudID, "is required: the site's cloud id, without spaces, quotes or slashes")
	}
	if o.ScoreMetricID != "" && !strings.HasPrefix(o.ScoreMetricID, "ari:cloud:compass:") {
		bad("COMPASS_SCORE_METRIC_ID", o.ScoreMetricID, `must be a Compass metric definition id ("ari:cloud:compass:...")`)
	}
	if o.MinBackoff < 0 || o.MaxBackoff < 0 || (o.MaxBackoff > 0 && o.MinBackoff > o.MaxBackoff) {
		bad("COMPASS_MAX_BACKOFF", o.MaxBackoff.String(), "must be 0 (5m) or at least the minimum backoff")
	}
	return errors.Join(errs...)
}

// redactURL returns u with any password replaced.
func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil && p.User != nil {
		return p.Redacted()
	}
	return u
}

// CompassOutbox is the name of the outbox the push to Compass uses; entries that
// Compass refused for good (a 4xx answer, or a mutation that reported errors) are moved
// to CompassFailedOutbox, where they wait for an operator.
const (
	CompassOutbox       = "compass"
	CompassFailedOutbox = "compass-failed"
)

// compassEntry is one outbox entry: a component to sync, a score to send or a
// deployment event.
type compassEntry struct {
	Type      string          `json:"type"` // component, score or deployment
	Component string          `json:"component"`
	Event     json.RawMessage `json:"event,omitempty"` // deployment: Compass's event input
}

// compassStore is the store under a server that pushes to Compass: it enqueues what
// Compass must learn next to each change.
type compassStore struct {
	store.Store
	ob    store.Outbox
	s     *Server
	wake  chan struct{}
	score bool
}

func (cs *compassStore) enqueue(ctx context.Context, e compassEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := cs.ob.Enqueue(ctx, CompassOutbox, b); err != nil {
		return fmt.Errorf("compass outbox: %w", err)
	}
	select {
	case cs.wake <- struct{}{}:
	default:
	}
	return nil
}

// PutComponent enqueues a sync of a created or changed component before writing it,
// and again after: the first makes sure a write that succeeds has its sync even when
// the catalog stops right after it, the second that the sync is sent with the new
// state even when the sender read the component between the first and the write. A
// write that fails leaves a sync of the unchanged component, which is harmless.
func (cs *compassStore) PutComponent(ctx context.Context, c catalog.Component) (bool, error) {
	old, err := cs.Store.GetComponent(ctx, c.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	changed := err != nil || !sameComponent(old, c)
	if changed {
		if err := cs.enqueue(ctx, compassEntry{Type: "component", Component: c.Name}); err != nil {
			return false, err
		}
	}
	created, err := cs.Store.PutComponent(ctx, c)
	if err == nil && changed {
		if err := cs.enqueue(ctx, compassEntry{Type: "component", Component: c.Name}); err != nil {
			cs.s.log.ErrorContext(ctx, "compass: this change of the component may not be sent", "component", c.Name, "err", err)
		}
	}
	return created, err
}

// sameComponent reports whether a and b have the same JSON form (the store may keep an
// empty list or map as nil).
func sameComponent(a, b catalog.Component) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// PutScorecard enqueues the component's new score after the card is stored.
func (cs *compassStore) PutScorecard(ctx context.Context, sc catalog.Scorecard) error {
	if err := cs.Store.PutScorecard(ctx, sc); err != nil || !cs.score {
		return err
	}
	if err := cs.enqueue(ctx, compassEntry{Type: "score", Component: sc.Component}); err != nil {
		cs.s.log.ErrorContext(ctx, "compass: the score of this scorecard will not be sent", "component", sc.Component, "err", err)
	}
	return nil
}

// UpdateHistory enqueues a deployment event for each deployment the update recorded or
// moved to another state.
func (cs *compassStore) UpdateHistory(ctx context.Context, component, env string, fn func(h *catalog.History) (bool, error)) (catalog.History, error) {
	var before map[string]catalog.DeploymentState
	var wrote bool
	h, err := cs.Store.UpdateHistory(ctx, component, env, func(h *catalog.History) (bool, error) {
		before = make(map[string]catalog.DeploymentState, len(h.Deployments))
		for _, d := range h.Deployments {
			before[d.ID] = d.State
		}
		w, err := fn(h)
		wrote = w && err == nil
		return w, err
	})
	if err != nil || !wrote {
		return h, err
	}
	now := cs.s.now().UTC()
	for _, d := range h.Deployments {
		if st, ok := before[d.ID]; ok && st == d.State {
			continue
		}
		ev, err := json.Marshal(compassDeploymentEvent(d, cs.s.opts.Compass.CatalogURL, now))
		if err == nil {
			err = cs.enqueue(ctx, compassEntry{Type: "deployment", Component: d.Component, Event: ev})
		}
		if err != nil {
			cs.s.log.ErrorContext(ctx, "compass: this deployment event will not be sent", "component", d.Component,
				"environment", d.Environment, "deployment", d.ID, "state", d.State, "err", err)
		}
	}
	return h, nil
}

// compassEventSource names the event source of a component's deployment events.
func compassEventSource(component string) string { return "paved:" + component }

// compassCategory maps an environment to a Compass environment category.
func compassCategory(env string) string {
	switch env {
	case catalog.EnvProduction, "prod":
		return "PRODUCTION"
	case catalog.EnvStaging:
		return "STAGING"
	case catalog.EnvTesting, "test":
		return "TESTING"
	case catalog.EnvDevelopment, "dev":
		return "DEVELOPMENT"
	}
	return "UNMAPPED"
}

// compassDeploymentEvent returns d as the input of Compass's createEvent (a
// CompassEventInput with its deployment field), as of now.
func compassDeploymentEvent(d catalog.Deployment, catalogURL string, now time.Time) map[string]any {
	seq, _ := strconv.ParseInt(d.ID[strings.IndexByte(d.ID, '-')+1:], 10, 64)
	name := d.DisplayName
	if name == "" {
		name = d.Component + " " + d.Version
	}
	link := d.URL
	if link == "" {
		link = strings.TrimSuffix(catalogURL, "/") + "/components/" + url.PathEscape(d.Component)
	}
	desc := d.Description
	if desc == "" {
		desc = fmt.Sprintf("%s %s in %s, observed by the Paved catalog (%d instances)", d.Component, d.Version, d.Environment, d.Instances)
		if d.Rollback {
			desc += "; a rollback to " + d.Version
		}
	}
	pipeline := map[string]any{"pipelineId": "paved:" + d.Component + ":" + d.Environment, "displayName": "Paved catalog", "url": link}
	if p := d.Pipeline; p != nil {
		pipeline = map[string]any{"pipelineId": p.PipelineID, "displayName": p.DisplayName, "url": p.URL}
	}
	envID, envName := d.EnvironmentID, d.EnvironmentName
	if envID == "" {
		envID = d.Environment
	}
	if envName == "" {
		envName = d.Environment
	}
	return map[string]any{"deployment": map[string]any{
		"displayName":           name,
		"updateSequenceNumber":  now.UnixMilli(),
		"url":                   link,
		"description":           desc,
		"lastUpdated":           now.Format(time.RFC3339Nano),
		"externalEventSourceId": compassEventSource(d.Component),
		"deploymentProperties": map[string]any{
			"sequenceNumber": seq,
			"state":          strings.ToUpper(string(d.State)),
			"pipeline":       pipeline,
			"environment":    map[string]any{"category": compassCategory(d.Environment), "displayName": envName, "environmentId": envID},
		},
	}}
}

// The GraphQL documents the push sends, from Compass's GraphQL API reference.
const (
	compassQueryByAlias     = `query pavedComponentByAlias($cloudId: ID!, $externalId: ID!, $externalSource: ID!) { compass { componentByExternalAlias(cloudId: $cloudId, externalID: $externalId, externalSource: $externalSource) { __typename ... on CompassComponent { id } ... on QueryError { message extensions { statusCode } } } } }`
	compassCreateComponent  = `mutation pavedCreateComponent($cloudId: ID!, $input: CreateCompassComponentInput!) { compass { createComponent(cloudId: $cloudId, input: $input) { success errors { message extensions { statusCode } } componentDetails { id } } } }`
	compassUpdateComponent  = `mutation pavedUpdateComponent($input: UpdateCompassComponentInput!) { compass { updateComponent(input: $input) { success errors { message extensions { statusCode } } } } }`
	compassCreateRelation   = `mutation pavedCreateRelationship($input: CreateCompassRelationshipInput!) { compass { createRelationship(input: $input) { success errors { message extensions { statusCode } } } } }`
	compassCreateEventSrc   = `mutation pavedCreateEventSource($input: CreateEventSourceInput!) { compass { createEventSource(input: $input) { success errors { message extensions { statusCode } } eventSource { id } } } }`
	compassAttachEventSrc   = `mutation pavedAttachEventSource($input: AttachEventSourceInput!) { compass { attachEventSource(input: $input) { success errors { message extensions { statusCode } } } } }`
	compassCreateMetricSrc  = `mutation pavedCreateMetricSource($input: CompassCreateMetricSourceInput!) { compass { createMetricSource(input: $input) { success errors { message extensions { statusCode } } createdMetricSource { id } } } }`
	compassCreateEvent      = `mutation pavedCreateEvent($input: CompassCreateEventInput!) { compass { createEvent(input: $input) { success errors { message extensions { statusCode } } } } }`
	compassInsertMetric     = `mutation pavedInsertMetricValue($input: CompassInsertMetricValueByExternalIdInput!) { compass { insertMetricValueByExternalId(input: $input) { success errors { message extensions { statusCode } } } } }`
	compassExternalSource   = "paved"
	compassGraphQLPath      = "/gateway/api/graphql"
	compassMaxResponseBytes = 1 << 20
)

// errPermanent marks a send Compass refused for good: retrying it cannot succeed.
type errPermanent struct{ msg string }

func (e *errPermanent) Error() string { return e.msg }

// errRetry is a transient failure, with the wait Compass asked for (Retry-After).
type errRetry struct {
	err   error
	after time.Duration
}

func (e *errRetry) Error() string { return e.err.Error() }
func (e *errRetry) Unwrap() error { return e.err }

// compassPusher sends the outbox to Compass.
type compassPusher struct {
	s    *Server
	o    CompassOptions
	ob   store.Outbox
	wake chan struct{}
	// ids holds the Compass ids of the components this process has synced.
	ids map[string]string
	met compassMetrics
}

// compassMetrics count what the push does (docs/metrics.md).
type compassMetrics struct {
	sent     *prometheus.CounterVec
	failures prometheus.Counter
	refused  prometheus.Counter
}

func newCompassMetrics() compassMetrics {
	return compassMetrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paved_catalog_compass_sent_total",
			Help: "Outbox entries the catalog sent to Compass, by type (component, deployment, score)."}, []string{"type"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "paved_catalog_compass_failures_total",
			Help: "Sends to Compass that failed and will be retried (Compass unreachable, 429, 5xx, 401, 403)."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "paved_catalog_compass_refused_total",
			Help: "Outbox entries Compass refused for good, moved to the outbox compass-failed."}),
	}
}

func (m compassMetrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.sent, m.failures, m.refused} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// gql posts one GraphQL document and decodes the field compass.<field> of its data
// into out.
func (p *compassPusher) gql(ctx context.Context, query string, vars map[string]any, field string, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.o.SiteURL, "/")+compassGraphQLPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(p.o.User, p.o.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := p.o.Client.Do(req)
	if err != nil {
		return &errRetry{err: fmt.Errorf("compass %s: %w", field, redactErr(err, p.o.Token))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, compassMaxResponseBytes))
	if err != nil {
		return &errRetry{err: fmt.Errorf("compass %s: reading the answer: %w", field, err)}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 ||
		resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// Credentials can be fixed without losing what waits: 401 and 403 are retried.
		after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &errRetry{err: fmt.Errorf("compass %s: HTTP %d", field, resp.StatusCode), after: time.Duration(after) * time.Second}
	case resp.StatusCode != http.StatusOK:
		return &errPermanent{fmt.Sprintf("compass %s: HTTP %d: %s", field, resp.StatusCode, catalog.Clip(string(raw)))}
	}
	var env struct {
		Data   map[string]map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				StatusCode int `json:"statusCode"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return &errRetry{err: fmt.Errorf("compass %s: the answer is not GraphQL JSON: %w", field, err)}
	}
	if len(env.Errors) > 0 {
		e := env.Errors[0]
		if c := e.Extensions.StatusCode; c == http.StatusTooManyRequests || c >= 500 {
			return &errRetry{err: fmt.Errorf("compass %s: %s", field, e.Message)}
		}
		return &errPermanent{fmt.Sprintf("compass %s: %s", field, e.Message)}
	}
	res := env.Data["compass"][field]
	if res == nil {
		return &errRetry{err: fmt.Errorf("compass %s: no data in the answer", field)}
	}
	var status struct {
		Success *bool `json:"success"`
		Errors  []struct {
			Message    string `json:"message"`
			Extensions struct {
				StatusCode int `json:"statusCode"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(res, &status)
	if status.Success != nil && !*status.Success {
		msg := "success false"
		code := 0
		if len(status.Errors) > 0 {
			msg, code = status.Errors[0].Message, status.Errors[0].Extensions.StatusCode
		}
		if code == http.StatusTooManyRequests || code >= 500 {
			return &errRetry{err: fmt.Errorf("compass %s: %s", field, msg)}
		}
		return &errPermanent{fmt.Sprintf("compass %s: %s", field, msg)}
	}
	if out != nil {
		return json.Unmarshal(res, out)
	}
	return nil
}

// redactErr returns err with the token replaced, should a transport error quote it.
func redactErr(err error, token string) error {
	if token != "" && strings.Contains(err.Error(), token) {
		return errors.New(strings.ReplaceAll(err.Error(), token, "REDACTED"))
	}
	return err
}

// componentID returns the Compass id of component c: the configured one, the one this
// process learned, or the one Compass has under the external alias paved/<name>; ""
// when Compass has none.
func (p *compassPusher) componentID(ctx context.Context, name string) (string, error) {
	if id := p.s.opts.CompassIDs.Components[name]; id != "" {
		return id, nil
	}
	if id := p.ids[name]; id != "" {
		return id, nil
	}
	var res struct {
		Typename   string `json:"__typename"`
		ID         string `json:"id"`
		Message    string `json:"message"`
		Extensions struct {
			StatusCode int `json:"statusCode"`
		} `json:"extensions"`
	}
	err := p.gql(ctx, compassQueryByAlias, map[string]any{"cloudId": p.o.CloudID, "externalId": name, "externalSource": compassExternalSource},
		"componentByExternalAlias", &res)
	switch {
	case err != nil:
		return "", err
	case res.ID != "":
		return res.ID, nil
	case res.Extensions.StatusCode == http.StatusNotFound:
		return "", nil
	}
	return "", &errRetry{err: fmt.Errorf("compass componentByExternalAlias %s: %s", name, res.Message)}
}

// syncComponent creates or updates component name in Compass, with its DEPENDS_ON
// relationships to the dependencies Compass knows, and returns its Compass id ("" when
// the catalog no longer has it).
func (p *compassPusher) syncComponent(ctx context.Context, name string) (string, error) {
	c, err := p.s.raw.GetComponent(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", &errRetry{err: err}
	}
	id, err := p.componentID(ctx, name)
	if err != nil {
		return "", err
	}
	var owner any
	if t := p.s.opts.CompassIDs.Teams[c.Owner]; t != "" {
		owner = t
	}
	fresh := id == ""
	if fresh {
		input := map[string]any{"name": c.Name, "description": c.Description, "typeId": catalog.CompassTypeID(c.Type), "ownerId": owner,
			"labels": catalog.CompassLabels(&c), "links": catalog.CompassLinks(&c),
			"externalAlias": map[string]any{"externalId": c.Name, "externalSource": compassExternalSource}}
		var res struct {
			ComponentDetails struct {
				ID string `json:"id"`
			} `json:"componentDetails"`
		}
		if err := p.gql(ctx, compassCreateComponent, map[string]any{"cloudId": p.o.CloudID, "input": input}, "createComponent", &res); err != nil {
			return "", err
		}
		if id = res.ComponentDetails.ID; id == "" {
			return "", &errRetry{err: fmt.Errorf("compass createComponent %s: no id in the answer", name)}
		}
		p.ids[name] = id
		if err := p.setUpSources(ctx, name, id); err != nil {
			return "", err
		}
	} else {
		input := map[string]any{"id": id, "name": c.Name, "description": c.Description, "typeId": catalog.CompassTypeID(c.Type), "ownerId": owner}
		if err := p.gql(ctx, compassUpdateComponent, map[string]any{"input": input}, "updateComponent", nil); err != nil {
			return "", err
		}
		if p.ids[name] == "" {
			p.ids[name] = id
			if err := p.setUpSources(ctx, name, id); err != nil {
				return "", err
			}
		}
	}
	for _, dep := range c.DependsOn {
		depID, err := p.componentID(ctx, dep)
		if err != nil {
			return "", err
		}
		if depID == "" {
			continue // not in Compass yet: its own sync links nothing back, the next sync of c does
		}
		input := map[string]any{"startNodeId": id, "endNodeId": depID, "type": "DEPENDS_ON"}
		if err := p.gql(ctx, compassCreateRelation, map[string]any{"input": input}, "createRelationship", nil); err != nil {
			return "", err
		}
	}
	return id, nil
}

// setUpSources creates and attaches the component's deployment event source and, when
// scores are sent, its score metric source. Compass answers an existing one with it.
func (p *compassPusher) setUpSources(ctx context.Context, name, id string) error {
	var es struct {
		EventSource struct {
			ID string `json:"id"`
		} `json:"eventSource"`
	}
	in := map[string]any{"cloudId": p.o.CloudID, "externalEventSourceId": compassEventSource(name), "eventType": "DEPLOYMENT"}
	if err := p.gql(ctx, compassCreateEventSrc, map[string]any{"input": in}, "createEventSource", &es); err != nil {
		return err
	}
	in = map[string]any{"componentId": id, "eventSourceId": es.EventSource.ID}
	if err := p.gql(ctx, compassAttachEventSrc, map[string]any{"input": in}, "attachEventSource", nil); err != nil {
		return err
	}
	if p.o.ScoreMetricID == "" {
		return nil
	}
	in = map[string]any{"componentId": id, "metricDefinitionId": p.o.ScoreMetricID, "externalMetricSourceId": compassEventSource(name)}
	return p.gql(ctx, compassCreateMetricSrc, map[string]any{"input": in}, "createMetricSource", nil)
}

// send sends one entry; synced holds the components synced in this batch.
func (p *compassPusher) send(ctx context.Context, e compassEntry, synced map[string]bool) error {
	if !synced[e.Component] && (e.Type == "component" || p.ids[e.Component] == "") {
		id, err := p.syncComponent(ctx, e.Component)
		if err != nil {
			return err
		}
		if id == "" {
			return nil // gone from the catalog: nothing to send
		}
		synced[e.Component] = true
	}
	switch e.Type {
	case "component":
		return nil
	case "deployment":
		return p.gql(ctx, compassCreateEvent, map[string]any{"input": map[string]any{"cloudId": p.o.CloudID, "event": e.Event}}, "createEvent", nil)
	case "score":
		sc, err := p.s.st.Scorecard(ctx, e.Component)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return &errRetry{err: err}
		}
		if sc.Score < 0 {
			return nil // no card: nothing to send
		}
		in := map[string]any{"cloudId": p.o.CloudID, "metricDefinitionId": p.o.ScoreMetricID, "externalMetricSourceId": compassEventSource(e.Component),
			"value": map[string]any{"value": sc.Score, "timestamp": p.s.now().UTC().Format(time.RFC3339)}}
		return p.gql(ctx, compassInsertMetric, map[string]any{"input": in}, "insertMetricValueByExternalId", nil)
	}
	return &errPermanent{"unknown outbox entry type " + strconv.Quote(e.Type)}
}

// RunCompass sends the Compass outbox until ctx ends, and returns nil then. It does
// nothing (it waits for ctx) when Options.Compass is nil. Entries are sent in order,
// one at a time; a transient failure (Compass unreachable, 429, 5xx, 401, 403) is
// retried with backoff, doubling from CompassOptions.MinBackoff to MaxBackoff (or
// Compass's Retry-After), before any later entry; an entry Compass refuses for good is
// logged and moved to the outbox CompassFailedOutbox.
func (s *Server) RunCompass(ctx context.Context) error {
	p := s.compass
	if p == nil {
		<-ctx.Done()
		return nil
	}
	backoff := time.Duration(0)
	for {
		wait := p.o.Poll
		n, err := p.pass(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			backoff = min(max(2*backoff, p.o.MinBackoff), p.o.MaxBackoff)
			wait = backoff + rand.N(backoff/4+1)
			var r *errRetry
			if errors.As(err, &r) && r.after > wait {
				wait = min(r.after, p.o.MaxBackoff)
			}
			p.met.failures.Inc()
			s.log.WarnContext(ctx, "compass: sending failed; retrying", "err", err, "retry_in", wait.Round(time.Millisecond).String())
		case n > 0:
			backoff = 0
			continue // more may wait
		default:
			backoff = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-p.wake:
			t.Stop()
			if err != nil {
				// A failure still waits its backoff; the wake is kept for later.
				t = time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
			}
		case <-t.C:
		}
	}
}

// pass sends one batch of the outbox and returns how many entries it acknowledged.
func (p *compassPusher) pass(ctx context.Context) (int, error) {
	entries, err := p.ob.Pending(ctx, CompassOutbox, 64)
	if err != nil {
		return 0, &errRetry{err: fmt.Errorf("reading the compass outbox: %w", err)}
	}
	synced := map[string]bool{}
	scored := map[string]bool{}
	n := 0
	for _, en := range entries {
		var e compassEntry
		if err := json.Unmarshal(en.Payload, &e); err != nil {
			err = &errPermanent{fmt.Sprintf("outbox entry %d is not JSON: %v", en.Seq, err)}
			if err := p.fail(ctx, en, err); err != nil {
				return n, err
			}
			n++
			continue
		}
		var sendErr error
		switch {
		case e.Type == "component" && synced[e.Component], e.Type == "score" && scored[e.Component]:
			// Sent in this batch already: the state sent is the latest.
		default:
			sendErr = p.send(ctx, e, synced)
		}
		var perm *errPermanent
		switch {
		case sendErr == nil:
			if e.Type == "score" {
				scored[e.Component] = true
			}
			p.met.sent.WithLabelValues(e.Type).Inc()
		case errors.As(sendErr, &perm):
			if err := p.fail(ctx, en, sendErr); err != nil {
				return n, err
			}
		default:
			return n, sendErr
		}
		if err := p.ob.Ack(ctx, CompassOutbox, en.Seq); err != nil {
			return n, &errRetry{err: fmt.Errorf("acknowledging compass outbox entry %d: %w", en.Seq, err)}
		}
		n++
	}
	return n, nil
}

// fail moves an entry Compass refused for good to the failed outbox, loudly.
func (p *compassPusher) fail(ctx context.Context, en store.OutboxEntry, err error) error {
	p.s.log.ErrorContext(ctx, "compass: refused for good; moved to the outbox "+CompassFailedOutbox, "seq", en.Seq, "entry", catalog.Clip(string(en.Payload)), "err", err)
	p.met.refused.Inc()
	if _, err := p.ob.Enqueue(ctx, CompassFailedOutbox, en.Payload); err != nil {
		return &errRetry{err: fmt.Errorf("moving compass outbox entry %d to %s: %w", en.Seq, CompassFailedOutbox, err)}
	}
	return nil
}

// newCompass wraps st for the push to Compass, or returns st when o is nil.
func (s *Server) newCompass(st store.Store, o *CompassOptions) store.Store {
	if o == nil {
		return st
	}
	ob, ok := st.(store.Outbox)
	if !ok {
		panic(fmt.Sprintf("server: Options.Compass needs a store that implements store.Outbox; %T does not", st))
	}
	opts := *o
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 10 * time.Second
	}
	wake := make(chan struct{}, 1)
	s.compass = &compassPusher{s: s, o: opts, ob: ob, wake: wake, ids: map[string]string{}, met: newCompassMetrics()}
	return &compassStore{Store: st, ob: ob, s: s, wake: wake, score: opts.ScoreMetricID != ""}
}
