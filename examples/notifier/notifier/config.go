package notifier

import (
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// Config is the service's configuration: the base settings every Paved service reads,
// plus its connection to NATS and its consumers' defaults (NATS_URL, required;
// NATS_CONSUMER_MAX_CONCURRENT, NATS_CONSUMER_MAX_DELIVER, NATS_CONSUMER_BACKOFF_*...;
// docs/messaging.md lists them). service.Load validates both: every problem at once.
type Config struct {
	service.Config
	// NATS is the connection to the broker and the consumers' settings.
	NATS natsjs.Config
}
