package orders

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/httptransport"
	"github.com/paved-road/paved/transport/messaging/natsjs"
)

// Setup wires orders into s: an order store opened by a start hook and closed by its
// stop, a readiness check on it, the client of inventory built with s.Client (discovery,
// breaker, retries and timeouts from cfg.Inventory, tracing, metrics), the NATS client
// its orders.placed events go through when NATS_URL is set (with the ORDERS stream
// declared at the start) and the HTTP routes. It is the setup function of
// service.Main; call it before s.Run.
func Setup(s *service.Service, cfg *Config) error {
	store := NewStore()
	s.Append(service.Hook{
		Name:    "order-store",
		OnStart: func(ctx context.Context) error { store.Open(); return nil },
		OnStop:  func(ctx context.Context) error { store.Close(); return nil },
	})
	if err := s.Health().Register(health.Check{
		Name:  "order-store",
		Kinds: health.Readiness,
		Check: store.Ping,
	}); err != nil {
		return err
	}
	inventory, err := s.Client("inventory", cfg.Inventory, httptransport.WithAPI(InventoryAPI))
	if err != nil {
		return err
	}
	var publish endpoint.Endpoint
	if cfg.Events.Enabled() {
		mq, err := events(s, cfg.Events)
		if err != nil {
			return err
		}
		publish = NewPublishEndpoint(mq)
	}
	e := MakeEndpoints(store, NewReserveEndpoint(inventory), publish, nil)
	Routes(e, s.Logger(), s.TracerProvider(), s.Handle)
	return nil
}

// events builds the NATS client with the service's logger, metrics, tracing, health
// and a publish policy whose breaker shows in /info, runs it as a start and stop hook,
// and declares the ORDERS stream once connected.
func events(s *service.Service, cfg EventsConfig) (*natsjs.Client, error) {
	policy, err := s.Policy("nats", cfg.Publish)
	if err != nil {
		return nil, err
	}
	s.RecordDependency(httptransport.Dependency{Name: "nats", Protocol: "nats", Paved: true, Breaker: policy.HasBreaker(), Timeout: policy.HasTimeout()})
	mq, err := natsjs.New(cfg.Config, natsjs.WithName(s.Info().Name), natsjs.WithLogger(s.Logger()),
		natsjs.WithRegisterer(s.Registerer()), natsjs.WithTracerProvider(s.TracerProvider()),
		natsjs.WithPropagator(s.Propagator()), natsjs.WithHealth(s.Health()), natsjs.WithPolicy(policy))
	if err != nil {
		return nil, err
	}
	// The catalog learns the event API orders.placed (an AsyncAPI document of the
	// subject and its schema), which notifier's consumer uses.
	if err := mq.Publishes(OrderPlacedEvent()); err != nil {
		return nil, err
	}
	if err := mq.Register(s); err != nil {
		return nil, err
	}
	s.Append(service.Hook{Name: "nats", OnStart: mq.Start, OnStop: mq.Stop})
	s.Append(service.Hook{Name: "orders-stream", OnStart: func(ctx context.Context) error {
		_, err := mq.JetStream().CreateOrUpdateStream(ctx, StreamConfig())
		return err
	}})
	return mq, nil
}
