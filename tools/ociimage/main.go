// Command ociimage assembles a container image without a container daemon, as Paved's
// CI builds one: an empty base (as FROM scratch), one layer holding the given files
// and directories, and the configuration given by flags (user, entrypoint, exposed
// ports, environment, labels, volumes), written as an OCI image layout. The tests pass
// it what a Dockerfile's final stage says, so the image CI builds and the one `docker
// build` makes agree; it lives in a module of its own so go-containerregistry never
// reaches Paved's go.mod.
//
//	ociimage -out DIR -tag NAME:VERSION -file SRC=/DEST[:MODE] -dir /DEST:UID ... \
//	  -user 65532:65532 -entrypoint '["/hello"]' -expose 8080/tcp -label K=V -env K=V -volume /data
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var files, dirs, expose, labels, env, volumes list
	out := flag.String("out", "", "directory of the OCI image layout to write (required)")
	tag := flag.String("tag", "", "the image's reference name in the layout, such as hello:0.1.0")
	user := flag.String("user", "", "user (and group) the entrypoint runs as")
	entry := flag.String("entrypoint", "", "entrypoint, a JSON list")
	flag.Var(&files, "file", "SRC=/DEST[:MODE] copies a file into the layer (MODE octal, default 0644); repeatable")
	flag.Var(&dirs, "dir", "/DEST:UID creates a directory owned by UID (and its group); repeatable")
	flag.Var(&expose, "expose", "an exposed port, such as 8080/tcp; repeatable")
	flag.Var(&labels, "label", "KEY=VALUE; repeatable")
	flag.Var(&env, "env", "KEY=VALUE; repeatable")
	flag.Var(&volumes, "volume", "a volume path; repeatable")
	flag.Parse()
	if err := run(*out, *tag, *user, *entry, files, dirs, expose, labels, env, volumes); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(out, tag, user, entry string, files, dirs, expose, labels, env, volumes []string) error {
	if out == "" {
		return errors.New("-out is required")
	}
	layerTar, err := layerTar(files, dirs)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.User = user
	if entry != "" {
		if err := json.Unmarshal([]byte(entry), &cf.Config.Entrypoint); err != nil {
			return fmt.Errorf("-entrypoint %q: want a JSON list: %w", entry, err)
		}
	}
	cf.Config.Env = env
	cf.Config.Labels = map[string]string{}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("-label %q: want KEY=VALUE", l)
		}
		cf.Config.Labels[k] = v
	}
	cf.Config.ExposedPorts = map[string]struct{}{}
	for _, p := range expose {
		cf.Config.ExposedPorts[p] = struct{}{}
	}
	if len(volumes) > 0 {
		cf.Config.Volumes = map[string]struct{}{}
		for _, v := range volumes {
			cf.Config.Volumes[v] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	var opts []layout.Option
	if tag != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Println(d)
	return nil
}

// layerTar returns the layer: the parents of every entry, then the directories and the
// files, in path order, with fixed times so the layer is reproducible.
func layerTar(files, dirs []string) ([]byte, error) {
	type entry struct {
		hdr  tar.Header
		body []byte
	}
	entries := map[string]entry{}
	parents := func(p string) {
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755}}
			}
		}
	}
	for _, d := range dirs {
		dest, uid, ok := strings.Cut(d, ":")
		id, err := strconv.Atoi(uid)
		if !ok || err != nil || !path.IsAbs(dest) {
			return nil, fmt.Errorf("-dir %q: want /DEST:UID", d)
		}
		parents(dest)
		entries[dest] = entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dest, "/") + "/", Mode: 0o755, Uid: id, Gid: id}}
	}
	for _, f := range files {
		src, dest, ok := strings.Cut(f, "=")
		mode := int64(0o644)
		if d, m, ok := strings.Cut(dest, ":"); ok {
			n, err := strconv.ParseInt(m, 8, 32)
			if err != nil {
				return nil, fmt.Errorf("-file %q: MODE %q is not octal", f, m)
			}
			dest, mode = d, n
		}
		if !ok || !path.IsAbs(dest) {
			return nil, fmt.Errorf("-file %q: want SRC=/DEST[:MODE]", f)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		parents(dest)
		entries[dest] = entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dest, "/"), Mode: mode, Size: int64(len(b))}, body: b}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := entries[n]
		e.hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
