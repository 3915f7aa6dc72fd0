package inventory

import (
	"context"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/service"
)

// Setup wires inventory into s: a store loaded from cfg.Seed by a start hook and closed
// by its stop, a readiness check on the store, and the HTTP routes. It is the setup
// function of service.Main; call it before s.Run.
func Setup(s *service.Service, cfg *Config) error {
	seed, err := ParseSeed(cfg.Seed)
	if err != nil {
		return service.NewProblem("INVENTORY_SEED", cfg.Seed, err.Error())
	}
	store := NewStore()
	s.Append(service.Hook{
		Name: "stock",
		OnStart: func(ctx context.Context) error {
			store.Load(seed)
			s.Logger().Info("stock loaded", "skus", len(seed))
			return nil
		},
		OnStop: func(ctx context.Context) error { store.Close(); return nil },
	})
	if err := s.Health().Register(health.Check{
		Name:  "stock-store",
		Kinds: health.Readiness,
		Check: store.Ping,
	}); err != nil {
		return err
	}
	Routes(MakeEndpoints(store), s.Logger(), s.TracerProvider(), s.Handle)
	return nil
}
