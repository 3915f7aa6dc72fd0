package service

import (
	"context"

	"github.com/paved-road/paved/catalog"
	catalogclient "github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/discovery"
)

// catalogBackend is the built-in REGISTRY=catalog backend: it registers the component
// (from Info), the instance and its compliance scorecard with the catalog at CATALOG_URL
// using CATALOG_TOKEN, and watches dependencies' instances with the catalog's long poll.
func (s *Service) catalogBackend() registryBackend {
	var c *catalogclient.Client
	client := func(cfg *Config) (*catalogclient.Client, error) {
		if c != nil {
			return c, nil
		}
		var err error
		c, err = catalogclient.New(cfg.CatalogURL, catalogclient.WithToken(cfg.CatalogToken))
		if err != nil {
			return nil, err
		}
		s.addCloser(c.Close)
		return c, nil
	}
	return registryBackend{
		Registrar: func(ctx context.Context, cfg *Config, info Info) (discovery.Registrar, error) {
			c, err := client(cfg)
			if err != nil {
				return nil, err
			}
			return c.Registrar(s.component(info), s.scorecard), nil
		},
		Instancer: func(ctx context.Context, cfg *Config, dependency string) (discovery.Instancer, error) {
			c, err := client(cfg)
			if err != nil {
				return nil, err
			}
			return c.Instancer(dependency), nil
		},
	}
}

// component returns the service's catalog component: Info with the APIs it publishes
// (descriptors only: the definitions stay on the admin port, at /apis/{name}) and what
// it consumes, declared and observed.
func (s *Service) component(i Info) catalog.Component {
	c := componentOf(i)
	c.APIs = s.APIs()
	for _, a := range c.APIs {
		c.ProvidesAPIs = joinNames(c.ProvidesAPIs, a.Name)
	}
	c.Uses = s.consumes()
	c.ConsumesAPIs = joinNames(i.ConsumesAPIs, consumedAPINames(c.Uses)...)
	return c
}

// componentOf turns the service's Info into its catalog component.
func componentOf(i Info) catalog.Component {
	return catalog.Component{
		Name:         i.Name,
		Owner:        i.Owner,
		Namespace:    i.Namespace,
		Description:  i.Description,
		Type:         i.Type,
		Tier:         i.Tier,
		Lifecycle:    catalog.Lifecycle(i.Lifecycle),
		Links:        i.Links,
		DependsOn:    i.DependsOn,
		ProvidesAPIs: i.ProvidesAPIs,
		Labels:       i.Labels,
	}.WithDefaults()
}

// scorecard evaluates compliance again (facts can change while the service runs) and
// returns the report in the catalog's form; the registrar sends it when it changed.
func (s *Service) scorecard() (catalog.Scorecard, bool) {
	if s.cfg.ComplianceMode == ComplianceOff {
		return catalog.Scorecard{}, false
	}
	rep, _ := s.evaluateCompliance(context.Background())
	sc := catalog.Scorecard{
		Component:      s.info.Name,
		Instance:       s.instanceID,
		RuleSetVersion: rep.RuleSetVersion,
		Score:          rep.Score,
		Passed:         rep.Passed,
	}
	for _, r := range rep.Results {
		if r.Status != compliance.StatusFail {
			continue
		}
		level := catalog.LevelWarning
		if r.Level == compliance.Required {
			level = catalog.LevelError
		}
		msg := r.Message
		if len(msg) > 1024 {
			msg = msg[:1024]
		}
		sc.Failed = append(sc.Failed, catalog.RuleResult{ID: r.ID, Level: level, Message: msg})
	}
	return sc, true
}
