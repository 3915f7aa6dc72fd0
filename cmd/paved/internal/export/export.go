package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/service"
)

// Descriptor formats and the file each is written to.
const (
	FormatBackstage = "backstage" // catalog-info.yaml
	FormatCompass   = "compass"   // compass.yml
	FormatBoth      = "both"      // both files

	BackstageFile = "catalog-info.yaml" // the file Backstage discovers
	CompassFile   = "compass.yml"       // the file Compass config-as-code reads
)

// ErrUnreachable is returned by [FetchInfo] when the admin address does not answer.
var ErrUnreachable = errors.New("export: the admin address does not answer")

// ErrFormat is returned for a format other than backstage, compass or both.
var ErrFormat = errors.New("export: --format must be backstage, compass or both")

// FetchInfo reads the Info a service serves at its admin /info. The request is bounded
// by ctx.
func FetchInfo(ctx context.Context, client *http.Client, adminURL string) (service.Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, adminURL+"/info", nil)
	if err != nil {
		return service.Info{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return service.Info{}, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return service.Info{}, fmt.Errorf("GET %s: %w", req.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return service.Info{}, fmt.Errorf("GET %s answered %d, want 200", req.URL, resp.StatusCode)
	}
	var info service.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return service.Info{}, fmt.Errorf("GET %s: not a service's info document: %w", req.URL, err)
	}
	if info.Name == "" {
		return service.Info{}, fmt.Errorf("GET %s: the info document has no name; is this a Paved service's admin address?", req.URL)
	}
	return info, nil
}

// Component converts info to a catalog component with the catalog's defaults, and
// validates it: the error is a [*catalog.ValidationError] naming each invalid field.
func Component(info service.Info) (catalog.Component, error) {
	c := catalog.Component{
		Name:        info.Name,
		Owner:       info.Owner,
		Namespace:   info.Namespace,
		Description: info.Description,
		Type:        info.Type,
		Tier:        info.Tier,
		Lifecycle:   catalog.Lifecycle(info.Lifecycle),
		Links: catalog.Links{
			Repository: info.Links.Repository,
			Docs:       info.Links.Docs,
			Runbook:    info.Links.Runbook,
			OnCall:     info.Links.OnCall,
			Dashboard:  info.Links.Dashboard,
			APISpec:    info.Links.APISpec,
		},
		DependsOn:    slices.Clone(info.DependsOn),
		ProvidesAPIs: slices.Clone(info.ProvidesAPIs),
		Labels:       maps.Clone(info.Labels),
	}.WithDefaults()
	if err := c.Validate(); err != nil {
		return catalog.Component{}, err
	}
	return c, nil
}

// CheckFormat returns nil for backstage, compass or both, else an error matching
// [ErrFormat] that names the value.
func CheckFormat(format string) error {
	switch format {
	case FormatBackstage, FormatCompass, FormatBoth:
		return nil
	}
	return fmt.Errorf("%w, got %q", ErrFormat, format)
}

// Files renders c in format (backstage, compass or both) and returns the file contents
// by file name.
func Files(c catalog.Component, format string) (map[string][]byte, error) {
	out := map[string][]byte{}
	switch format {
	case FormatBackstage:
		out[BackstageFile] = catalog.BackstageYAML(c)
	case FormatCompass:
		out[CompassFile] = catalog.CompassYAML(c)
	case FormatBoth:
		out[BackstageFile] = catalog.BackstageYAML(c)
		out[CompassFile] = catalog.CompassYAML(c)
	default:
		return nil, CheckFormat(format)
	}
	return out, nil
}

// Write writes files into dir, creating dir when missing, and returns the paths
// written in name order. Existing descriptors are replaced: they are generated files.
func Write(dir string, files map[string][]byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
