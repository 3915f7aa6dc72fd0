// Package export is the engine of `paved export`: it reads a running service's admin
// /info (the [service.Info] fields: name, owner, description, type, tier, lifecycle,
// links, dependsOn, providesApis, labels), turns it into a [catalog.Component] and
// renders catalog descriptors with catalog/server's own exporters, so the files match
// what the catalog serves: Backstage catalog-info.yaml and Atlassian Compass
// compass.yml.
//
// The functions are safe for concurrent use and keep no state. Empty optional Info
// fields take the catalog's defaults (type service, tier 3, lifecycle experimental).
package export
