package memory_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/catalog/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Synctest: true,
		New: func(t *testing.T, grace time.Duration) store.Store {
			return memory.New(memory.Options{Grace: grace})
		},
	})
}

func BenchmarkHeartbeat(b *testing.B) {
	s := memory.New(memory.Options{})
	defer s.Close()
	storetest.BenchmarkHeartbeat(b, s, 1000)
}
