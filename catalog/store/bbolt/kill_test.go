package bbolt_test

import (
	"bufio"
	"context"
	"fmt"
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

// killChildEnv names the store file a re-executed test binary writes to until killed.
const killChildEnv = "PAVED_TEST_BBOLT_KILL_CHILD"

// killChild runs the child side of TestKill9KeepsAcknowledgedWrites when the test binary
// was re-executed for it: it registers instances from four goroutines, printing
// "ack <id>" after each registration returns, until it is killed. It reports whether it
// ran.
func killChild() bool {
	path := os.Getenv(killChildEnv)
	if path == "" {
		return false
	}
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	ctx := context.Background()
	if _, err := s.PutComponent(ctx, storetest.Component("orders", "team-a")); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				in := storetest.Instance("orders", fmt.Sprintf("g%d-%d", g, i))
				in.TTLSeconds = catalog.MaxTTLSeconds
				if _, err := s.PutInstance(ctx, in); err != nil {
					fmt.Println("error", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s\n", in.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return true
}

func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
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
	acked := map[string]bool{}
	sc := bufio.NewScanner(out)
	const want = 300
	deadline := time.Now().Add(60 * time.Second)
	for len(acked) < want && sc.Scan() {
		line := sc.Text()
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child said %q, want ack lines", line)
		}
		acked[id] = true
		if time.Now().After(deadline) {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	// Acks already in the pipe were written before the kill: they count too.
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked[id] = true
		}
	}
	_ = cmd.Wait()
	if len(acked) < want {
		t.Fatalf("got %d acknowledged registrations before the deadline, want %d", len(acked), want)
	}

	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatalf("reopen after kill -9: got %v, want nil", err)
	}
	defer s.Close()
	set, err := s.Instances(t.Context(), "orders")
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	have := map[string]bool{}
	for _, in := range set.Instances {
		have[in.ID] = true
	}
	missing := 0
	for id := range acked {
		if !have[id] {
			missing++
			t.Errorf("acknowledged registration %s is missing after kill -9", id)
		}
	}
	t.Logf("%d acknowledged, %d stored, %d missing", len(acked), len(have), missing)
}
