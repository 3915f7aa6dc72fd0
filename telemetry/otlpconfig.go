package telemetry

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OTLPConfig is how one signal (traces, metrics or logs) is sent over OTLP, read from
// the OTEL_EXPORTER_OTLP_* variables: the per-signal variable
// (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) wins over the generic one
// (OTEL_EXPORTER_OTLP_ENDPOINT). Headers are secret: no error or log of Paved shows them.
type OTLPConfig struct {
	// Endpoint is the URL the signal is sent to. For the HTTP protocols it is the full
	// URL (the per-signal variable as is, or the generic one with /v1/traces,
	// /v1/metrics or /v1/logs appended); for grpc it is the collector's URL. Empty means
	// the OTLP default on localhost.
	Endpoint string
	// Protocol is ProtocolHTTPProtobuf (empty means this), ProtocolHTTPJSON or ProtocolGRPC.
	Protocol string
	// Headers are sent with every export request. Secret.
	Headers map[string]string
	// Certificate is a PEM file of CA certificates to trust for an https endpoint.
	Certificate string
	// ClientCertificate and ClientKey are PEM files for mutual TLS; both or neither.
	ClientCertificate, ClientKey string
	// Timeout bounds one export request; zero means DefaultOTLPTimeout.
	Timeout time.Duration
	// Compression is "gzip" or "" (none).
	Compression string
}

// String describes c with header values and the endpoint's password redacted, so that
// a configuration holding it (MetricsConfig, LogsConfig) can be printed or logged.
func (c OTLPConfig) String() string {
	keys := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		keys = append(keys, k+"=REDACTED")
	}
	slices.Sort(keys)
	return fmt.Sprintf("OTLPConfig{Endpoint:%q Protocol:%q Headers:%v Timeout:%v Compression:%q}",
		RedactURL(c.Endpoint), c.Protocol, keys, c.Timeout, c.Compression)
}

// GoString is String, so %#v does not print header values either.
func (c OTLPConfig) GoString() string { return c.String() }

// otlpEnv reads the OTLP settings of signal (TRACES, METRICS or LOGS; path is the HTTP
// path the generic endpoint gets, such as /v1/traces). A bad per-signal variable is
// reported with bad; a bad generic one only when reportGeneric, so that the generic
// variables, which every signal shares, are reported once (by the traces' reading).
// A bad value leaves its field at the default.
func otlpEnv(signal, path string, get func(string) string, bad func(variable, value, valid string), reportGeneric bool) OTLPConfig {
	firstOf := func(setting string) (name, value string) {
		specific := "OTEL_EXPORTER_OTLP_" + signal + "_" + setting
		if v := get(specific); v != "" {
			return specific, v
		}
		generic := "OTEL_EXPORTER_OTLP_" + setting
		return generic, get(generic)
	}
	report := func(variable, value, valid string) {
		if reportGeneric || strings.HasPrefix(variable, "OTEL_EXPORTER_OTLP_"+signal+"_") {
			bad(variable, value, valid)
		}
	}
	var c OTLPConfig

	endpointVar, endpoint := firstOf("ENDPOINT")
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		switch {
		case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "":
			report(endpointVar, RedactURL(endpoint), "use an absolute http or https URL such as http://localhost:4318")
			endpoint = ""
		}
	}

	protoVar, proto := firstOf("PROTOCOL")
	switch proto {
	case "", ProtocolHTTPProtobuf, ProtocolHTTPJSON, ProtocolGRPC:
		c.Protocol = proto
	default:
		report(protoVar, proto, "use http/protobuf, http/json or grpc")
	}

	if endpoint != "" {
		c.Endpoint = endpoint
		if endpointVar == "OTEL_EXPORTER_OTLP_ENDPOINT" && c.Protocol != ProtocolGRPC {
			c.Endpoint = strings.TrimSuffix(endpoint, "/") + path
		}
	}

	headersVar, headers := firstOf("HEADERS")
	if headers != "" {
		pairs, err := parsePairs(headers)
		if err != nil {
			// Never the value: headers carry API keys and bearer tokens.
			report(headersVar, "", err.Error()+"; use key1=value1,key2=value2 with percent-encoded values (value withheld: it may hold secrets)")
		} else {
			c.Headers = make(map[string]string, len(pairs))
			for i, p := range pairs {
				if !validHeaderName(p[0]) {
					report(headersVar, "", fmt.Sprintf("entry %d has a key that is not a valid HTTP header name (value withheld: it may hold secrets)", i+1))
					continue
				}
				c.Headers[p[0]] = p[1]
			}
		}
	}

	timeoutVar, timeout := firstOf("TIMEOUT")
	if timeout != "" {
		ms, err := strconv.ParseInt(timeout, 10, 64)
		if err != nil || ms <= 0 || ms > int64(time.Hour/time.Millisecond) {
			report(timeoutVar, timeout, "use a whole number of milliseconds from 1 to 3600000, such as 10000")
		} else {
			c.Timeout = time.Duration(ms) * time.Millisecond
		}
	}

	compVar, comp := firstOf("COMPRESSION")
	switch strings.ToLower(comp) {
	case "", "none":
	case "gzip":
		c.Compression = "gzip"
	default:
		report(compVar, comp, "use gzip or none")
	}

	caVar, ca := firstOf("CERTIFICATE")
	if ca != "" {
		if _, err := loadCertPool(ca); err != nil {
			report(caVar, ca, "use a readable PEM file of CA certificates ("+err.Error()+")")
		} else {
			c.Certificate = ca
		}
	}
	certVar, cert := firstOf("CLIENT_CERTIFICATE")
	keyVar, key := firstOf("CLIENT_KEY")
	// The missing one of a pair is named in the form of the one that is set.
	if specific := "OTEL_EXPORTER_OTLP_" + signal + "_"; strings.HasPrefix(keyVar, specific) && cert == "" {
		certVar = specific + "CLIENT_CERTIFICATE"
	} else if strings.HasPrefix(certVar, specific) && key == "" {
		keyVar = specific + "CLIENT_KEY"
	}
	switch {
	case cert == "" && key == "":
	case cert == "":
		report(certVar, "", "set it too: "+keyVar+" is set and needs its certificate")
	case key == "":
		report(keyVar, "", "set it too: "+certVar+" is set and needs its private key")
	default:
		if _, err := loadKeyPair(cert, key); err != nil {
			report(certVar, cert, "use readable PEM files for the client certificate and "+keyVar+" ("+err.Error()+")")
		} else {
			c.ClientCertificate, c.ClientKey = cert, key
		}
	}
	return c
}
