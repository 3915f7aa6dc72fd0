package export_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/cmd/paved/internal/export"
	"github.com/paved-road/paved/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var info = service.Info{
	Name: "orders", Owner: "team-shop", Description: "Takes orders.", Tier: 2, Lifecycle: "production",
	Links:     service.Links{Repository: "https://example.com/orders", OnCall: "https://oncall.example.com/shop"},
	DependsOn: []string{"inventory"}, ProvidesAPIs: []string{"orders-v1"}, Labels: map[string]string{"domain": "shop"},
}

func TestComponentCarriesInfo(t *testing.T) {
	c, err := export.Component(info)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "orders" || c.Owner != "team-shop" || c.Tier != 2 || c.Lifecycle != catalog.LifecycleProduction ||
		c.Type != catalog.TypeService || c.Links.OnCall != info.Links.OnCall || c.DependsOn[0] != "inventory" || c.Labels["domain"] != "shop" {
		t.Errorf("got %+v, want the Info's fields with type service", c)
	}
	min, err := export.Component(service.Info{Name: "a", Owner: "t"})
	if err != nil || min.Tier != 3 || min.Lifecycle != catalog.LifecycleExperimental {
		t.Errorf("defaults: got %+v, %v, want tier 3, experimental", min, err)
	}
}

func TestComponentRejectsInvalidInfo(t *testing.T) {
	_, err := export.Component(service.Info{Name: "Bad Name", Lifecycle: "eternal"})
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *catalog.ValidationError", err)
	}
	for _, field := range []string{"name", "owner", "lifecycle"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("got %v, want it to name %s", err, field)
		}
	}
}

func TestFilesAndWrite(t *testing.T) {
	c, _ := export.Component(info)
	files, err := export.Files(c, export.FormatBoth)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := export.Write(dir, files)
	if err != nil || len(paths) != 2 {
		t.Fatalf("Write: got %v, %v, want two files", paths, err)
	}
	bs, _ := os.ReadFile(filepath.Join(dir, export.BackstageFile))
	cs, _ := os.ReadFile(filepath.Join(dir, export.CompassFile))
	for _, w := range []string{`name: "orders"`, `owner: "group:team-shop"`, `lifecycle: "production"`, `url: "https://oncall.example.com/shop"`} {
		if !strings.Contains(string(bs), w) {
			t.Errorf("catalog-info.yaml: got\n%s\nwant %s", bs, w)
		}
	}
	for _, w := range []string{`name: "orders"`, `"owner:team-shop"`, `lifecycle: "Active"`, `type: ON_CALL`} {
		if !strings.Contains(string(cs), w) {
			t.Errorf("compass.yml: got\n%s\nwant %s", cs, w)
		}
	}
	if _, err := export.Files(c, "yaml"); !errors.Is(err, export.ErrFormat) || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("Files(yaml): got %v, want ErrFormat naming the value", err)
	}
}

func TestFetchInfo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/info" {
			http.NotFound(w, r)
			return
		}
		// /info holds more than Info: instance, addresses...
		json.NewEncoder(w).Encode(map[string]any{"name": "orders", "owner": "team-shop", "tier": 2, "instanceId": "x", "addresses": map[string]string{"http": ":8080"}})
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := export.FetchInfo(ctx, srv.Client(), srv.URL)
	if err != nil || got.Name != "orders" || got.Owner != "team-shop" || got.Tier != 2 {
		t.Errorf("got %+v, %v, want orders/team-shop/2", got, err)
	}
	if _, err := export.FetchInfo(ctx, srv.Client(), srv.URL+"/nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("wrong path: got %v, want an error naming the 404", err)
	}
	srv.Close()
	if _, err := export.FetchInfo(ctx, srv.Client(), srv.URL); !errors.Is(err, export.ErrUnreachable) {
		t.Errorf("closed server: got %v, want ErrUnreachable", err)
	}
}
