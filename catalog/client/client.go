package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
)

// Sentinel errors matched by errors.Is on an [*Error].
var (
	ErrNotFound     = errors.New("catalog: not found")
	ErrUnauthorized = errors.New("catalog: unauthorized: missing or unknown token")
	ErrForbidden    = errors.New("catalog: forbidden: the token's team does not own the component")
	// ErrNotRegistered is the answer to a heartbeat of an instance the catalog does not
	// hold (412 Precondition Failed): register it again.
	ErrNotRegistered = errors.New("catalog: instance not registered")
)

// Error is an error answer of the catalog: its status and problem document.
type Error struct {
	Status  int
	Problem catalog.Problem
	// Op is the call, such as "PUT /api/v1/components/orders".
	Op string
}

// Error describes the answer: the call, the status and the problem's detail and fields.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "catalog: %s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Problem.Detail != "" {
		b.WriteString(": " + e.Problem.Detail)
	}
	for _, f := range e.Problem.Errors {
		b.WriteString("; " + f.String())
	}
	return b.String()
}

// Is matches the sentinel errors by status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotRegistered:
		return e.Status == http.StatusPreconditionFailed
	}
	return false
}

// Client calls one catalog. Build it with [New].
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// Option configures [New].
type Option func(*Client)

// WithToken sends token as the bearer token of every call (writes need one).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient makes the client send its calls with hc instead of its own client
// (which has a 10 s timeout per call, long polls excepted).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// New returns a client of the catalog at baseURL, such as http://catalog:8080.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("catalog client: base URL must be an absolute http or https URL such as http://catalog:8080, got %q", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, http: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Close releases the idle connections of the client's own transport.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// callTimeout bounds one call that is not a long poll.
const callTimeout = 10 * time.Second

// do sends one call with body (JSON) and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any, timeout time.Duration) (http.Header, int, error) {
	return c.doHeader(ctx, method, path, query, nil, body, out, timeout)
}

// doHeader is do with extra request headers.
func (c *Client) doHeader(ctx context.Context, method, path string, query url.Values, header http.Header, body, out any, timeout time.Duration) (http.Header, int, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	op := method + " " + u.Path
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("catalog: %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode, Op: op}
		if json.Unmarshal(data, &e.Problem) != nil {
			e.Problem.Detail = strings.TrimSpace(string(data[:min(len(data), 256)]))
		}
		return resp.Header, resp.StatusCode, e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, resp.StatusCode, fmt.Errorf("catalog: %s: decoding the answer: %w", op, err)
		}
	}
	return resp.Header, resp.StatusCode, nil
}

func componentPath(name string) string { return "/api/v1/components/" + url.PathEscape(name) }

// PutComponent creates or replaces a component, reporting whether it was created.
func (c *Client) PutComponent(ctx context.Context, comp catalog.Component) (created bool, err error) {
	_, code, err := c.do(ctx, http.MethodPut, componentPath(comp.Name), nil, comp, nil, callTimeout)
	return code == http.StatusCreated, err
}

// GetComponent returns a component.
func (c *Client) GetComponent(ctx context.Context, name string) (catalog.Component, error) {
	var comp catalog.Component
	_, _, err := c.do(ctx, http.MethodGet, componentPath(name), nil, nil, &comp, callTimeout)
	return comp, err
}

// ListComponents returns the components the filter matches.
func (c *Client) ListComponents(ctx context.Context, f catalog.ComponentFilter) ([]catalog.Component, error) {
	q := url.Values{}
	if f.Owner != "" {
		q.Set("owner", f.Owner)
	}
	if f.Tier != 0 {
		q.Set("tier", strconv.Itoa(f.Tier))
	}
	if f.Lifecycle != "" {
		q.Set("lifecycle", string(f.Lifecycle))
	}
	for k, v := range f.Labels {
		q.Add("label", k+"="+v)
	}
	if f.Text != "" {
		q.Set("q", f.Text)
	}
	var out []catalog.Component
	_, _, err := c.do(ctx, http.MethodGet, "/api/v1/components", q, nil, &out, callTimeout)
	return out, err
}

// DeleteComponent deletes a component with its instances and scorecards.
func (c *Client) DeleteComponent(ctx context.Context, name string) error {
	_, _, err := c.do(ctx, http.MethodDelete, componentPath(name), nil, nil, nil, callTimeout)
	return err
}

// PutInstance registers an instance (or heartbeats it when it exists) and returns it as
// stored.
func (c *Client) PutInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	var out catalog.Instance
	_, _, err := c.do(ctx, http.MethodPut, componentPath(in.Component)+"/instances/"+url.PathEscape(in.ID), nil, in, &out, callTimeout)
	return out, err
}

// HeartbeatInstance heartbeats a registered instance (a PUT with If-Match: *) and
// returns it as stored. When the catalog does not hold the instance (never registered,
// deregistered, expired, or the catalog restarted empty) it stores nothing and the error
// matches [ErrNotRegistered].
func (c *Client) HeartbeatInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	var out catalog.Instance
	h := http.Header{"If-Match": {"*"}}
	_, _, err := c.doHeader(ctx, http.MethodPut, componentPath(in.Component)+"/instances/"+url.PathEscape(in.ID), nil, h, in, &out, callTimeout)
	return out, err
}

// DeleteInstance deregisters an instance.
func (c *Client) DeleteInstance(ctx context.Context, component, id string) error {
	_, _, err := c.do(ctx, http.MethodDelete, componentPath(component)+"/instances/"+url.PathEscape(id), nil, nil, nil, callTimeout)
	return err
}

// InstanceSet is a component's instances at a change index.
type InstanceSet struct {
	Index     uint64             `json:"index"`
	Instances []catalog.Instance `json:"instances"`
}

// Instances returns a component's healthy instances, or all of them.
func (c *Client) Instances(ctx context.Context, component string, all bool) (InstanceSet, error) {
	return c.watch(ctx, component, all, 0, 0)
}

// WatchInstances waits until a component's healthy instances change after index (or
// wait passes) and returns them with the new index: the catalog's long poll.
func (c *Client) WatchInstances(ctx context.Context, component string, index uint64, wait time.Duration) (InstanceSet, error) {
	return c.watch(ctx, component, false, index, wait)
}

func (c *Client) watch(ctx context.Context, component string, all bool, index uint64, wait time.Duration) (InstanceSet, error) {
	q := url.Values{}
	if all {
		q.Set("status", "all")
	}
	timeout := callTimeout
	if index > 0 {
		q.Set("index", strconv.FormatUint(index, 10))
		if wait > 0 {
			q.Set("wait", wait.String())
		}
		timeout = wait + callTimeout
	}
	var set InstanceSet
	_, _, err := c.do(ctx, http.MethodGet, componentPath(component)+"/instances", q, nil, &set, timeout)
	return set, err
}

// PutScorecard stores the latest compliance scorecard of an instance.
func (c *Client) PutScorecard(ctx context.Context, sc catalog.Scorecard) error {
	_, _, err := c.do(ctx, http.MethodPut, componentPath(sc.Component)+"/scorecard", nil, sc, nil, callTimeout)
	return err
}

// Scorecard returns a component's scorecards and score.
func (c *Client) Scorecard(ctx context.Context, component string) (catalog.ComponentScorecard, error) {
	var out catalog.ComponentScorecard
	_, _, err := c.do(ctx, http.MethodGet, componentPath(component)+"/scorecard", nil, nil, &out, callTimeout)
	return out, err
}
