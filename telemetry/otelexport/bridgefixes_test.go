package otelexport

import (
	"testing"

	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/httptransport"
)

// TestSemconvNamesCoverTheTransports: the request metrics the transports define are
// among those renamed to the semantic conventions' names for OTLP, so a renamed
// constant there cannot silently send the Prometheus name.
func TestSemconvNamesCoverTheTransports(t *testing.T) {
	f := newBridgeFixes(nil)
	for name, want := range map[string]string{
		httptransport.MetricServerDuration: "http.server.request.duration",
		httptransport.MetricClientDuration: "http.client.request.duration",
		grpctransport.MetricServerDuration: "rpc.server.call.duration",
		grpctransport.MetricClientDuration: "rpc.client.call.duration",
	} {
		if got := f.names[name]; got != [2]string{want, "s"} {
			t.Errorf("%s: got %v, want %s in s", name, got, want)
		}
	}
}
