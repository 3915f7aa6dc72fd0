package consul

import (
	"testing"
	"time"
)

// A Backend passes a registrar's option to its registrar only, an instancer's to its
// instancers only, and a shared option to both.
func TestBackendOptionsGoWhereTheirKindSays(t *testing.T) {
	reg, inst := split([]BackendOption{WithLogger(nil), WithDeregisterCriticalAfter(2 * time.Minute), WithWaitTime(time.Second)})
	if len(reg) != 2 || len(inst) != 2 {
		t.Fatalf("got %d registrar and %d instancer options, want 2 and 2", len(reg), len(inst))
	}
	r, _ := newOptions(reg)
	i, _ := newOptions(inst)
	if r.deregAfter != 2*time.Minute || r.wait != 5*time.Minute {
		t.Errorf("registrar: got deregister after %v, wait %v, want 2m and the default 5m", r.deregAfter, r.wait)
	}
	if i.wait != time.Second || i.deregAfter != DefaultDeregisterCriticalAfter {
		t.Errorf("instancer: got wait %v, deregister after %v, want 1s and the default", i.wait, i.deregAfter)
	}
}
