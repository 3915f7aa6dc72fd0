package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/bbolt"
	"github.com/paved-road/paved/catalog/store/storetest"
)

// killChildEnv names the bbolt file of a catalog run by a re-executed test binary.
const killChildEnv = "PAVED_TEST_CATALOG_KILL_CHILD"

// killChild runs a catalog (the API over the bbolt store) on a loopback port when the
// test binary was re-executed for TestKill9CatalogKeepsAcknowledgedRegistrations. It
// prints "addr <host:port>" and serves until killed. It reports whether it ran.
func killChild() bool {
	path := os.Getenv(killChildEnv)
	if path == "" {
		return false
	}
	st, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("addr", l.Addr())
	_ = http.Serve(l, server.New(st, server.Options{AdminToken: adminToken, Development: true}))
	return true
}

// Kill -9 of the catalog during a stream of registrations over HTTP: after a restart,
// every registration answered 200 is there.
func TestKill9CatalogKeepsAcknowledgedRegistrations(t *testing.T) {
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
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatal("got no output from the catalog, want its address")
	}
	addr, ok := strings.CutPrefix(sc.Text(), "addr ")
	if !ok {
		t.Fatalf("got %q, want addr <host:port>", sc.Text())
	}
	base := "http://" + addr + "/api/v1/components/orders"
	client := &http.Client{Timeout: 5 * time.Second}
	put := func(url string, v any) (int, error) {
		body, _ := json.Marshal(v)
		req, _ := http.NewRequestWithContext(context.Background(), "PUT", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := put(base, storetest.Component("orders", "team-a")); err != nil || code != 201 {
		t.Fatalf("got %d, %v creating the component, want 201", code, err)
	}

	const want = 300
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				in := storetest.Instance("orders", fmt.Sprintf("g%d-%d", g, i))
				in.TTLSeconds = catalog.MaxTTLSeconds
				code, err := put(base+"/instances/"+in.ID, in)
				if err != nil {
					return // the catalog is gone
				}
				if code == 200 {
					mu.Lock()
					acked[in.ID] = true
					mu.Unlock()
				}
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-stream
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true
	close(stop)
	wg.Wait()
	if len(acked) < want {
		t.Fatalf("got %d acknowledged registrations in 60s, want %d", len(acked), want)
	}

	st, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatalf("restart after kill -9: got %v, want nil", err)
	}
	defer st.Close()
	set, err := st.Instances(t.Context(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, in := range set.Instances {
		have[in.ID] = true
	}
	for id := range acked {
		if !have[id] {
			t.Errorf("acknowledged registration %s is missing after kill -9", id)
		}
	}
	t.Logf("%d acknowledged, %d stored after kill -9", len(acked), len(have))
}
