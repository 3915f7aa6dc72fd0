package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// teamsBody is the teams page.
type teamsBody struct {
	Teams  []catalog.Team
	Window time.Duration
}

func (h *Handler) teamsPage(w http.ResponseWriter, r *http.Request) {
	if h.noInsights(w, r) {
		return
	}
	window := h.ins.DORAWindow()
	teams, err := h.ins.Teams(r.Context(), window)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "teams.html", page{Title: "Teams", Nav: "teams", Body: teamsBody{Teams: teams, Window: window}})
}

// teamRule is a rule the team fails, with its title and fix.
type teamRule struct {
	catalog.TeamRule
	Title, Fix string
}

// teamBody is a team's page.
type teamBody struct {
	T       catalog.Team
	Window  time.Duration
	Failing []teamRule
	OnCall  []link
	Links   []link
}

func (h *Handler) teamPage(w http.ResponseWriter, r *http.Request) {
	if h.noInsights(w, r) {
		return
	}
	name := r.PathValue("team")
	if !catalog.IsDNSLabel(name) {
		h.errorPage(w, r, http.StatusNotFound, "No team is named so: a team name is a DNS label (1-63 lower-case letters, digits and '-').")
		return
	}
	window := h.ins.DORAWindow()
	t, err := h.ins.Team(r.Context(), name, window)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No component is owned by a team named "+name+".")
		return
	}
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	b := teamBody{T: t, Window: window}
	set := h.ins.RuleSet()
	for _, f := range t.Failing {
		tr := teamRule{TeamRule: f}
		if rl, ok := set.Rule(f.ID); ok {
			tr.Title, tr.Fix = rl.Title, rl.Fix
		}
		b.Failing = append(b.Failing, tr)
	}
	for _, u := range t.OnCall {
		b.OnCall = append(b.OnCall, link{Label: "On-call", Text: u, URL: httpURL(u)})
	}
	for _, u := range t.Links {
		b.Links = append(b.Links, link{Text: u, URL: httpURL(u)})
	}
	h.render(w, r, http.StatusOK, "team.html", page{Title: "Team " + t.Name, Nav: "teams", Body: b})
}
