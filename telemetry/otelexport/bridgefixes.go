package otelexport

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// bridgeFixes wraps the Prometheus bridge's producer to fix two things of its output.
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
type bridgeFixes struct{ next sdkmetric.Producer }

func (p bridgeFixes) Produce(ctx context.Context) ([]metricdata.ScopeMetrics, error) {
	sms, err := p.next.Produce(ctx)
	for i := range sms {
		for j := range sms[i].Metrics {
			switch d := sms[i].Metrics[j].Data.(type) {
			case metricdata.Sum[float64]:
				for k := range d.DataPoints {
					dropEmpty(&d.DataPoints[k].Attributes)
					fixExemplars(d.DataPoints[k].Exemplars)
				}
			case metricdata.Gauge[float64]:
				for k := range d.DataPoints {
					dropEmpty(&d.DataPoints[k].Attributes)
				}
			case metricdata.Histogram[float64]:
				for k := range d.DataPoints {
					dropEmpty(&d.DataPoints[k].Attributes)
					fixExemplars(d.DataPoints[k].Exemplars)
				}
			case metricdata.ExponentialHistogram[float64]:
				for k := range d.DataPoints {
					dropEmpty(&d.DataPoints[k].Attributes)
					fixExemplars(d.DataPoints[k].Exemplars)
				}
			case metricdata.Summary:
				for k := range d.DataPoints {
					dropEmpty(&d.DataPoints[k].Attributes)
				}
			}
		}
	}
	return sms, err
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
