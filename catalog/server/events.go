package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/paved-road/paved/catalog"
)

// Bounds of ?limit= on the deployment lists.
const (
	defaultDeploymentLimit = 100
	maxDeploymentLimit     = 1000
)

// deploymentQuery is what a deployment list selects: ?env=, ?since= (an RFC 3339 time,
// or a length of time back from now such as 7d) and ?limit=.
type deploymentQuery struct {
	env   string
	since time.Time
	limit int
}

// deploymentQuery reads a deployment list's query; owner is read when withOwner. It
// writes a 400 problem naming every bad parameter and returns false.
func (s *Server) deploymentQuery(w http.ResponseWriter, r *http.Request, withOwner bool) (deploymentQuery, string, bool) {
	q := r.URL.Query()
	var errs []catalog.FieldError
	owner := ""
	if withOwner {
		owner = dnsLabelParam(q, "owner", &errs)
	}
	dq := deploymentQuery{env: dnsLabelParam(q, "env", &errs), limit: defaultDeploymentLimit}
	if v := q.Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			dq.since = t
		} else if d, ok := parseSpan(v); ok {
			dq.since = s.now().Add(-d)
		} else {
			errs = append(errs, catalog.FieldError{Field: "since", Message: "must be an RFC 3339 time such as 2026-01-02T15:04:05Z, or a length of time back from now such as 7d or 12h, got " + strconv.Quote(catalog.Clip(v))})
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeploymentLimit {
			errs = append(errs, catalog.FieldError{Field: "limit", Message: "must be a number from 1 to " + strconv.Itoa(maxDeploymentLimit) + ", got " + strconv.Quote(catalog.Clip(v))})
		}
		dq.limit = n
	}
	if len(errs) > 0 {
		s.problem(w, r, http.StatusBadRequest, "invalid query parameters", errs)
		return dq, "", false
	}
	return dq, owner, true
}

// deployments returns the deployments of the histories of component ("" for all) that
// q selects and whose component is in keep (nil: any), newest first.
func (s *Server) deployments(ctx context.Context, component string, q deploymentQuery, keep map[string]bool) ([]catalog.Deployment, error) {
	hs, err := s.st.Histories(ctx, component)
	if err != nil {
		return nil, err
	}
	out := []catalog.Deployment{}
	for _, h := range hs {
		if (keep != nil && !keep[h.Component]) || (q.env != "" && h.Environment != q.env) {
			continue
		}
		for _, d := range h.Deployments {
			if !d.StartedAt.Before(q.since) {
				out = append(out, d)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b catalog.Deployment) int { return b.StartedAt.Compare(a.StartedAt) })
	if len(out) > q.limit {
		out = out[:q.limit]
	}
	return out, nil
}

func (s *Server) listComponentDeployments(w http.ResponseWriter, r *http.Request) {
	q, _, ok := s.deploymentQuery(w, r, false)
	if !ok {
		return
	}
	out, err := s.deployments(r.Context(), r.PathValue("name"), q, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	q, owner, ok := s.deploymentQuery(w, r, true)
	if !ok {
		return
	}
	var keep map[string]bool
	if owner != "" {
		comps, err := s.st.ListComponents(r.Context(), catalog.ComponentFilter{Owner: owner})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		keep = make(map[string]bool, len(comps))
		for _, c := range comps {
			keep[c.Name] = true
		}
	}
	out, err := s.deployments(r.Context(), "", q, keep)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// postEvent records a deployment event pushed by a pipeline (POST /api/v1/events): the
// caller must be allowed to change the component. A new deployment is 201; an update of
// one (same sequence number, a higher update sequence number) 200; a stale update (an
// update sequence number not above the stored one) 200 with the deployment as stored.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) {
	who, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var ev catalog.DeploymentEvent
	if err := s.decode(r, &ev); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := ev.Validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.st.GetComponent(r.Context(), ev.Component)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !who.mayChange(c.Owner) {
		s.forbid(w, r, who, c.Owner)
		return
	}
	d := ev.Deployment()
	created := false
	var stored catalog.Deployment
	_, err = s.st.UpdateHistory(r.Context(), d.Component, d.Environment, func(h *catalog.History) (bool, error) {
		created = false
		i := slices.IndexFunc(h.Deployments, func(x catalog.Deployment) bool { return x.ID == d.ID })
		if i >= 0 && h.Deployments[i].UpdateSequenceNumber >= d.UpdateSequenceNumber {
			stored = h.Deployments[i]
			return false, nil
		}
		nd := d
		nd.PreviousVersion = previousVersion(h, nd)
		if i >= 0 {
			h.Deployments[i] = nd
		} else {
			created = true
			h.Deployments = append(h.Deployments, nd)
			slices.SortStableFunc(h.Deployments, func(a, b catalog.Deployment) int { return a.StartedAt.Compare(b.StartedAt) })
			h.Trim()
		}
		stored = nd
		return true, nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/components/"+d.Component+"/deployments")
	}
	writeJSON(w, status, stored)
}

// previousVersion returns the version of the latest deployment of h started before d
// (other than d), or "".
func previousVersion(h *catalog.History, d catalog.Deployment) string {
	prev, at := "", time.Time{}
	for _, x := range h.Deployments {
		if x.ID != d.ID && x.StartedAt.Before(d.StartedAt) && !x.StartedAt.Before(at) && x.State.Deployed() {
			prev, at = x.Version, x.StartedAt
		}
	}
	return prev
}
