package etcd

import (
	"testing"
	"time"
)

// A Backend passes an instancer's option to its instancers only and a shared option to
// both; NewRegistrar does not take an instancer's option at all (it would not compile).
func TestBackendOptionsGoWhereTheirKindSays(t *testing.T) {
	reg, inst := split([]BackendOption{WithPrefix("/x"), WithRevisionCheck(time.Second), WithCacheOptions()})
	if len(reg) != 1 || len(inst) != 3 {
		t.Fatalf("got %d registrar and %d instancer options, want 1 and 3", len(reg), len(inst))
	}
	o, err := newOptions(inst)
	if err != nil || o.prefix != "/x" || o.revisionCheck != time.Second {
		t.Errorf("instancer options: got prefix %q, revision check %v (%v), want /x and 1s", o.prefix, o.revisionCheck, err)
	}
	if o, _ := newOptions(reg); o.revisionCheck != 5*time.Second {
		t.Errorf("registrar options: got revision check %v, want the default 5s", o.revisionCheck)
	}
}
