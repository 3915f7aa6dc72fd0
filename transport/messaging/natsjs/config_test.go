package natsjs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

type teamConfig struct {
	service.Config
	NATS natsjs.Config
}

// The settings load with service.Load beside the service's own; every problem is
// reported at once, naming the variable, with the URL's password redacted.
func TestConfigLoadsWithServiceLoad(t *testing.T) {
	cfg, err := service.Load[teamConfig](service.WithEnviron(map[string]string{
		"SERVICE_NAME": "notifier", "NATS_URL": "nats://app:s3cret@nats:4222",
		"NATS_CONSUMER_MAX_CONCURRENT": "4", "NATS_PUBLISH_ATTEMPT_TIMEOUT": "2s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.URL != "nats://app:s3cret@nats:4222" || cfg.NATS.Consumer.MaxConcurrent != 4 || cfg.NATS.Publish.AttemptTimeout.String() != "2s" {
		t.Errorf("loaded %+v", cfg.NATS)
	}

	_, err = service.Load[teamConfig](service.WithEnviron(map[string]string{
		"SERVICE_NAME": "notifier", "NATS_URL": "http://app:s3cret@nats:4222",
		"NATS_CONSUMER_MAX_DELIVER": "-2", "NATS_CREDS_FILE": "/nonexistent.creds",
		"LOG_LEVEL": "loud",
	}))
	var ce *service.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *service.ConfigError", err)
	}
	vars := map[string]bool{}
	for _, p := range ce.Problems {
		vars[p.Var] = true
	}
	for _, want := range []string{"NATS_URL", "NATS_CONSUMER_MAX_DELIVER", "NATS_CREDS_FILE", "LOG_LEVEL"} {
		if !vars[want] {
			t.Errorf("problems %v: want one for %s", ce.Problems, want)
		}
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := service.Load[teamConfig](service.WithEnviron(map[string]string{"SERVICE_NAME": "notifier"})); err == nil || !strings.Contains(err.Error(), "NATS_URL") {
		t.Errorf("without NATS_URL: got %v, want a problem naming NATS_URL", err)
	}
}
