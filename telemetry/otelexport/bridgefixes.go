package otelexport

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/paved-road/paved/telemetry"
)

// bridgeFixes wraps the Prometheus bridge's producer to fix three things of its output.
//
// Empty labels: Prometheus takes a label with an empty value for no label (Paved's
// error_type is empty on success), while the bridge makes it an attribute with an empty
// value; such attributes are dropped here, so OTLP gets error.type only on failures, as
// the semantic conventions have it.
//
// Exemplar ids: the bridge
// (go.opentelemetry.io/contrib/bridges/prometheus v0.72.0, convertExemplar)
// puts the text of the trace_id and span_id labels into TraceID and SpanID as it is:
// 32 and 16 bytes of hex instead of the 16 and 8 bytes of the id. A collector refuses
// the whole export for them ("invalid TraceID length"), so no metric would arrive. Each
// id is decoded here; a label that is not a valid id is kept as a filtered attribute,
// as the Prometheus compatibility specification asks.
//
// Names: the request and messaging metrics Paved defines after the OpenTelemetry
// semantic conventions go out under the conventions' names, units and attribute keys
// (http_server_request_duration_seconds{http_route} is http.server.request.duration in
// s with http.route), so OTLP backends match them as they match the SDK's own; a
// collector's Prometheus exporter turns them back into the names /metrics serves. Every
// other metric keeps its Prometheus name. target_info is left out: it is the resource,
// which every export carries.
type bridgeFixes struct {
	next sdkmetric.Producer
	// names maps a Prometheus name to its semantic-convention name and unit.
	names map[string][2]string
	// keys maps a Prometheus label name to its semantic-convention attribute key.
	keys map[string]attribute.Key
}

func newBridgeFixes(next sdkmetric.Producer) bridgeFixes {
	keys := map[string]attribute.Key{}
	for _, k := range []attribute.Key{
		"http.request.method", "http.route", "http.response.status_code", "error.type", "url.scheme",
		"server.address", "server.port", "rpc.system.name", "rpc.method", "rpc.response.status_code",
		"messaging.system", "messaging.destination.name", "messaging.operation.name", "messaging.consumer.group.name",
	} {
		keys[telemetry.LabelName(k)] = k
	}
	return bridgeFixes{next: next, keys: keys, names: map[string][2]string{
		"http_server_request_duration_seconds":        {"http.server.request.duration", "s"},
		"http_client_request_duration_seconds":        {"http.client.request.duration", "s"},
		"rpc_server_call_duration_seconds":            {"rpc.server.call.duration", "s"},
		"rpc_client_call_duration_seconds":            {"rpc.client.call.duration", "s"},
		"messaging_client_operation_duration_seconds": {"messaging.client.operation.duration", "s"},
		"messaging_process_duration_seconds":          {"messaging.process.duration", "s"},
		"messaging_client_sent_messages_total":        {"messaging.client.sent.messages", "{message}"},
		"messaging_client_consumed_messages_total":    {"messaging.client.consumed.messages", "{message}"},
	}}
}

func (p bridgeFixes) Produce(ctx context.Context) ([]metricdata.ScopeMetrics, error) {
	sms, err := p.next.Produce(ctx)
	for i := range sms {
		kept := sms[i].Metrics[:0]
		for _, m := range sms[i].Metrics {
			if m.Name != "target_info" {
				kept = append(kept, m)
			}
		}
		sms[i].Metrics = kept
		for j := range sms[i].Metrics {
			m := &sms[i].Metrics[j]
			renamed, semconv := p.names[m.Name]
			if semconv {
				m.Name, m.Unit = renamed[0], renamed[1]
			}
			attrs := func(set *attribute.Set) {
				dropEmpty(set)
				if semconv {
					p.renameKeys(set)
				}
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[float64]:
				for k := range d.DataPoints {
					attrs(&d.DataPoints[k].Attributes)
					fixExemplars(d.DataPoints[k].Exemplars)
				}
			case metricdata.Gauge[float64]:
				for k := range d.DataPoints {
					attrs(&d.DataPoints[k].Attributes)
				}
			case metricdata.Histogram[float64]:
				for k := range d.DataPoints {
					attrs(&d.DataPoints[k].Attributes)
					fixExemplars(d.DataPoints[k].Exemplars)
				}
			case metricdata.ExponentialHistogram[float64]:
				for k := range d.DataPoints {
					attrs(&d.DataPoints[k].Attributes)
					fixExemplars(d.DataPoints[k].Exemplars)
				}
			case metricdata.Summary:
				for k := range d.DataPoints {
					attrs(&d.DataPoints[k].Attributes)
				}
			}
		}
	}
	return sms, err
}

// renameKeys gives the attributes of *set their semantic-convention keys.
func (p bridgeFixes) renameKeys(set *attribute.Set) {
	kvs := set.ToSlice()
	for i, kv := range kvs {
		if k, ok := p.keys[string(kv.Key)]; ok {
			kvs[i].Key = k
		}
	}
	*set = attribute.NewSet(kvs...)
}

// dropEmpty removes the attributes with an empty string value from *set.
func dropEmpty(set *attribute.Set) {
	for _, kv := range set.ToSlice() {
		if kv.Value.Type() == attribute.STRING && kv.Value.AsString() == "" {
			*set, _ = set.Filter(func(kv attribute.KeyValue) bool {
				return kv.Value.Type() != attribute.STRING || kv.Value.AsString() != ""
			})
			return
		}
	}
}

func fixExemplars(es []metricdata.Exemplar[float64]) {
	for i := range es {
		e := &es[i]
		e.TraceID = decodeID(e, e.TraceID, 16, "trace_id")
		e.SpanID = decodeID(e, e.SpanID, 8, "span_id")
	}
}

// decodeID returns the id whose hex text is b, or nil with the text kept as the
// attribute label of e when it is not a valid id of size bytes.
func decodeID(e *metricdata.Exemplar[float64], b []byte, size int, label string) []byte {
	if len(b) == 0 || len(b) == size {
		return b // none, or already an id
	}
	id := make([]byte, size)
	if n, err := hex.Decode(id, b); err == nil && n == size && len(b) == 2*size {
		for _, c := range id {
			if c != 0 {
				return id
			}
		}
	}
	e.FilteredAttributes = append(e.FilteredAttributes, attribute.String(label, string(b)))
	return nil
}
