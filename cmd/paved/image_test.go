package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/cmd/paved/internal/dockerfile"
	"github.com/paved-road/paved/cmd/paved/internal/manifests"
	"github.com/paved-road/paved/cmd/paved/internal/scaffold"
	"github.com/paved-road/paved/service"
)

// defaultPorts are the ports of service.Config's default HTTP_ADDR and ADMIN_ADDR, as
// EXPOSE writes them.
func defaultPorts(t *testing.T) []string {
	t.Helper()
	var ports []string
	for _, f := range service.Fields(&service.Config{}) {
		if f.Key == "HTTP_ADDR" || f.Key == "ADMIN_ADDR" {
			ports = append(ports, strings.TrimPrefix(f.Default, ":")+"/tcp")
		}
	}
	return ports
}

// checkPolicy holds one Dockerfile to the image policy: two stages or more, a static
// build (CGO_ENABLED=0, -trimpath), an empty final base, the numeric non-root user,
// the given ports, an exec-form entrypoint, the version as SERVICE_VERSION and in the
// OCI labels.
func checkPolicy(t *testing.T, name string, f *dockerfile.File, ports []string) dockerfile.Image {
	t.Helper()
	img, err := f.Final(map[string]string{"VERSION": "9.9.9", "REVISION": "abc123"})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var build string
	for _, s := range f.Stages[:len(f.Stages)-1] {
		for _, in := range s.Instructions {
			if in.Keyword == "RUN" && strings.Contains(in.Args, "go build") {
				build = in.Args
			}
		}
	}
	uid := strconv.Itoa(manifests.UID)
	for _, c := range []struct {
		ok   bool
		what string
	}{
		{len(f.Stages) >= 2, fmt.Sprintf("two stages or more, got %d", len(f.Stages))},
		{strings.Contains(build, "CGO_ENABLED=0") && strings.Contains(build, "-trimpath"), "a build stage running CGO_ENABLED=0 go build -trimpath, got " + build},
		{img.Base == "scratch", "FROM scratch last, got " + img.Base},
		{img.User == uid+":"+uid, "USER " + uid + ":" + uid + ", got " + img.User},
		{slices.Equal(img.Expose, ports), fmt.Sprintf("EXPOSE %v, got %v", ports, img.Expose)},
		{len(img.Entrypoint) == 1 && img.Entrypoint[0] == "/"+name, fmt.Sprintf(`ENTRYPOINT ["/%s"], got %q`, name, img.Entrypoint)},
		{slices.Contains(img.Env, "SERVICE_VERSION=9.9.9"), fmt.Sprintf("ENV SERVICE_VERSION=${VERSION}, got %v", img.Env)},
		{img.Labels["org.opencontainers.image.version"] == "9.9.9" && img.Labels["org.opencontainers.image.revision"] == "abc123" &&
			img.Labels["org.opencontainers.image.title"] == name, fmt.Sprintf("OCI title, version and revision labels, got %v", img.Labels)},
	} {
		if !c.ok {
			t.Errorf("%s Dockerfile: want %s", name, c.what)
		}
	}
	return img
}

// TestDockerfilesFollowPolicy: every Dockerfile the repository ships, and the one
// paved new writes, builds a static binary run as user 65532 on the service's ports.
func TestDockerfilesFollowPolicy(t *testing.T) {
	root := repoRoot(t)
	for _, d := range []struct {
		path, name string
		ports      []string
	}{
		{"examples/hello/Dockerfile", "hello", defaultPorts(t)},
		{"examples/orders/Dockerfile", "orders", defaultPorts(t)},
		{"examples/inventory/Dockerfile", "inventory", []string{"8081/tcp", "9091/tcp"}}, // its main's defaults
		{"examples/notifier/Dockerfile", "notifier", []string{"8083/tcp", "9093/tcp"}},   // its main's defaults
		{"cmd/catalog/Dockerfile", "catalog", defaultPorts(t)},
	} {
		f, err := dockerfile.ParseFile(filepath.Join(root, d.path))
		if err != nil {
			t.Fatal(err)
		}
		img := checkPolicy(t, d.name, f, d.ports)
		if d.name == "catalog" && (!slices.Contains(img.Env, "CATALOG_DATA_DIR=/var/lib/catalog") || !slices.Equal(img.Volumes, []string{"/var/lib/catalog"})) {
			t.Errorf("catalog Dockerfile: want CATALOG_DATA_DIR=/var/lib/catalog on a VOLUME, got env %v, volumes %v", img.Env, img.Volumes)
		}
	}
	for _, tmpl := range scaffold.Templates(templates()) {
		files, err := scaffold.Render(templates(), tmpl, scaffold.Params{Module: "example.com/acme/shop", Owner: "team-a"})
		if err != nil {
			t.Fatal(err)
		}
		f, err := dockerfile.Parse(bytes.NewReader(files["Dockerfile"]))
		if err != nil {
			t.Fatalf("template %s: %v", tmpl, err)
		}
		checkPolicy(t, "shop", f, defaultPorts(t))
	}
}

// TestImageBuiltWithoutDaemon builds hello's image as CI does, without a container
// daemon: the static binary with go build as the Dockerfile's build stage does, then
// tools/ociimage (go-containerregistry) assembles an OCI layout from what the
// Dockerfile's final stage says. The test reads the layout back as the OCI image
// specification lays it out, with the standard library only, and checks the config
// against the Dockerfile and the policy, the binary in the layer (static, executable),
// and then runs that binary with the image's environment: /info reports the version
// stamped at build time.
func TestImageBuiltWithoutDaemon(t *testing.T) {
	tool := os.Getenv("PAVED_TEST_OCIIMAGE")
	if tool == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_OCIIMAGE is not set, and PAVED_TEST_REQUIRE_SERVERS=1: build it with tools/build.sh tools/ociimage ociimage .")
		}
		t.Skip("PAVED_TEST_OCIIMAGE is not set")
	}
	root := repoRoot(t)
	f, err := dockerfile.ParseFile(filepath.Join(root, "examples/hello/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	const version, revision = "1.4.2", "0123456789abcdef"
	want, err := f.Final(map[string]string{"VERSION": version, "REVISION": revision})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "hello")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// As the Dockerfile does: in the examples' module, outside the workspace.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, "./hello")
	build.Dir, build.Env = filepath.Join(root, "examples"), append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	certs := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(certs); err != nil {
		t.Skipf("no CA bundle at %s to copy into the image: %v", certs, err)
	}
	args := []string{"-out", filepath.Join(work, "oci"), "-tag", "hello:" + version, "-user", want.User,
		"-file", bin + "=" + want.Entrypoint[0] + ":0755", "-file", certs + "=" + certs}
	ep, _ := json.Marshal(want.Entrypoint)
	args = append(args, "-entrypoint", string(ep))
	for _, p := range want.Expose {
		args = append(args, "-expose", p)
	}
	for k, v := range want.Labels {
		args = append(args, "-label", k+"="+v)
	}
	for _, e := range want.Env {
		args = append(args, "-env", e)
	}
	if out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("ociimage: %v\n%s", err, out)
	}

	// Read the layout: index.json, the manifest, its config and its one layer.
	layout := filepath.Join(work, "oci")
	blob := func(digest string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(layout, "blobs", strings.Replace(digest, ":", "/", 1)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
	}
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(mustRead(t, filepath.Join(layout, "index.json")), &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v, %d manifests, want 1", err, len(index.Manifests))
	}
	if m := index.Manifests[0]; m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Annotations["org.opencontainers.image.ref.name"] != "hello:"+version {
		t.Errorf("index.json: got %+v, want an OCI manifest named hello:%s", m, version)
	}
	var manifest struct {
		Config descriptor
		Layers []descriptor
	}
	if err := json.Unmarshal(blob(index.Manifests[0].Digest), &manifest); err != nil || len(manifest.Layers) != 1 {
		t.Fatalf("manifest: %v, %d layers, want 1", err, len(manifest.Layers))
	}
	var cfg struct {
		OS, Architecture string
		Config           struct {
			User         string
			Entrypoint   []string
			Env          []string
			ExposedPorts map[string]struct{}
			Labels       map[string]string
		}
	}
	if err := json.Unmarshal(blob(manifest.Config.Digest), &cfg); err != nil {
		t.Fatal(err)
	}
	var exposed []string
	for p := range cfg.Config.ExposedPorts {
		exposed = append(exposed, p)
	}
	slices.Sort(exposed)
	c := cfg.Config
	if cfg.OS != "linux" || c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/hello"}) || !slices.Equal(exposed, defaultPorts(t)) ||
		!slices.Equal(c.Env, want.Env) || c.Labels["org.opencontainers.image.version"] != version || c.Labels["org.opencontainers.image.revision"] != revision ||
		len(c.Labels) != len(want.Labels) {
		t.Errorf("image config: got %+v on %s, want user 65532:65532, entrypoint /hello, ports %v, env %v, labels %v", c, cfg.OS, defaultPorts(t), want.Env, want.Labels)
	}

	// The layer: the binary, executable and static, and the CA bundle.
	zr, err := gzip.NewReader(bytes.NewReader(blob(manifest.Layers[0].Digest)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var inImage string
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[h.Name] = true
		if h.Name == "hello" {
			if h.Mode&0o111 == 0 {
				t.Errorf("/hello mode %o, want executable", h.Mode)
			}
			inImage = filepath.Join(work, "from-image")
			b, _ := io.ReadAll(tr)
			if err := os.WriteFile(inImage, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if inImage == "" || !seen["etc/ssl/certs/ca-certificates.crt"] {
		t.Fatalf("layer entries: got %v, want hello and etc/ssl/certs/ca-certificates.crt", seen)
	}
	ef, err := elf.Open(inImage)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := ef.ImportedLibraries()
	interp := slices.ContainsFunc(ef.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
	ef.Close()
	if len(libs) > 0 || interp {
		t.Errorf("/hello links %v (interpreter %v), want a static binary", libs, interp)
	}

	// Run the binary from the image with the image's environment.
	admin, _ := startService(t, inImage, c.Env...)
	resp, err := http.Get("http://" + admin + "/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct{ Name, Version string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.Name != "hello" || info.Version != version {
		t.Errorf("/info of the binary from the image: got %+v (%v), want hello %s", info, err, version)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
