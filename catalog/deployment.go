package catalog

import (
	"strconv"
	"strings"
	"time"
)

// DeploymentState is where a deployment stands. The names are those of Compass's and
// Jira's deployment events, in lower case.
type DeploymentState string

// The states of a deployment.
const (
	DeploymentPending    DeploymentState = "pending"     // announced, not started (pushed events only)
	DeploymentInProgress DeploymentState = "in_progress" // the new version runs beside the old one
	DeploymentSuccessful DeploymentState = "successful"  // rollout finished: every instance runs the new version
	DeploymentFailed     DeploymentState = "failed"      // the pipeline failed (pushed events only)
	DeploymentRolledBack DeploymentState = "rolled_back" // the previous version came back
	DeploymentCancelled  DeploymentState = "cancelled"   // replaced by another version before it finished
	DeploymentUnknown    DeploymentState = "unknown"     // the pipeline did not say (pushed events only)
)

// Valid reports whether s is one of the defined states.
func (s DeploymentState) Valid() bool {
	switch s {
	case DeploymentPending, DeploymentInProgress, DeploymentSuccessful, DeploymentFailed,
		DeploymentRolledBack, DeploymentCancelled, DeploymentUnknown:
		return true
	}
	return false
}

// Deployed reports whether a deployment in state s put its version in front of users, so
// that it counts in the DORA keys: every state but pending, failed and cancelled.
func (s DeploymentState) Deployed() bool {
	return s != DeploymentPending && s != DeploymentFailed && s != DeploymentCancelled
}

// Where a deployment record comes from.
const (
	SourceObserved = "observed" // the catalog saw the component's running versions change
	SourceEvent    = "event"    // a pipeline posted it (POST /api/v1/events)
)

// Environment categories of pushed deployment events, as Compass names them. Paved
// services name their environment with SERVICE_ENV (development, staging, production).
const (
	EnvDevelopment = "development"
	EnvTesting     = "testing"
	EnvStaging     = "staging"
	EnvProduction  = "production"
	EnvUnmapped    = "unmapped"
)

// UnknownEnvironment is the environment of an instance registered without an
// "environment" metadata value that is a DNS label.
const UnknownEnvironment = "unknown"

// Retention of a [History]: the latest deployments and incidents are kept, the oldest
// dropped as new ones are recorded.
const (
	MaxDeployments = 1000 // per component and environment
	MaxIncidents   = 1000 // per component and environment
)

// Deployment is one change of the version a component runs in an environment, observed
// by the catalog or pushed by a pipeline. It is an item of
// GET /api/v1/components/{name}/deployments and GET /api/v1/deployments.
type Deployment struct {
	// ID names the deployment within its component and environment: "o-<n>" for the
	// n-th observed one, "e-<sequenceNumber>" for a pushed event.
	ID string `json:"id"`
	// Component is the component's name.
	Component string `json:"component"`
	// Environment is where it was deployed: the instances' "environment" metadata, or
	// a pushed event's environment category.
	Environment string `json:"environment"`
	// Source is observed or event.
	Source string `json:"source"`
	// Version is the version deployed.
	Version string `json:"version"`
	// Revision is the VCS revision it was built from, when known (the instances'
	// "revision" metadata).
	Revision string `json:"revision,omitempty"`
	// CommitTime is the time of that revision's commit (vcs.time of the build), when
	// known; lead time for changes is measured from it.
	CommitTime time.Time `json:"commitTime,omitzero"`
	// PreviousVersion is the version deployed before, "" for the first.
	PreviousVersion string `json:"previousVersion,omitempty"`
	// State is where the deployment stands.
	State DeploymentState `json:"state"`
	// Rollback is set on a deployment that brought back the previous deployment's
	// previous version within the change failure window.
	Rollback bool `json:"rollback,omitempty"`
	// StartedAt is when the first instance of the version was seen (or the pipeline's
	// startedAt).
	StartedAt time.Time `json:"startedAt"`
	// FirstReadyAt is when an instance of the version was first seen passing (or the
	// pipeline's completedAt).
	FirstReadyAt time.Time `json:"firstReadyAt,omitzero"`
	// FinishedAt is when the rollout finished: every instance in the environment ran
	// the version (or the pipeline's completedAt).
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Instances counts the instances running the version: at the last observation
	// while in progress, when it finished afterwards.
	Instances int `json:"instances"`

	// The fields of a pushed event, as it gave them.
	DisplayName          string    `json:"displayName,omitempty"`
	Description          string    `json:"description,omitempty"`
	URL                  string    `json:"url,omitempty"`
	Pipeline             *Pipeline `json:"pipeline,omitempty"`
	EnvironmentID        string    `json:"environmentId,omitempty"`
	EnvironmentName      string    `json:"environmentName,omitempty"`
	UpdateSequenceNumber int64     `json:"updateSequenceNumber,omitempty"`
	LastUpdated          time.Time `json:"lastUpdated,omitzero"`
}

// Incident is a period when a component was impaired in an environment: from the first
// instance seen critical (failing readiness, or missing heartbeats) to every instance
// passing again.
type Incident struct {
	// StartedAt is when the first critical instance was seen.
	StartedAt time.Time `json:"startedAt"`
	// RestoredAt is when every instance was passing again (or, when none was left and
	// none had crashed, when the last one was deregistered); zero while it lasts.
	RestoredAt time.Time `json:"restoredAt,omitzero"`
	// Version is the version deployed when it started.
	Version string `json:"version,omitempty"`
	// Crashed is set when an instance missed its heartbeats (expired) during the
	// incident: it then lasts until an instance passes again.
	Crashed bool `json:"crashed,omitempty"`
}

// History is what the catalog remembers of a component in one environment, beyond its
// live instances: its deployments, its incidents, the versions it ran at the last
// observation and the last scorecard one of its instances reported. It outlives the
// instances: a component whose last instance has gone keeps it.
type History struct {
	// Component and Environment name the history.
	Component   string `json:"component"`
	Environment string `json:"environment"`
	// Index is the store's change index of the last observation applied; an older
	// observation (from a slower catalog replica) is ignored.
	Index uint64 `json:"index,omitempty"`
	// Running maps each version to the number of live instances running it at the last
	// observation.
	Running map[string]int `json:"running,omitempty"`
	// StoppedAt is when the last instance was seen gone; zero while instances run.
	StoppedAt time.Time `json:"stoppedAt,omitzero"`
	// Observed counts the observed deployments ever recorded (it numbers their IDs).
	Observed int64 `json:"observed,omitempty"`
	// Deployments holds the deployments, oldest first: at most [MaxDeployments].
	Deployments []Deployment `json:"deployments,omitempty"`
	// Incidents holds the incidents, oldest first: at most [MaxIncidents].
	Incidents []Incident `json:"incidents,omitempty"`
	// Scorecard is the last scorecard an instance in this environment reported.
	Scorecard *Scorecard `json:"scorecard,omitempty"`
	// Scores is the component's score history, oldest first: a point whenever a
	// scorecard reported in this environment changed the score, or a day after the
	// last point; at most [MaxScorePoints].
	Scores []ScorePoint `json:"scores,omitempty"`
}

// Trim drops the oldest deployments and incidents beyond the retention limits.
func (h *History) Trim() {
	if n := len(h.Deployments) - MaxDeployments; n > 0 {
		h.Deployments = append(h.Deployments[:0:0], h.Deployments[n:]...)
	}
	if n := len(h.Incidents) - MaxIncidents; n > 0 {
		h.Incidents = append(h.Incidents[:0:0], h.Incidents[n:]...)
	}
	if n := len(h.Scores) - MaxScorePoints; n > 0 {
		h.Scores = append(h.Scores[:0:0], h.Scores[n:]...)
	}
}

// AddScore records score at t in the score history, when it differs from the last
// point or that point is a day old or more, and reports whether it did.
func (h *History) AddScore(t time.Time, score int) bool {
	if n := len(h.Scores); n > 0 {
		last := h.Scores[n-1]
		if last.Score == score && t.Sub(last.At) < 24*time.Hour {
			return false
		}
	}
	h.Scores = append(h.Scores, ScorePoint{At: t, Score: score})
	h.Trim()
	return true
}

// IsRunning reports whether instances ran in the environment at the last observation.
func (h *History) IsRunning() bool { return len(h.Running) > 0 }

// EnvironmentOf returns the environment an instance runs in: its "environment"
// metadata in lower case when that is a DNS label, else [UnknownEnvironment].
func EnvironmentOf(in *Instance) string {
	env := strings.ToLower(in.Metadata["environment"])
	if !IsDNSLabel(env) {
		return UnknownEnvironment
	}
	return env
}

// Pipeline is the pipeline that made a pushed deployment.
type Pipeline struct {
	// PipelineID names it in the CI/CD system. Required.
	PipelineID string `json:"pipelineId"`
	// DisplayName is its name for people.
	DisplayName string `json:"displayName,omitempty"`
	// URL links to it.
	URL string `json:"url,omitempty"`
}

// EventEnvironment is the environment of a pushed deployment event.
type EventEnvironment struct {
	// Category is development, testing, staging, production or unmapped. Required; it
	// is the environment the deployment is recorded in.
	Category string `json:"category"`
	// DisplayName is its name for people, such as "Production EU".
	DisplayName string `json:"displayName,omitempty"`
	// EnvironmentID names it in the CI/CD system, such as "prod-eu-1".
	EnvironmentID string `json:"environmentId,omitempty"`
}

// DeploymentProperties are the deployment fields of a pushed event.
type DeploymentProperties struct {
	// SequenceNumber orders the deployments of the component in the environment, and
	// identifies this one: a later event with the same number updates it. Required,
	// positive.
	SequenceNumber int64 `json:"sequenceNumber"`
	// State is one of the [DeploymentState] values. Required.
	State DeploymentState `json:"state"`
	// StartedAt is when the deployment started. Required.
	StartedAt time.Time `json:"startedAt"`
	// CompletedAt is when it completed; required when the state is successful,
	// failed, rolled_back or cancelled.
	CompletedAt time.Time `json:"completedAt,omitzero"`
	// Environment is where it deployed. Required.
	Environment EventEnvironment `json:"environment"`
	// Pipeline made it. Required.
	Pipeline Pipeline `json:"pipeline"`
}

// DeploymentEvent is the body of POST /api/v1/events: a deployment of a component that
// is not a Paved service (the catalog observes those itself), shaped after Compass's
// deployment events, plus the component, version, revision and commit time.
type DeploymentEvent struct {
	// Component names the component deployed; it must exist. Required.
	Component string `json:"component"`
	// DisplayName names the event for people. Required, at most 255 characters.
	DisplayName string `json:"displayName"`
	// Description says more, at most 2048 characters.
	Description string `json:"description,omitempty"`
	// URL links to the deployment in the CI/CD system (http or https). Required.
	URL string `json:"url"`
	// LastUpdated is when the event last changed. Required.
	LastUpdated time.Time `json:"lastUpdated"`
	// UpdateSequenceNumber orders the updates of one deployment: an update whose number
	// is not above the stored one is ignored. Required, positive.
	UpdateSequenceNumber int64 `json:"updateSequenceNumber"`
	// DeploymentProperties are the deployment's fields. Required.
	DeploymentProperties DeploymentProperties `json:"deploymentProperties"`
	// Version is the version deployed (1-128 printable ASCII, no spaces). Required.
	Version string `json:"version"`
	// Revision is the VCS revision deployed (1-128 printable ASCII, no spaces).
	Revision string `json:"revision,omitempty"`
	// CommitTime is the time of that revision's commit; lead time for changes is
	// measured from it.
	CommitTime time.Time `json:"commitTime,omitzero"`
}

// Validate returns nil, or a [*ValidationError] listing every problem of e.
func (e *DeploymentEvent) Validate() error {
	var p problems
	checkDNSLabel(&p, "component", e.Component)
	switch {
	case e.DisplayName == "":
		p.add("displayName", "is required: the event's name for people, at most 255 characters")
	default:
		checkText(&p, "displayName", e.DisplayName, 255)
	}
	checkText(&p, "description", e.Description, MaxDescriptionLength)
	if e.URL == "" {
		p.add("url", "is required: an http or https URL of the deployment")
	} else {
		checkHTTPURL(&p, "url", e.URL)
	}
	if e.LastUpdated.IsZero() {
		p.add("lastUpdated", "is required: an RFC 3339 time")
	}
	if e.UpdateSequenceNumber <= 0 {
		p.add("updateSequenceNumber", "must be a positive integer, got %d", e.UpdateSequenceNumber)
	}
	d := &e.DeploymentProperties
	if d.SequenceNumber <= 0 {
		p.add("deploymentProperties.sequenceNumber", "must be a positive integer, got %d", d.SequenceNumber)
	}
	if !d.State.Valid() {
		p.add("deploymentProperties.state", "must be one of pending, in_progress, successful, failed, rolled_back, cancelled, unknown, got %q", Clip(string(d.State)))
	}
	if d.StartedAt.IsZero() {
		p.add("deploymentProperties.startedAt", "is required: an RFC 3339 time")
	}
	switch d.State {
	case DeploymentSuccessful, DeploymentFailed, DeploymentRolledBack, DeploymentCancelled:
		if d.CompletedAt.IsZero() {
			p.add("deploymentProperties.completedAt", "is required when the state is %s: an RFC 3339 time", d.State)
		}
	}
	if !d.CompletedAt.IsZero() && !d.StartedAt.IsZero() && d.CompletedAt.Before(d.StartedAt) {
		p.add("deploymentProperties.completedAt", "must not be before startedAt (%s), got %s", d.StartedAt.Format(time.RFC3339), d.CompletedAt.Format(time.RFC3339))
	}
	switch d.Environment.Category {
	case EnvDevelopment, EnvTesting, EnvStaging, EnvProduction, EnvUnmapped:
	default:
		p.add("deploymentProperties.environment.category", "must be one of development, testing, staging, production, unmapped, got %q", Clip(d.Environment.Category))
	}
	checkText(&p, "deploymentProperties.environment.displayName", d.Environment.DisplayName, 255)
	if d.Environment.EnvironmentID != "" && !isToken(d.Environment.EnvironmentID) {
		p.add("deploymentProperties.environment.environmentId", "must be 1-128 printable ASCII characters without spaces, got %q", Clip(d.Environment.EnvironmentID))
	}
	if !isToken(d.Pipeline.PipelineID) {
		p.add("deploymentProperties.pipeline.pipelineId", "is required: 1-128 printable ASCII characters without spaces, got %q", Clip(d.Pipeline.PipelineID))
	}
	checkText(&p, "deploymentProperties.pipeline.displayName", d.Pipeline.DisplayName, 255)
	checkHTTPURL(&p, "deploymentProperties.pipeline.url", d.Pipeline.URL)
	switch {
	case e.Version == "":
		p.add("version", "is required: 1-128 printable ASCII characters without spaces")
	case !isToken(e.Version):
		p.add("version", "must be 1-128 printable ASCII characters without spaces, got %q", Clip(e.Version))
	}
	if e.Revision != "" && !isToken(e.Revision) {
		p.add("revision", "must be 1-128 printable ASCII characters without spaces, got %q", Clip(e.Revision))
	}
	return p.err()
}

// EventDeploymentID is the [Deployment.ID] of a pushed event's deployment.
func EventDeploymentID(sequenceNumber int64) string {
	return "e-" + strconv.FormatInt(sequenceNumber, 10)
}

// Deployment returns the deployment e records.
func (e *DeploymentEvent) Deployment() Deployment {
	d := e.DeploymentProperties
	pl := d.Pipeline
	out := Deployment{
		ID: EventDeploymentID(d.SequenceNumber), Component: e.Component, Environment: d.Environment.Category,
		Source: SourceEvent, Version: e.Version, Revision: e.Revision, CommitTime: e.CommitTime.UTC(),
		State: d.State, StartedAt: d.StartedAt.UTC(),
		DisplayName: e.DisplayName, Description: e.Description, URL: e.URL, Pipeline: &pl,
		EnvironmentID: d.Environment.EnvironmentID, EnvironmentName: d.Environment.DisplayName,
		UpdateSequenceNumber: e.UpdateSequenceNumber, LastUpdated: e.LastUpdated.UTC(),
	}
	if !d.CompletedAt.IsZero() && d.State != DeploymentFailed && d.State != DeploymentCancelled {
		out.FirstReadyAt, out.FinishedAt = d.CompletedAt.UTC(), d.CompletedAt.UTC()
	}
	return out
}

// DORA holds DORA's four keys of a component in an environment, or of a team, over a
// window. A key that cannot be computed (no deployment, no commit time, no incident) is
// nil.
type DORA struct {
	// Deployments counts the deployments started in the window (those whose state
	// [DeploymentState.Deployed]).
	Deployments int `json:"deployments"`
	// DeploymentsPerDay is Deployments divided by the window's length in days.
	DeploymentsPerDay float64 `json:"deploymentsPerDay"`
	// LeadTimeSeconds is the median, over the deployments with a known commit time,
	// of the time from the commit to the first instance ready.
	LeadTimeSeconds *float64 `json:"leadTimeSeconds"`
	// FailedDeployments counts the deployments that were rolled back, or followed
	// within the change failure window (and before the next deployment) by an
	// incident.
	FailedDeployments int `json:"failedDeployments"`
	// ChangeFailureRate is FailedDeployments / Deployments, 0 to 1.
	ChangeFailureRate *float64 `json:"changeFailureRate"`
	// Incidents counts the incidents started in the window; Restored those of them
	// that ended.
	Incidents int `json:"incidents"`
	Restored  int `json:"restored"`
	// TimeToRestoreSeconds is the median time from the first critical instance to
	// every instance passing, over the restored incidents.
	TimeToRestoreSeconds *float64 `json:"timeToRestoreSeconds"`
}

// ComponentDORA is the DORA keys of a component in one environment.
type ComponentDORA struct {
	Component   string `json:"component"`
	Owner       string `json:"owner"`
	Environment string `json:"environment"`
	// Running reports whether instances ran at the last observation.
	Running bool `json:"running"`
	DORA
}

// TeamDORA is the DORA keys of a team: every environment of every component it owns
// (within the query's filters) pooled.
type TeamDORA struct {
	Team string `json:"team"`
	DORA
}

// DORAReport is the body of GET /api/v1/dora.
type DORAReport struct {
	// From and To bound the window.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// WindowSeconds is To - From in seconds.
	WindowSeconds float64 `json:"windowSeconds"`
	// ChangeFailureWindowSeconds is how long after a deployment a rollback or an
	// incident counts against it.
	ChangeFailureWindowSeconds float64 `json:"changeFailureWindowSeconds"`
	// Components holds one entry per component and environment, sorted.
	Components []ComponentDORA `json:"components"`
	// Teams holds one entry per owner of those components, sorted.
	Teams []TeamDORA `json:"teams"`
}

// Validate returns nil, or a [*ValidationError] listing every problem of h's names: its
// component and environment must be DNS labels. Stores call it before writing.
func (h *History) Validate() error {
	var p problems
	checkDNSLabel(&p, "component", h.Component)
	checkDNSLabel(&p, "environment", h.Environment)
	return p.err()
}
