package server

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// BackstageLocationName is the metadata.name of the Location entity at
// /api/v1/export/backstage/location.yaml.
const BackstageLocationName = "paved-catalog"

// apiDefinitionText returns the text the Backstage export gives as the definition of
// a: the stored definition when it is text, else a placeholder that says where the
// definition is served.
func (s *Server) apiDefinitionText(ctx context.Context, a catalog.ProvidedAPI) (string, error) {
	if a.Descriptor != nil {
		v, def, err := s.LatestAPIDefinition(ctx, a.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return "", fmt.Errorf("reading the definition of API %s: %w", a.Name, err)
		case utf8.Valid(def) && !strings.Contains(v.MediaType, "protobuf"):
			return string(def), nil
		}
	}
	return placeholderDefinition(a), nil
}

// placeholderDefinition says where the definition of a is, when the export cannot
// carry it: none is stored, it is binary (a protobuf FileDescriptorSet) or the
// component publishes no contract.
func placeholderDefinition(a catalog.ProvidedAPI) string {
	if a.Descriptor == nil {
		return "# " + a.Provider.Name + " names the API " + a.Name + " in providesApis without publishing its contract.\n"
	}
	d := a.Descriptor
	return "# The " + string(d.Kind) + " definition of " + a.Name + " (" + d.MediaType + ", " + d.Digest + ") is served\n" +
		"# by the catalog at /api/v1/apis/" + a.Name + " and by the instances of " + a.Provider.Name +
		" at /apis/" + a.Name + " on their admin address.\n"
}

// backstageStream serves every component (the list filters apply) and the APIs they
// provide as Backstage entities, one multi-document YAML stream: what a Backstage url
// location ingests.
func (s *Server) backstageStream(w http.ResponseWriter, r *http.Request) {
	list, ok := s.filteredComponents(w, r)
	if !ok {
		return
	}
	apis := catalog.ProvidedAPIs(list)
	defs := make([]string, len(apis))
	for i, a := range apis {
		var err error
		if defs[i], err = s.apiDefinitionText(r.Context(), a); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", yamlContentType)
	for _, c := range list {
		_, _ = io.WriteString(w, "---\n")
		_, _ = w.Write(catalog.BackstageYAML(c))
	}
	for i, a := range apis {
		_, _ = io.WriteString(w, "---\n")
		_, _ = w.Write(catalog.BackstageAPIYAML(a, defs[i]))
	}
}

// backstageLocation serves a Location entity whose target is the entity stream, by a
// path relative to the location's own URL, so that it holds no address a caller chose.
func (s *Server) backstageLocation(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", yamlContentType)
	_, _ = w.Write(catalog.BackstageLocationYAML(BackstageLocationName, "../catalog-info.yaml"))
}

// compassYAML renders a component as compass.yml with the configured Compass ids.
func (s *Server) compassYAML(c catalog.Component) []byte {
	return catalog.CompassYAMLWith(c, s.opts.CompassIDs)
}

// compassArchive serves every component (the list filters apply) as a gzip-compressed
// tar archive of <name>/compass.yml files: Compass reads one component per file.
func (s *Server) compassArchive(w http.ResponseWriter, r *http.Request) {
	list, ok := s.filteredComponents(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="compass.tar.gz"`)
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	for _, c := range list {
		body := s.compassYAML(c)
		hdr := &tar.Header{Name: c.Name + "/compass.yml", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if tw.WriteHeader(hdr) != nil {
			return // the client went away
		}
		if _, err := tw.Write(body); err != nil {
			return
		}
	}
	_ = tw.Close()
	_ = zw.Close()
}
