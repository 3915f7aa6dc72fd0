package testenv

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Collector is the OpenTelemetry Collector scripts/testenv.sh starts
// (tools/otelcol): an OTLP receiver whose file exporters write what arrives, as OTLP
// JSON lines, to traces.jsonl, metrics.jsonl and logs.jsonl in Dir.
type Collector struct {
	// Endpoint is the OTLP/HTTP base URL, such as http://127.0.0.1:23321.
	Endpoint string
	// GRPCEndpoint is the OTLP/gRPC URL, such as http://127.0.0.1:23322.
	GRPCEndpoint string
	// Dir holds the files the collector writes.
	Dir string
}

// RequireCollector returns the collector of the test environment, or skips the test
// (fails it in CI) when there is none.
func RequireCollector(t testing.TB) Collector {
	t.Helper()
	return Collector{
		Endpoint:     Require(t, "PAVED_TEST_OTELCOL_ENDPOINT", ""),
		GRPCEndpoint: Require(t, "PAVED_TEST_OTELCOL_GRPC_ENDPOINT", ""),
		Dir:          Require(t, "PAVED_TEST_OTELCOL_DIR", ""),
	}
}

// OTLPMetric is one metric as the collector received it.
type OTLPMetric struct {
	// Resource holds the resource attributes (service.name...).
	Resource map[string]string
	// Name is the metric's name; Kind is sum, gauge, histogram, exponentialHistogram
	// or summary; Unit is its unit.
	Name, Kind, Unit string
	// Points are its data points.
	Points []OTLPPoint
}

// OTLPPoint is one data point: its attributes and exemplars.
type OTLPPoint struct {
	Attributes map[string]string
	Exemplars  []OTLPExemplar
}

// OTLPExemplar is an exemplar's trace and span ids, in hex.
type OTLPExemplar struct{ TraceID, SpanID string }

// OTLPLog is one log record as the collector received it.
type OTLPLog struct {
	Resource   map[string]string
	Scope      string
	Body       string
	Severity   string
	TraceID    string
	SpanID     string
	Attributes map[string]string
}

// OTLPSpan is one span as the collector received it.
type OTLPSpan struct {
	Resource              map[string]string
	Name, TraceID, SpanID string
	Attributes            map[string]string
}

type otlpValue struct {
	StringValue *string  `json:"stringValue"`
	IntValue    *string  `json:"intValue"`
	BoolValue   *bool    `json:"boolValue"`
	DoubleValue *float64 `json:"doubleValue"`
}

func (v otlpValue) String() string {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.IntValue != nil:
		return *v.IntValue
	case v.BoolValue != nil:
		return strconv.FormatBool(*v.BoolValue)
	case v.DoubleValue != nil:
		return strconv.FormatFloat(*v.DoubleValue, 'g', -1, 64)
	}
	return ""
}

type otlpAttrs []struct {
	Key   string    `json:"key"`
	Value otlpValue `json:"value"`
}

func (a otlpAttrs) m() map[string]string {
	out := make(map[string]string, len(a))
	for _, kv := range a {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

type otlpResource struct {
	Attributes otlpAttrs `json:"attributes"`
}

type otlpPoints struct {
	DataPoints []struct {
		Attributes otlpAttrs `json:"attributes"`
		Exemplars  []struct {
			TraceID string `json:"traceId"`
			SpanID  string `json:"spanId"`
		} `json:"exemplars"`
	} `json:"dataPoints"`
}

// lines decodes each line of the file name in c.Dir into v and calls each; a missing
// file is no line yet.
func lines[T any](t testing.TB, file string, each func(T)) {
	t.Helper()
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			continue // a line being written
		}
		each(v)
	}
}

// Metrics returns every metric received so far.
func (c Collector) Metrics(t testing.TB) []OTLPMetric {
	t.Helper()
	var out []OTLPMetric
	lines(t, filepath.Join(c.Dir, "metrics.jsonl"), func(v struct {
		ResourceMetrics []struct {
			Resource     otlpResource `json:"resource"`
			ScopeMetrics []struct {
				Metrics []struct {
					Name                 string      `json:"name"`
					Unit                 string      `json:"unit"`
					Sum                  *otlpPoints `json:"sum"`
					Gauge                *otlpPoints `json:"gauge"`
					Histogram            *otlpPoints `json:"histogram"`
					ExponentialHistogram *otlpPoints `json:"exponentialHistogram"`
					Summary              *otlpPoints `json:"summary"`
				} `json:"metrics"`
			} `json:"scopeMetrics"`
		} `json:"resourceMetrics"`
	}) {
		for _, rm := range v.ResourceMetrics {
			res := rm.Resource.Attributes.m()
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					om := OTLPMetric{Resource: res, Name: m.Name, Unit: m.Unit}
					var pts *otlpPoints
					for kind, p := range map[string]*otlpPoints{"sum": m.Sum, "gauge": m.Gauge, "histogram": m.Histogram, "exponentialHistogram": m.ExponentialHistogram, "summary": m.Summary} {
						if p != nil {
							om.Kind, pts = kind, p
						}
					}
					if pts != nil {
						for _, dp := range pts.DataPoints {
							p := OTLPPoint{Attributes: dp.Attributes.m()}
							for _, e := range dp.Exemplars {
								p.Exemplars = append(p.Exemplars, OTLPExemplar{TraceID: e.TraceID, SpanID: e.SpanID})
							}
							om.Points = append(om.Points, p)
						}
					}
					out = append(out, om)
				}
			}
		}
	})
	return out
}

// Logs returns every log record received so far.
func (c Collector) Logs(t testing.TB) []OTLPLog {
	t.Helper()
	var out []OTLPLog
	lines(t, filepath.Join(c.Dir, "logs.jsonl"), func(v struct {
		ResourceLogs []struct {
			Resource  otlpResource `json:"resource"`
			ScopeLogs []struct {
				Scope struct {
					Name string `json:"name"`
				} `json:"scope"`
				LogRecords []struct {
					Body         otlpValue `json:"body"`
					SeverityText string    `json:"severityText"`
					TraceID      string    `json:"traceId"`
					SpanID       string    `json:"spanId"`
					Attributes   otlpAttrs `json:"attributes"`
				} `json:"logRecords"`
			} `json:"scopeLogs"`
		} `json:"resourceLogs"`
	}) {
		for _, rl := range v.ResourceLogs {
			res := rl.Resource.Attributes.m()
			for _, sl := range rl.ScopeLogs {
				for _, r := range sl.LogRecords {
					out = append(out, OTLPLog{Resource: res, Scope: sl.Scope.Name, Body: r.Body.String(), Severity: r.SeverityText,
						TraceID: r.TraceID, SpanID: r.SpanID, Attributes: r.Attributes.m()})
				}
			}
		}
	})
	return out
}

// Spans returns every span received so far.
func (c Collector) Spans(t testing.TB) []OTLPSpan {
	t.Helper()
	var out []OTLPSpan
	lines(t, filepath.Join(c.Dir, "traces.jsonl"), func(v struct {
		ResourceSpans []struct {
			Resource   otlpResource `json:"resource"`
			ScopeSpans []struct {
				Spans []struct {
					Name       string    `json:"name"`
					TraceID    string    `json:"traceId"`
					SpanID     string    `json:"spanId"`
					Attributes otlpAttrs `json:"attributes"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}) {
		for _, rs := range v.ResourceSpans {
			res := rs.Resource.Attributes.m()
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, OTLPSpan{Resource: res, Name: s.Name, TraceID: s.TraceID, SpanID: s.SpanID, Attributes: s.Attributes.m()})
				}
			}
		}
	})
	return out
}

// Eventually calls cond every 100 ms until it returns true or within passes, and
// reports whether it did.
func Eventually(within time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(within); ; time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
