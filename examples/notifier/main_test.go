package main

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestBuiltBinaryConfig: the built program refuses bad NATS settings with exit code 2,
// naming each, and a broker it cannot reach with exit code 1, naming the URL with its
// password redacted.
func TestBuiltBinaryConfig(t *testing.T) {
	bin := testenv.Build(t, ".")
	p := testenv.StartNoWait(t, bin, "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0",
		"NATS_URL=http://example.com", "NATS_CONSUMER_MAX_DELIVER=-1")
	if code := p.Wait(t, 30*time.Second); code != 2 {
		t.Errorf("bad settings: exit %d, want 2\n%s", code, p.Output())
	}
	for _, want := range []string{"NATS_URL", "NATS_CONSUMER_MAX_DELIVER"} {
		if !strings.Contains(p.Output(), want) {
			t.Errorf("bad settings: output does not name %s:\n%s", want, p.Output())
		}
	}
	p = testenv.StartNoWait(t, bin, "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0",
		"NATS_URL=nats://u:s3cret@127.0.0.1:1", "NATS_CONNECT_TIMEOUT=1s")
	if code := p.Wait(t, 30*time.Second); code != 1 {
		t.Errorf("broker unreachable: exit %d, want 1\n%s", code, p.Output())
	}
	if out := p.Output(); !strings.Contains(out, "127.0.0.1:1") || strings.Contains(out, "s3cret") {
		t.Errorf("broker unreachable: want the URL named, its password redacted:\n%s", out)
	}
}
