package main

import (
	"strings"
	"testing"
	"time"
)

// TestCompassSettingsErrors: every bad Compass setting is named at once, exit code 2,
// and the API token appears nowhere in the output.
func TestCompassSettingsErrors(t *testing.T) {
	const token = "atlassian-token-do-not-print"
	p := start(t, false, "CATALOG_STORE=memory", "COMPASS_SITE_URL=ftp://example.atlassian.net", "COMPASS_API_TOKEN="+token,
		"COMPASS_SCORE_METRIC_ID=score", "CATALOG_COMPASS_TEAMS=team-a=team/1,broken", "CATALOG_COMPASS_COMPONENTS=Orders=ari:cloud:compass:c:component/1")
	if code := p.Wait(t, 20*time.Second); code != 2 {
		t.Errorf("exit code: got %d, want 2", code)
	}
	out := p.Output()
	for _, v := range []string{`COMPASS_SITE_URL="ftp://example.atlassian.net": must be an absolute http or https URL`,
		"COMPASS_USER", "COMPASS_CLOUD_ID", "COMPASS_CATALOG_URL", "COMPASS_SCORE_METRIC_ID",
		`item 2 "broken": must be name=id`, "CATALOG_COMPASS_COMPONENTS", "needs a durable store"} {
		if !strings.Contains(out, v) {
			t.Errorf("output does not name %s:\n%s", v, out)
		}
	}
	if strings.Contains(out, token) {
		t.Errorf("output shows the API token:\n%s", out)
	}
}

// TestCompassSettingWithoutSite: a COMPASS_* setting without COMPASS_SITE_URL would be
// ignored; it is a configuration error instead, the token redacted.
func TestCompassSettingWithoutSite(t *testing.T) {
	p := start(t, false, "CATALOG_STORE=memory", "COMPASS_USER=bot@example.com", "COMPASS_API_TOKEN=s3cr3t-token")
	if code := p.Wait(t, 20*time.Second); code != 2 {
		t.Errorf("exit code: got %d, want 2", code)
	}
	out := p.Output()
	for _, v := range []string{"COMPASS_USER", "COMPASS_API_TOKEN", "COMPASS_SITE_URL is not"} {
		if !strings.Contains(out, v) {
			t.Errorf("output does not name %s:\n%s", v, out)
		}
	}
	if strings.Contains(out, "s3cr3t-token") {
		t.Errorf("output shows the API token:\n%s", out)
	}
}
