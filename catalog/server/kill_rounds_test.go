package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/bbolt"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// kills is how many times TestF6RepeatedKill9 kills the catalog. CI runs the default;
// the nightly size is -kills 1000 (bench/README.md).
var kills = flag.Int("kills", 100, "kill -9 rounds of TestF6RepeatedKill9")

// killWriters is how many clients write at once during a round.
const killWriters = 8

// catalogChild is a catalog process (killChild) serving the API over a bbolt file.
type catalogChild struct {
	cmd  *exec.Cmd
	base string // http://host:port
}

// startCatalogChild re-executes the test binary as a catalog over path and waits for
// its address. It fails the test when the child cannot open the store.
func startCatalogChild(t *testing.T, path string) *catalogChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("got no output from the catalog, want its address")
	}
	addr, ok := strings.CutPrefix(sc.Text(), "addr ")
	if !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("restart: got %q from the catalog, want addr <host:port> (the store did not open?)", sc.Text())
	}
	return &catalogChild{cmd: cmd, base: "http://" + addr}
}

// killLedger is what the writers know was acknowledged: an id is present (its PUT was
// answered 200) or deleted (its DELETE was answered 204); an id with a call in flight
// at the kill is in neither, since either outcome is correct for it, until the check
// after the restart has seen which it was.
//
// The present ids form a queue, oldest first, that the writers deregister from, so the
// file stays near killPool instances however many rounds run (the nightly 1,000 rounds
// of an earlier version grew it to 340,000 instances, and every restart loaded them
// all): an id lives through many kills before it is deregistered, and is checked after
// each of them.
type killLedger struct {
	mu       sync.Mutex
	present  map[string]bool
	queue    []string // present ids, oldest first (an id may be stale: check present)
	deleted  map[string]bool
	inflight map[string]bool
}

// killPool is the number of present instances above which the writers deregister one
// in two calls rather than one in five.
const killPool = 2000

// add records an acknowledged registration.
func (l *killLedger) add(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.inflight, id)
	l.present[id] = true
	l.queue = append(l.queue, id)
}

// take returns the oldest present id to deregister, now in flight, when call i of a
// writer should deregister one.
func (l *killLedger) take(i int) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !(i%5 == 4 || len(l.present) > killPool && i%2 == 1) {
		return "", false
	}
	for len(l.queue) > 0 {
		id := l.queue[0]
		l.queue = l.queue[1:]
		if l.present[id] {
			delete(l.present, id)
			l.inflight[id] = true
			return id, true
		}
	}
	return "", false
}

// TestF6RepeatedKill9 is// TestF6RepeatedKill9 is reliability test F6 of issue #15: the catalog (the API over a
// bbolt file, as cmd/catalog runs it) is killed with SIGKILL at a random moment of a
// stream of registrations and deregistrations, -kills times in a row on the same file.
// Every restart must open the store, and after each one every acknowledged
// registration is there and every acknowledged deregistration stays gone.
func TestF6RepeatedKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	path := filepath.Join(t.TempDir(), "catalog.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 6))
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: killWriters}}
	defer client.CloseIdleConnections()
	call := func(method, url string, v any) (int, error) {
		var body []byte
		if v != nil {
			body, _ = json.Marshal(v)
		}
		req, _ := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	led := &killLedger{present: map[string]bool{}, deleted: map[string]bool{}, inflight: map[string]bool{}}
	var maxStored int
	var acked int
	var writing time.Duration
	for round := range *kills {
		c := startCatalogChild(t, path)
		if round == 0 {
			if code, err := call("PUT", c.base+"/api/v1/components/orders", storetest.Component("orders", "team-a")); err != nil || code != 201 {
				_ = c.cmd.Process.Kill()
				_ = c.cmd.Wait()
				t.Fatalf("got %d, %v creating the component, want 201", code, err)
			}
		}
		base := c.base + "/api/v1/components/orders/instances/"
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var n sync.Mutex
		count := 0
		start := time.Now()
		for w := range killWriters {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if id, ok := led.take(i); ok {
						code, err := call("DELETE", base+id, nil)
						if err != nil {
							return // the catalog is gone
						}
						if code != 204 {
							t.Errorf("round %d: DELETE %s: got %d, want 204", round, id, code)
							return
						}
						led.mu.Lock()
						delete(led.inflight, id)
						led.deleted[id] = true
						led.mu.Unlock()
					} else {
						in := storetest.Instance("orders", fmt.Sprintf("r%d-w%d-%d", round, w, i))
						in.TTLSeconds = catalog.MaxTTLSeconds
						led.mu.Lock()
						led.inflight[in.ID] = true
						led.mu.Unlock()
						code, err := call("PUT", base+in.ID, in)
						if err != nil {
							return
						}
						if code != 200 {
							t.Errorf("round %d: PUT %s: got %d, want 200", round, in.ID, code)
							return
						}
						led.add(in.ID)
					}
					n.Lock()
					count++
					n.Unlock()
				}
			})
		}
		// A random moment: between 20 and 400 ms into the stream.
		time.Sleep(20*time.Millisecond + time.Duration(rng.Int64N(int64(380*time.Millisecond))))
		if err := c.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = c.cmd.Wait()
		writing += time.Since(start)
		close(stop)
		wg.Wait()
		client.CloseIdleConnections()
		if t.Failed() {
			return
		}
		acked += count

		st, err := bbolt.Open(path, bbolt.Options{})
		if err != nil {
			t.Fatalf("round %d: restart after kill -9: got %v, want the store open", round, err)
		}
		set, err := st.Instances(t.Context(), "orders")
		_ = st.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		have := make(map[string]bool, len(set.Instances))
		for _, in := range set.Instances {
			have[in.ID] = true
		}
		led.mu.Lock()
		for id := range led.present {
			if !have[id] {
				t.Errorf("round %d: acknowledged registration %s is missing after kill -9", round, id)
			}
		}
		for id := range led.deleted {
			if have[id] {
				t.Errorf("round %d: acknowledged deregistration %s is back after kill -9", round, id)
			}
		}
		// A call in flight at the kill went either way: the store says which, and
		// from now on that is what must hold.
		for id := range led.inflight {
			if have[id] {
				led.present[id] = true
				led.queue = append(led.queue, id)
			} else {
				led.deleted[id] = true
			}
		}
		clear(led.inflight)
		maxStored = max(maxStored, len(have))
		led.mu.Unlock()
		if t.Failed() {
			return
		}
	}
	t.Logf("%d kill -9 rounds: %d acknowledged writes (%.0f a second while writing), at most %d instances in the file, every restart opened the store, none lost",
		*kills, acked, float64(acked)/writing.Seconds(), maxStored)
}
