package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/apicheck"
	"github.com/paved-road/paved/cmd/paved/internal/check"
)

// paved api check compares the API definitions of the service about to ship with the
// latest versions the catalog keeps, with the catalog's own check (apicheck), and
// exits 1 when one breaks its consumers.

const apiUsage = `Usage:
  paved api check --against CATALOG_URL (--admin ADMIN_URL | --file NAME=PATH...) [--token T] [--format text|json] [--timeout D]

Compares each API definition of the service with the latest version the catalog keeps
of the API of that name, as the catalog does when a new version registers.
  --admin  reads the definitions a running service publishes (GET /apis, /apis/{name})
  --file   reads one definition from a file: an OpenAPI or AsyncAPI document in JSON
           (its "openapi" or "asyncapi" member says which) or a protobuf
           FileDescriptorSet (.pb, .protoset, .binpb) for a gRPC API; repeatable
  --token  the catalog's read token, when it needs one (default $CATALOG_TOKEN)
Exit codes: 0 no breaking change, 1 a breaking change (listed) or an unreadable
definition, 2 usage error or catalog or service unreachable.
`

// fileFlags collects --file NAME=PATH.
type fileFlags []string

func (f *fileFlags) String() string     { return strings.Join(*f, ",") }
func (f *fileFlags) Set(v string) error { *f = append(*f, v); return nil }

// localAPI is one definition of the service being checked.
type localAPI struct {
	Name string          `json:"name"`
	Kind catalog.APIKind `json:"kind"`
	def  []byte
}

// apiResult is the outcome of one API's check.
type apiResult struct {
	Name      string                   `json:"name"`
	Kind      catalog.APIKind          `json:"kind"`
	Against   *catalog.APIVersion      `json:"against,omitempty"` // nil: not in the catalog
	Consumers []catalog.APIConsumer    `json:"consumers,omitempty"`
	Breaking  []catalog.BreakingChange `json:"breaking"`
	Error     string                   `json:"error,omitempty"`
}

func runAPI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, apiUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "paved api: want the subcommand check\n\n%s", apiUsage)
		return exitUsage
	}
	fs := newFlagSet("api check", stderr)
	against := fs.String("against", "", "the catalog's base URL, such as http://catalog:8080 (required)")
	admin := fs.String("admin", "", "admin URL of a running service to read its definitions from")
	var files fileFlags
	fs.Var(&files, "file", "NAME=PATH of one definition (repeatable)")
	token := fs.String("token", os.Getenv("CATALOG_TOKEN"), "the catalog's read token (default $CATALOG_TOKEN)")
	format := fs.String("format", "text", "report format: text or json")
	timeout := fs.Duration("timeout", 30*time.Second, "bound on the whole check")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return flagExit(err)
	}
	var problems []string
	if len(pos) > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q: give the definitions with --admin or --file", pos))
	}
	if *against == "" {
		problems = append(problems, "--against is required: the catalog's base URL, such as http://catalog:8080")
	}
	if (*admin == "") == (len(files) == 0) {
		problems = append(problems, "give either --admin ADMIN_URL or --file NAME=PATH (repeatable), not both or neither")
	}
	if *format != "text" && *format != "json" {
		problems = append(problems, fmt.Sprintf("--format must be text or json, got %q", *format))
	}
	var catURL, adminURL *url.URL
	if *against != "" {
		if catURL, err = check.ParseBaseURL("--against", *against); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if *admin != "" {
		if adminURL, err = check.ParseBaseURL("--admin", *admin); err != nil {
			problems = append(problems, err.Error())
		}
	}
	var local []localAPI
	for _, f := range files {
		a, err := readAPIFile(f)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		local = append(local, a)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "paved api check: %s\n", strings.Join(problems, "\npaved api check: "))
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if adminURL != nil {
		if local, err = readAdminAPIs(ctx, client, adminURL); err != nil {
			return usageError(stderr, "api check", err)
		}
	}
	results := make([]apiResult, 0, len(local))
	for _, a := range local {
		res, err := checkAgainst(ctx, client, catURL, *token, a)
		if err != nil {
			return usageError(stderr, "api check", err)
		}
		results = append(results, res)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(map[string]any{"apis": results})
	} else {
		err = writeAPIText(stdout, results)
	}
	if err != nil {
		fmt.Fprintf(stderr, "paved api check: writing the report: %v\n", err)
		return exitFail
	}
	if slices.ContainsFunc(results, func(r apiResult) bool { return len(r.Breaking) > 0 || r.Error != "" }) {
		return exitFail
	}
	return exitOK
}

// readAPIFile reads --file NAME=PATH, telling the kind from the content.
func readAPIFile(spec string) (localAPI, error) {
	name, path, ok := strings.Cut(spec, "=")
	if !ok || !catalog.IsAPIName(name) || path == "" {
		return localAPI{}, fmt.Errorf("--file %q: want NAME=PATH, NAME being %s", spec, catalog.APINameRule)
	}
	def, err := os.ReadFile(path)
	if err != nil {
		return localAPI{}, fmt.Errorf("--file %s: %w", name, err)
	}
	if len(def) == 0 || len(def) > catalog.MaxAPIDefinitionBytes {
		return localAPI{}, fmt.Errorf("--file %s: %s has %d bytes; a definition has 1 to %d", name, path, len(def), catalog.MaxAPIDefinitionBytes)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pb", ".protoset", ".binpb":
		return localAPI{Name: name, Kind: catalog.APIKindGRPC, def: def}, nil
	}
	var doc struct {
		OpenAPI  string `json:"openapi"`
		AsyncAPI string `json:"asyncapi"`
	}
	switch err := json.Unmarshal(def, &doc); {
	case err != nil:
		return localAPI{}, fmt.Errorf("--file %s: %s is not JSON (%v); a protobuf FileDescriptorSet needs the extension .pb, .protoset or .binpb", name, path, err)
	case doc.OpenAPI != "":
		return localAPI{Name: name, Kind: catalog.APIKindOpenAPI, def: def}, nil
	case doc.AsyncAPI != "":
		return localAPI{Name: name, Kind: catalog.APIKindAsyncAPI, def: def}, nil
	}
	return localAPI{}, fmt.Errorf("--file %s: %s has neither an \"openapi\" nor an \"asyncapi\" member", name, path)
}

// readAdminAPIs reads the definitions a running service publishes.
func readAdminAPIs(ctx context.Context, client *http.Client, admin *url.URL) ([]localAPI, error) {
	body, status, _, err := get(ctx, client, admin.JoinPath("apis"), "")
	if err != nil {
		return nil, fmt.Errorf("--admin %s: %w; is the service running and is this its admin address (ADMIN_ADDR)?", admin, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("--admin %s: GET /apis answered %d, want 200 (a service of Paved v0.x before API contracts has no /apis)", admin, status)
	}
	var list struct {
		APIs []catalog.API `json:"apis"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("--admin %s: GET /apis: %w", admin, err)
	}
	out := make([]localAPI, 0, len(list.APIs))
	for _, a := range list.APIs {
		def, status, _, err := get(ctx, client, admin.JoinPath("apis", a.Name), "")
		if err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("--admin %s: GET /apis/%s: status %d, %v", admin, a.Name, status, err)
		}
		if catalog.Digest(def) != a.Digest {
			return nil, fmt.Errorf("--admin %s: GET /apis/%s: the definition's digest is not the one /apis lists (the service changed while read?)", admin, a.Name)
		}
		out = append(out, localAPI{Name: a.Name, Kind: a.Kind, def: def})
	}
	return out, nil
}

// checkAgainst compares one definition with the catalog's latest version of its API.
func checkAgainst(ctx context.Context, client *http.Client, cat *url.URL, token string, a localAPI) (apiResult, error) {
	res := apiResult{Name: a.Name, Kind: a.Kind, Breaking: []catalog.BreakingChange{}}
	body, status, _, err := get(ctx, client, cat.JoinPath("api", "v1", "apis", a.Name), token)
	if err != nil {
		return res, fmt.Errorf("--against %s: %w", cat, err)
	}
	switch status {
	case http.StatusOK:
	case http.StatusNotFound:
		return res, nil // an API the catalog does not know: nothing to break
	case http.StatusUnauthorized:
		return res, fmt.Errorf("--against %s: the catalog needs a read token: give --token or set CATALOG_TOKEN", cat)
	default:
		return res, fmt.Errorf("--against %s: GET /api/v1/apis/%s answered %d: %s", cat, a.Name, status, catalog.Clip(string(body)))
	}
	var sum catalog.APISummary
	if err := json.Unmarshal(body, &sum); err != nil {
		return res, fmt.Errorf("--against %s: GET /api/v1/apis/%s: %w", cat, a.Name, err)
	}
	res.Consumers = sum.Consumers
	if sum.Latest == nil {
		return res, nil // known by name, no contract stored
	}
	res.Against = sum.Latest
	u := cat.JoinPath("api", "v1", "apis", a.Name, "definition")
	u.RawQuery = url.Values{"digest": {sum.Latest.Digest}}.Encode()
	prev, status, _, err := get(ctx, client, u, token)
	if err != nil || status != http.StatusOK {
		return res, fmt.Errorf("--against %s: GET %s: status %d, %v", cat, u.Path, status, err)
	}
	if sum.Latest.Kind != a.Kind {
		res.Error = fmt.Sprintf("the catalog's version is of kind %s, this definition of kind %s", sum.Latest.Kind, a.Kind)
		return res, nil
	}
	changes, err := apicheck.Check(a.Kind, prev, a.def)
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	if changes != nil {
		res.Breaking = changes
	}
	return res, nil
}

// get reads u, with a bearer token when one is given, bounded to a definition's size.
func get(ctx context.Context, client *http.Client, u *url.URL, token string) ([]byte, int, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, catalog.MaxAPIDefinitionBytes+1))
	if err == nil && len(b) > catalog.MaxAPIDefinitionBytes {
		err = errors.New("the answer is larger than a definition may be")
	}
	return b, resp.StatusCode, resp.Header, err
}

func writeAPIText(w io.Writer, results []apiResult) error {
	var b bytes.Buffer
	if len(results) == 0 {
		b.WriteString("no API to check: the service publishes none\n")
	}
	for _, r := range results {
		switch {
		case r.Against == nil:
			fmt.Fprintf(&b, "%s (%s): not in the catalog yet: nothing to break\n", r.Name, r.Kind)
			continue
		case r.Error != "":
			fmt.Fprintf(&b, "%s (%s): FAIL cannot be compared with the catalog's version %s: %s\n", r.Name, r.Kind, versionOf(r.Against), r.Error)
			continue
		case len(r.Breaking) == 0:
			fmt.Fprintf(&b, "%s (%s): ok, no breaking change against the catalog's version %s\n", r.Name, r.Kind, versionOf(r.Against))
			continue
		}
		fmt.Fprintf(&b, "%s (%s): FAIL %d breaking change(s) against the catalog's version %s", r.Name, r.Kind, len(r.Breaking), versionOf(r.Against))
		if len(r.Consumers) > 0 {
			names := make([]string, len(r.Consumers))
			for i, c := range r.Consumers {
				names[i] = c.Component
			}
			fmt.Fprintf(&b, ", consumed by %s", strings.Join(names, ", "))
		}
		b.WriteString("\n")
		for _, c := range r.Breaking {
			op := ""
			if c.Operation != "" {
				op = c.Operation + ": "
			}
			fmt.Fprintf(&b, "  %s%s [%s]\n", op, c.Message, c.ID)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func versionOf(v *catalog.APIVersion) string {
	d := strings.TrimPrefix(v.Digest, "sha256:")
	if v.Version != "" {
		return v.Version + " (" + d[:min(12, len(d))] + ")"
	}
	return d[:min(12, len(d))]
}
