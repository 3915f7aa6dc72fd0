package notifier

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/httptransport"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// Setup wires the service into s: the NATS client (its connection a readiness check,
// its consumers' lag a warning, a publish policy for the dead letters whose breaker
// shows in /info), run as a start and stop hook so that at the stop the consumer
// stops fetching when readiness fails, finishes or gives back its messages in flight,
// and the connection drains; then, once connected, the dead-letter stream and the
// durable consumer of orders.placed, its handler made idempotent on the message id;
// and the HTTP routes. It is the setup function of service.Main; call it before s.Run.
func Setup(s *service.Service, cfg *Config) error {
	policy, err := s.Policy("nats", cfg.NATS.Publish)
	if err != nil {
		return err
	}
	s.RecordDependency(httptransport.Dependency{Name: "nats", Protocol: "nats", Paved: true, Breaker: policy.HasBreaker(), Timeout: policy.HasTimeout()})
	mq, err := natsjs.New(cfg.NATS, natsjs.WithName(s.Info().Name), natsjs.WithLogger(s.Logger()),
		natsjs.WithRegisterer(s.Registerer()), natsjs.WithTracerProvider(s.TracerProvider()),
		natsjs.WithPropagator(s.Propagator()), natsjs.WithHealth(s.Health()), natsjs.WithPolicy(policy))
	if err != nil {
		return err
	}
	// The catalog learns the subject consumed (orders.placed, an API of orders) and
	// the consumer's facts for the compliance rules.
	if err := mq.Register(s); err != nil {
		return err
	}
	e := MakeEndpoints(&Log{}, s.Logger())
	// Delivery is at least once: a message redelivered after its handler succeeded
	// (the acknowledgement lost, or the service stopped in between) is skipped. The
	// memory store protects one instance; with several, use a shared store.
	handle := natsjs.Idempotency{
		Store: natsjs.NewMemoryStore(0, 0),
		OnDuplicate: func(ctx context.Context, m *natsjs.Message) {
			s.Logger().InfoContext(ctx, "notification already sent: message skipped", "msg_id", m.ID, "attempt", m.Attempt)
		},
	}.Wrap(Handler(e))
	name := s.Info().Name
	s.Append(service.Hook{Name: "nats", OnStart: mq.Start, OnStop: mq.Stop})
	s.Append(service.Hook{Name: "consumer", OnStart: func(ctx context.Context) error {
		js := mq.JetStream()
		if _, err := js.CreateOrUpdateStream(ctx, DeadLetterStream(name)); err != nil {
			return fmt.Errorf("declare the dead-letter stream: %w", err)
		}
		if _, err := js.Stream(ctx, Stream); err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("stream %s does not exist: orders declares it at its start; start orders first", Stream)
			}
			return fmt.Errorf("stream %s: %w", Stream, err)
		}
		_, err := mq.Consume(Consumer(name), handle)
		return err
	}})
	Routes(e, s.Logger(), s.TracerProvider(), s.Handle)
	return nil
}
