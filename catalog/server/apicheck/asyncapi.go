package apicheck

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/paved-road/paved/catalog"
)

// asyncDoc is the part of an AsyncAPI 3 document the check and the outline read.
type asyncDoc struct {
	AsyncAPI string `json:"asyncapi"`
	Info     struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Channels map[string]struct {
		Address  *string                    `json:"address"`
		Summary  string                     `json:"summary"`
		Messages map[string]json.RawMessage `json:"messages"`
	} `json:"channels"`
	Operations map[string]struct {
		Action  string `json:"action"`
		Summary string `json:"summary"`
		Channel struct {
			Ref string `json:"$ref"`
		} `json:"channel"`
	} `json:"operations"`
}

func loadAsyncAPI(def []byte) (asyncDoc, error) {
	var d asyncDoc
	if err := json.Unmarshal(def, &d); err != nil {
		return d, fmt.Errorf("not an AsyncAPI document in JSON: %w", err)
	}
	if !strings.HasPrefix(d.AsyncAPI, "3.") {
		return d, fmt.Errorf("asyncapi must be 3.x, got %q", catalog.Clip(d.AsyncAPI))
	}
	return d, nil
}

// subject is a channel's address, or its id when it has none.
func subject(id string, address *string) string {
	if address != nil && *address != "" {
		return *address
	}
	return id
}

func checkAsyncAPI(prev, next []byte) ([]catalog.BreakingChange, error) {
	d1, err1 := loadAsyncAPI(prev)
	d2, err2 := loadAsyncAPI(next)
	if err := which(err1, err2); err != nil {
		return nil, fmt.Errorf("apicheck: AsyncAPI: %w", err)
	}
	next2 := map[string]map[string]bool{} // subject -> message names
	for id, c := range d2.Channels {
		ms := map[string]bool{}
		for m := range c.Messages {
			ms[m] = true
		}
		next2[subject(id, c.Address)] = ms
	}
	var out []catalog.BreakingChange
	for _, id := range sortedKeys(d1.Channels) {
		c := d1.Channels[id]
		subj := subject(id, c.Address)
		ms, ok := next2[subj]
		if !ok {
			out = append(out, catalog.BreakingChange{ID: "asyncapi-channel-removed", Operation: subj, Message: fmt.Sprintf("subject %s was removed", subj)})
			continue
		}
		for _, m := range sortedKeys(c.Messages) {
			if !ms[m] {
				out = append(out, catalog.BreakingChange{ID: "asyncapi-message-removed", Operation: subj, Message: fmt.Sprintf("message %s of subject %s was removed", m, subj)})
			}
		}
	}
	return out, nil
}
