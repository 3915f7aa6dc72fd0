package service

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/problem"
)

// APIKind is the kind of contract an API publishes: [catalog.APIKind].
type APIKind = catalog.APIKind

// The kinds of [API] a service publishes.
const (
	// APIKindOpenAPI is an HTTP API with an OpenAPI 3 document in JSON.
	APIKindOpenAPI = catalog.APIKindOpenAPI
	// APIKindGRPC is a gRPC service with its protobuf FileDescriptorSet. The service
	// publishes these itself for the services registered on [Service.GRPC] when the main
	// links server reflection ([WithGRPCReflection]).
	APIKindGRPC = catalog.APIKindGRPC
	// APIKindAsyncAPI is an event API with an AsyncAPI 3 document in JSON.
	APIKindAsyncAPI = catalog.APIKindAsyncAPI
)

// API is a contract the service publishes: the admin server serves its definition at
// /apis/{name}, and the registration sends the catalog its name, kind, digest and size.
// Give the service's HTTP contract in [Info.APIs], most often an embedded file:
//
//	//go:embed openapi.json
//	var openapi []byte
//
//	var info = service.Info{..., APIs: []service.API{
//		{Name: "inventory-http-v1", Kind: service.APIKindOpenAPI, Definition: openapi},
//	}}
type API struct {
	// Name names the API: 1-63 letters, digits, '-', '_' and '.' ([catalog.IsAPIName]).
	// It joins the component's providesApis.
	Name string
	// Kind is the kind of contract.
	Kind APIKind
	// Definition is the contract itself, at most [catalog.MaxAPIDefinitionBytes]. An
	// OpenAPI or AsyncAPI definition is a JSON document: the service checks its
	// structure at New (version 3, info.title, info.version, paths and their methods)
	// without linking an OpenAPI library; the catalog and `paved` validate it in full.
	Definition []byte
	// MediaType is the definition's media type; empty means the kind's
	// ([catalog.APIKind.MediaType]).
	MediaType string
	// Version is the API's version; empty means the document's info.version.
	Version string
}

// publishedAPI is an API as the service serves it.
type publishedAPI struct {
	desc catalog.API
	def  []byte
	// operations are an OpenAPI document's "METHOD /path" pairs.
	operations []string
}

// checkAPI checks a and returns it as published, or the problems found, each with
// field (such as "Info.APIs[0]") and the member at fault.
func checkAPI(field string, a API) (publishedAPI, []Problem) {
	var p problems
	if !catalog.IsAPIName(a.Name) {
		p.add(field+".Name", a.Name, "must be "+catalog.APINameRule)
	}
	if !a.Kind.Valid() {
		p.add(field+".Kind", string(a.Kind), "must be one of openapi, grpc, asyncapi")
	}
	switch n := len(a.Definition); {
	case n == 0:
		p.add(field+".Definition", "", "is required: the API's contract (an embedded file)")
	case n > catalog.MaxAPIDefinitionBytes:
		p.add(field+".Definition", fmt.Sprintf("%d bytes", n), fmt.Sprintf("must be at most %d bytes", catalog.MaxAPIDefinitionBytes))
	}
	mt := a.MediaType
	if mt == "" {
		mt = a.Kind.MediaType()
	}
	pub := publishedAPI{def: a.Definition}
	version := a.Version
	if len(a.Definition) > 0 && (a.Kind == APIKindOpenAPI || a.Kind == APIKindAsyncAPI) {
		doc, err := parseAPIDocument(a.Kind, a.Definition)
		if err != nil {
			p.add(field+".Definition", "", err.Error())
		} else {
			pub.operations = doc.operations
			if version == "" {
				version = doc.version
			}
		}
	}
	pub.desc = catalog.API{Name: a.Name, Kind: a.Kind, MediaType: mt, Version: version,
		Digest: catalog.Digest(a.Definition), Size: len(a.Definition)}
	// The rest of the descriptor's rules (media type, version) are the catalog's.
	c := catalog.Component{Name: "x", Owner: "x", ProvidesAPIs: []string{a.Name}, APIs: []catalog.API{pub.desc}}.WithDefaults()
	var ve *catalog.ValidationError
	if errors.As(c.Validate(), &ve) {
		for _, fe := range ve.Errors {
			switch fe.Field {
			case "apis[0].mediaType":
				p.add(field+".MediaType", a.MediaType, fe.Text())
			case "apis[0].version":
				p.add(field+".Version", version, fe.Text())
			}
		}
	}
	return pub, p.list
}

// apiDocument is what the service reads of an OpenAPI or AsyncAPI document.
type apiDocument struct {
	version    string
	operations []string
}

// PublishAPI publishes a (see [API]) beside those of [Info.APIs]: the hook for a
// transport that knows its contract only once set up, such as the subjects and schemas
// a messaging consumer registered. It must be called before [Service.Run]; it returns a
// *[ConfigError] for an invalid API and an error for a name already published.
func (s *Service) PublishAPI(a API) error {
	if s.ran.Load() {
		return fmt.Errorf("service: PublishAPI(%q) after Run: publish APIs in setup", a.Name)
	}
	pub, list := checkAPI("API", a)
	if len(list) > 0 {
		return &ConfigError{Problems: list}
	}
	return s.publish(pub)
}

func (s *Service) publish(pub publishedAPI) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.apis {
		if p.desc.Name == pub.desc.Name {
			return fmt.Errorf("service: API %q is published twice", pub.desc.Name)
		}
	}
	s.apis = append(s.apis, pub)
	return nil
}

// APIs returns the descriptors of the APIs the service publishes, in the order they
// were published.
func (s *Service) APIs() []catalog.API {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]catalog.API, len(s.apis))
	for i, p := range s.apis {
		out[i] = p.desc
	}
	return out
}

// api returns the published API named name.
func (s *Service) api(name string) (publishedAPI, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.apis {
		if p.desc.Name == name {
			return p, true
		}
	}
	return publishedAPI{}, false
}

// checkInfoAPIs checks Info.APIs and Info.ConsumesAPIs at New.
func checkInfoAPIs(p *problems, info Info) []publishedAPI {
	var out []publishedAPI
	seen := map[string]int{}
	for i, a := range info.APIs {
		field := fmt.Sprintf("Info.APIs[%d]", i)
		if j, dup := seen[a.Name]; dup && a.Name != "" {
			p.add(field+".Name", a.Name, fmt.Sprintf("duplicate of Info.APIs[%d]", j))
			continue
		}
		seen[a.Name] = i
		pub, list := checkAPI(field, a)
		p.list = append(p.list, list...)
		out = append(out, pub)
	}
	for i, n := range info.ConsumesAPIs {
		if !catalog.IsAPIName(n) {
			p.add(fmt.Sprintf("Info.ConsumesAPIs[%d]", i), n, "must be "+catalog.APINameRule)
		}
	}
	return out
}

// serveAPIs serves GET /apis: the descriptors of the published APIs.
func (s *Service) serveAPIs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, struct {
		APIs []catalog.API `json:"apis"`
	}{s.APIs()})
}

// serveAPI serves GET /apis/{name}: the definition with its media type, its digest as
// the ETag (conditional and range requests answered by http.ServeContent).
func (s *Service) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p, ok := s.api(name)
	if !ok {
		problem.Write(w, r, problem.Problem{Status: http.StatusNotFound,
			Detail: fmt.Sprintf("this service publishes no API named %q; GET /apis lists those it does", catalog.Clip(name))})
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.desc.MediaType)
	h.Set("ETag", `"`+p.desc.Digest+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.def))
}

// consumes returns what the service calls: the APIs Info declares and the dependencies
// its Paved clients call, with the APIs they name.
func (s *Service) consumes() []catalog.APIUse {
	var out []catalog.APIUse
	index := map[catalog.APIUse]int{}
	add := func(u catalog.APIUse) {
		key := catalog.APIUse{API: u.API, Provider: u.Provider}
		if i, ok := index[key]; ok {
			out[i].Declared = out[i].Declared || u.Declared
			out[i].Observed = out[i].Observed || u.Observed
			return
		}
		index[key] = len(out)
		out = append(out, u)
	}
	observed := map[string]string{} // API -> provider, from the clients
	for _, d := range s.deps.List() {
		if len(d.APIs) == 0 {
			add(catalog.APIUse{Provider: d.Name, Observed: true})
		}
		for _, a := range d.APIs {
			observed[a] = d.Name
			add(catalog.APIUse{API: a, Provider: d.Name, Observed: true, Declared: slices.Contains(s.info.ConsumesAPIs, a)})
		}
	}
	s.mu.Lock()
	used := slices.Clone(s.usedAPIs)
	s.mu.Unlock()
	for _, a := range used {
		if _, ok := observed[a]; !ok {
			observed[a] = ""
			add(catalog.APIUse{API: a, Observed: true, Declared: slices.Contains(s.info.ConsumesAPIs, a)})
		}
	}
	for _, a := range s.info.ConsumesAPIs {
		if _, ok := observed[a]; !ok {
			add(catalog.APIUse{API: a, Declared: true})
		}
	}
	return out
}

// UseAPI records that the service consumes the API named name, observed in what it
// set up though from no provider it knows: a messaging consumer of an event API, whose
// publishers the catalog finds by the API's name (transport/messaging/natsjs names an
// event API after its subject). The API joins the component's consumesApis and its uses
// (observed) in the next registration and in /info. It may be called at any time; a
// name recorded twice counts once. It returns a *[ConfigError] for an invalid name.
func (s *Service) UseAPI(name string) error {
	if !catalog.IsAPIName(name) {
		return &ConfigError{Problems: []Problem{{Var: "UseAPI", Value: truncate(name), Msg: "must be " + catalog.APINameRule}}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.usedAPIs, name) {
		s.usedAPIs = append(s.usedAPIs, name)
	}
	return nil
}

// apiFacts adds the published APIs and the public routes to the compliance facts.
func (s *Service) apiFacts(f *compliance.Facts) {
	s.mu.Lock()
	for _, p := range s.apis {
		f.APIs = append(f.APIs, compliance.API{Name: p.desc.Name, Kind: string(p.desc.Kind), Operations: slices.Clone(p.operations)})
	}
	if s.handler == nil {
		f.HTTPRoutes = slices.Clone(s.routes)
		if f.HTTPRoutes == nil {
			f.HTTPRoutes = []string{}
		}
	}
	s.mu.Unlock()
}

// consumedAPINames returns the names of the APIs the service consumes, declared or
// named by its clients, for the catalog's consumesApis.
func consumedAPINames(uses []catalog.APIUse) []string {
	var out []string
	for _, u := range uses {
		if u.API != "" && !slices.Contains(out, u.API) {
			out = append(out, u.API)
		}
	}
	return out
}

// joinNames returns names followed by the extra names it does not hold yet.
func joinNames(names []string, extra ...string) []string {
	out := slices.Clone(names)
	for _, n := range extra {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
