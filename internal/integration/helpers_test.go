package integration_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/paved-road/paved/service"
)

var compliantInfo = service.Info{
	Name: "facts", Version: "1.0.0", Owner: "team-a", Description: "Tests facts.", Tier: 2, Lifecycle: "production",
	Links: service.Links{Repository: "https://git.example.com/facts", Runbook: "https://docs.example.com/rb", OnCall: "https://oncall.example.com/a"},
}

// probe makes one request and discards the answer.
func probe(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
