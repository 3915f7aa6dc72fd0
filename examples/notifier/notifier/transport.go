package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/httptransport"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// Routes calls handle once per route of the HTTP API with its pattern and go-kit
// server: GET /notifications. Errors are application/problem+json.
func Routes(e Endpoints, logger *slog.Logger, tp trace.TracerProvider, handle func(pattern string, h http.Handler)) {
	handle("GET /notifications", httptransport.NewServer(e.ListNotifications,
		func(context.Context, *http.Request) (any, error) { return ListRequest{}, nil }, httptransport.EncodeJSON,
		httptransport.WithLogger(logger), httptransport.WithTracing(tp, "notifier.ListNotifications")))
}

// Handler returns the message handler of the consumer: it decodes an [OrderPlaced] and
// calls e.Notify. A body that is not an OrderPlaced, or an invalid one, can never
// succeed: the error is wrapped in resilience.Permanent, and the message goes to the
// dead-letter subject at once. Any other error gives the message back for another
// attempt.
func Handler(e Endpoints) natsjs.Handler {
	return func(ctx context.Context, m *natsjs.Message) error {
		var ev OrderPlaced
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			return resilience.Permanent(fmt.Errorf("notifier: %s is not an OrderPlaced: %w", m.Subject, err))
		}
		_, err := e.Notify(ctx, ev)
		var ve *ValidationError
		if errors.As(err, &ve) {
			return resilience.Permanent(err)
		}
		return err
	}
}
