package orders

import (
	"context"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/httptransport"
)

// Setup wires orders into s: an order store opened by a start hook and closed by its
// stop, a readiness check on it, the client of inventory built with s.Client (discovery,
// breaker, retries and timeouts from cfg.Inventory, tracing, metrics) and the HTTP
// routes. It is the setup function of service.Main; call it before s.Run.
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
	e := MakeEndpoints(store, NewReserveEndpoint(inventory), nil)
	Routes(e, s.Logger(), s.TracerProvider(), s.Handle)
	return nil
}
