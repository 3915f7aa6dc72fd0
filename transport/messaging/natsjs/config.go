package natsjs

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/telemetry"
)

// Defaults of the zero fields of [Config] and [ConsumerSettings].
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultMaxConcurrent  = 16
	DefaultMaxDeliver     = 5
	DefaultAckWait        = 30 * time.Second
	DefaultBackoffInitial = time.Second
	DefaultBackoffMax     = time.Minute
	DefaultLagWarn        = 10000
)

// Config holds the settings of a service's connection to NATS, read from the
// environment. Embed it in a team's own config struct beside service.Config and load
// both with service.Load:
//
//	type Config struct {
//		service.Config
//		NATS natsjs.Config
//	}
//
// service.Load validates it with the rest (every problem at once, exit code 2). Zero
// fields take the defaults documented on each; URL is required. The URL may carry a user
// and password: it is shown redacted everywhere (logs, errors, /config).
type Config struct {
	// URL is the NATS server URL, or a comma-separated list of them.
	URL string `env:"NATS_URL" desc:"NATS server URL (nats://host:4222, tls://host:4222), or a comma-separated list; user and password in the URL are redacted wherever it is shown. Required."`
	// CredsFile is a NATS credentials file (a user JWT and its NKey seed).
	CredsFile string `env:"NATS_CREDS_FILE" desc:"Path of a NATS credentials file (.creds: user JWT and NKey seed); empty for none."`
	// TLSCAFile is a PEM file of the CAs the server's certificate is checked against.
	TLSCAFile string `env:"NATS_TLS_CA_FILE" desc:"PEM file of the CAs that sign the server's certificate; setting it requires TLS."`
	// TLSCertFile and TLSKeyFile are the client certificate for mutual TLS.
	TLSCertFile string `env:"NATS_TLS_CERT_FILE" desc:"PEM client certificate for mutual TLS; needs NATS_TLS_KEY_FILE."`
	// TLSKeyFile is the client certificate's private key.
	TLSKeyFile string `env:"NATS_TLS_KEY_FILE" desc:"PEM private key of NATS_TLS_CERT_FILE."`
	// ConnectTimeout bounds the first connection at the start. Default 5s.
	ConnectTimeout time.Duration `env:"NATS_CONNECT_TIMEOUT" envDefault:"5s" desc:"Time allowed to connect at the start; the service does not start without its broker."`

	// Publish is the resilience policy around every publish: its AttemptTimeout bounds
	// the wait for the stream's acknowledgement, its breaker stops publishing to a
	// broker that fails, its retries (safe: every message carries an id the stream
	// de-duplicates) are bounded by a retry budget.
	Publish resilience.PolicyConfig `envPrefix:"NATS_PUBLISH_"`

	// Consumer holds the defaults of every consumer of the service.
	Consumer ConsumerSettings `envPrefix:"NATS_CONSUMER_"`
}

// ConsumerSettings are the settings of a consumer that a [ConsumerConfig] does not set
// itself. Zero fields take the documented defaults.
type ConsumerSettings struct {
	// MaxConcurrent bounds the handlers running at once (the bulkhead). Default 16.
	MaxConcurrent int `env:"MAX_CONCURRENT" envDefault:"16" desc:"Most handlers of one consumer running at once (its bulkhead)."`
	// MaxDeliver is the number of attempts after which a failing message goes to the
	// dead-letter subject. Default 5.
	MaxDeliver int `env:"MAX_DELIVER" envDefault:"5" desc:"Attempts of a failing message, the first included, before it goes to the dead-letter subject."`
	// AckWait is how long the broker waits for an acknowledgement before it delivers the
	// message again. Default 30s.
	AckWait time.Duration `env:"ACK_WAIT" envDefault:"30s" desc:"Time the broker waits for a handler's acknowledgement before delivering the message again; keep it above the slowest handler."`
	// BackoffInitial is the delay before the second attempt; it doubles per attempt up
	// to BackoffMax. Default 1s.
	BackoffInitial time.Duration `env:"BACKOFF_INITIAL" envDefault:"1s" desc:"Delay before a failed message's second attempt; it doubles per attempt up to NATS_CONSUMER_BACKOFF_MAX."`
	// BackoffMax caps the redelivery delay. Default 1m.
	BackoffMax time.Duration `env:"BACKOFF_MAX" envDefault:"1m" desc:"Longest delay between two attempts of a failed message."`
	// LagWarn is the number of messages waiting for a consumer above which its lag
	// check warns on /readyz (it never fails readiness). Default 10000.
	LagWarn int `env:"LAG_WARN" envDefault:"10000" desc:"Messages waiting for a consumer above which the nats-lag readiness check warns (it never fails readiness)."`
}

// withDefaults returns s with every zero field set to its default.
func (s ConsumerSettings) withDefaults() ConsumerSettings {
	if s.MaxConcurrent == 0 {
		s.MaxConcurrent = DefaultMaxConcurrent
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = DefaultMaxDeliver
	}
	if s.AckWait == 0 {
		s.AckWait = DefaultAckWait
	}
	if s.BackoffInitial == 0 {
		s.BackoffInitial = DefaultBackoffInitial
	}
	if s.BackoffMax == 0 {
		s.BackoffMax = DefaultBackoffMax
	}
	if s.LagWarn == 0 {
		s.LagWarn = DefaultLagWarn
	}
	return s
}

// problem is one invalid setting, as service.Load reports it (it reads
// *telemetry.ConfigError: the variable, its value and what is valid).
func problem(key, value, valid string) error {
	return &telemetry.ConfigError{Variable: key, Value: telemetry.RedactURL(value), Valid: valid}
}

// Validate reports every invalid field of c at once, each naming its variable, its
// value (URL user information redacted) and what would be valid. service.Load calls it
// for a Config embedded in the configuration struct.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.URL) == "" {
		errs = append(errs, problem("NATS_URL", "", "is required: the NATS server URL, such as nats://127.0.0.1:4222"))
	}
	for _, u := range splitURLs(c.URL) {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			errs = append(errs, problem("NATS_URL", u, "want a URL such as nats://127.0.0.1:4222 or tls://nats.example:4222"))
			continue
		}
		switch p.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			errs = append(errs, problem("NATS_URL", u, "want the scheme nats, tls, ws or wss"))
		}
	}
	for _, f := range []struct{ key, path string }{
		{"NATS_CREDS_FILE", c.CredsFile}, {"NATS_TLS_CA_FILE", c.TLSCAFile},
		{"NATS_TLS_CERT_FILE", c.TLSCertFile}, {"NATS_TLS_KEY_FILE", c.TLSKeyFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, problem(f.key, f.path, "want a readable file: "+errors.Unwrap(err).Error()))
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, problem("NATS_TLS_CERT_FILE", c.TLSCertFile, "and NATS_TLS_KEY_FILE are set together or not at all"))
	}
	if c.ConnectTimeout < 0 {
		errs = append(errs, problem("NATS_CONNECT_TIMEOUT", c.ConnectTimeout.String(), "want a positive duration, such as 5s"))
	}
	if err := c.Publish.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("NATS_PUBLISH_*: %w", err))
	}
	errs = append(errs, c.Consumer.validate("NATS_CONSUMER_")...)
	return errors.Join(errs...)
}

func (s ConsumerSettings) validate(prefix string) []error {
	var errs []error
	if s.MaxConcurrent < 0 {
		errs = append(errs, problem(prefix+"MAX_CONCURRENT", fmt.Sprint(s.MaxConcurrent), "want a positive number of handlers, such as 16"))
	}
	if s.MaxDeliver < 0 {
		errs = append(errs, problem(prefix+"MAX_DELIVER", fmt.Sprint(s.MaxDeliver), "want a positive number of attempts, such as 5"))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"ACK_WAIT", s.AckWait}, {"BACKOFF_INITIAL", s.BackoffInitial}, {"BACKOFF_MAX", s.BackoffMax}} {
		if d.v < 0 {
			errs = append(errs, problem(prefix+d.key, d.v.String(), "want a positive duration, such as 1s"))
		}
	}
	if s.BackoffMax > 0 && s.BackoffInitial > s.BackoffMax {
		errs = append(errs, problem(prefix+"BACKOFF_INITIAL", s.BackoffInitial.String(), "want at most NATS_CONSUMER_BACKOFF_MAX ("+s.BackoffMax.String()+")"))
	}
	if s.LagWarn < 0 {
		errs = append(errs, problem(prefix+"LAG_WARN", fmt.Sprint(s.LagWarn), "want a positive number of messages, such as 10000"))
	}
	return errs
}

// splitURLs splits a comma-separated list of server URLs.
func splitURLs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
