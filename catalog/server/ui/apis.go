package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/apicheck"
)

// The API pages: /apis lists every API the catalog knows (provided, consumed or
// stored), /apis/{name} shows one: its providers and consumers, its versions with the
// breaking changes each made, and what its definition offers (the operations of an
// OpenAPI document, the services and methods of a FileDescriptorSet, the subjects of an
// AsyncAPI document).

// apisBody is the list page's data.
type apisBody struct {
	APIs []catalog.APISummary
}

// apiBody is an API page's data.
type apiBody struct {
	catalog.APISummary
	// Shown is the version whose definition is outlined: the latest, or ?digest=.
	Shown *catalog.APIVersion
	// Outline is what Shown's definition offers; OutlineError why it could not be read.
	Outline      apicheck.Outline
	OutlineError string
}

// summaries reads every API's summary from the store.
func (h *Handler) summaries(r *http.Request) ([]catalog.APISummary, error) {
	comps, err := h.st.ListComponents(r.Context(), catalog.ComponentFilter{})
	if err != nil {
		return nil, err
	}
	vs, err := h.st.APIVersions(r.Context(), "")
	if err != nil {
		return nil, err
	}
	return catalog.SummarizeAPIs(comps, vs), nil
}

func (h *Handler) apisPage(w http.ResponseWriter, r *http.Request) {
	all, err := h.summaries(r)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "apis.html", page{Title: "APIs", Nav: "apis", Body: apisBody{APIs: all}})
}

func (h *Handler) apiPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	all, err := h.summaries(r)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	i := slices.IndexFunc(all, func(a catalog.APISummary) bool { return a.Name == name })
	if i < 0 {
		h.errorPage(w, r, http.StatusNotFound, "No component provides or consumes an API named "+catalog.Clip(name)+", and no version of it is stored.")
		return
	}
	body := apiBody{APISummary: all[i]}
	if d := r.URL.Query().Get("digest"); d != "" {
		j := slices.IndexFunc(body.Versions, func(v catalog.APIVersion) bool { return v.Digest == d })
		if j < 0 {
			h.errorPage(w, r, http.StatusNotFound, "API "+name+" has no stored version of digest "+catalog.Clip(d)+".")
			return
		}
		body.Shown = &body.Versions[j]
	} else if len(body.Versions) > 0 {
		body.Shown = &body.Versions[0]
	}
	if body.Shown != nil {
		def, err := h.st.APIDefinition(r.Context(), name, body.Shown.Digest)
		if err != nil {
			h.storeFailed(w, r, err)
			return
		}
		if body.Outline, err = apicheck.Describe(body.Shown.Kind, def); err != nil {
			body.OutlineError = err.Error()
		}
	}
	h.render(w, r, http.StatusOK, "api.html", page{Title: name, Nav: "apis", Body: body})
}

// shortDigest is a digest's first 12 hex digits, as the pages show it.
func shortDigest(d string) string {
	h, _ := strings.CutPrefix(d, "sha256:")
	return h[:min(12, len(h))]
}
