package ui

import (
	"net/http"
	"time"

	"github.com/paved-road/paved/catalog"
)

// scorecardsBody is the scorecards view.
type scorecardsBody struct {
	Rules   []catalog.RuleSummary
	Window  time.Duration
	Failing string // ?failing=: only this rule
	Errors  []catalog.FieldError
}

// scorecardsPage lists every rule with its title, weight and fix and the components
// that pass and fail it; ?failing=rule shows that rule alone.
func (h *Handler) scorecardsPage(w http.ResponseWriter, r *http.Request) {
	if h.noInsights(w, r) {
		return
	}
	b := scorecardsBody{Window: h.ins.DORAWindow(), Failing: r.URL.Query().Get("failing")}
	if fe := checkFailing(r.URL.Query()["failing"]); fe != nil {
		b.Errors = append(b.Errors, *fe)
		h.render(w, r, http.StatusBadRequest, "scorecards.html", page{Title: "Scorecards", Nav: "scorecards", Body: b})
		return
	}
	rules, err := h.ins.Rules(r.Context(), b.Window)
	if err != nil {
		h.storeFailed(w, r, err)
		return
	}
	for _, rl := range rules {
		if b.Failing == "" || rl.ID == b.Failing {
			b.Rules = append(b.Rules, rl)
		}
	}
	h.render(w, r, http.StatusOK, "scorecards.html", page{Title: "Scorecards", Nav: "scorecards", Body: b})
}

// checkFailing checks ?failing=: empty, or one rule id (1-128 printable ASCII
// characters without spaces, as the API's).
func checkFailing(vs []string) *catalog.FieldError {
	if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
		return nil
	}
	ok := len(vs) == 1 && len(vs[0]) <= 128
	for i := 0; ok && i < len(vs[0]); i++ {
		ok = vs[0][i] > ' ' && vs[0][i] <= '~'
	}
	if ok {
		return nil
	}
	return &catalog.FieldError{Field: "failing", Message: "must be one rule id such as runbook-link (1-128 printable ASCII characters without spaces)"}
}
