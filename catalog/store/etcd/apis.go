package etcd

import (
	"bytes"
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// API versions live under <prefix>a/v/<name>/<digest> (the APIVersion JSON) and their
// definitions under <prefix>a/d/<name>/<digest>/<chunk>, without a lease. A definition
// may be larger than an etcd request may be (1.5 MiB by default, the definition up to
// catalog.MaxAPIDefinitionBytes), so it is written in chunks of defChunk bytes first,
// each in its own request, and the version last, only when it does not exist yet: a
// version that is listed has all its chunks. A catalog stopped between the chunks and
// the version leaves chunks that no version lists; they hold the same bytes the next
// attempt writes over them, as a chunk's content is a function of the digest.

// defChunk is the size of one definition chunk.
const defChunk = 512 << 10

func (s *Store) apiVersionPrefix(name string) string { return s.prefix + "a/v/" + name + "/" }
func (s *Store) apiDefPrefix(name, digest string) string {
	return s.prefix + "a/d/" + name + "/" + digest + "/"
}

// PutAPIVersion implements [store.Store].
func (s *Store) PutAPIVersion(ctx context.Context, v catalog.APIVersion, definition []byte) (bool, error) {
	if err := core.CheckAPIVersion(v, definition); err != nil {
		return false, err
	}
	if err := s.check(ctx); err != nil {
		return false, err
	}
	raw, err := core.EncodeAPIVersion(v)
	if err != nil {
		return false, err
	}
	vk := s.apiVersionPrefix(v.Name) + v.Digest
	resp, err := s.cli.Get(ctx, vk, clientv3.WithCountOnly())
	if err != nil {
		return false, fmt.Errorf("store/etcd: put API version: %w", err)
	}
	if resp.Count > 0 {
		return false, nil
	}
	dp := s.apiDefPrefix(v.Name, v.Digest)
	for i := 0; i*defChunk < len(definition); i++ {
		chunk := definition[i*defChunk : min(len(definition), (i+1)*defChunk)]
		if _, err := s.cli.Put(ctx, fmt.Sprintf("%s%04d", dp, i), string(chunk)); err != nil {
			return false, fmt.Errorf("store/etcd: put API definition %s@%s: %w", v.Name, v.Digest, err)
		}
	}
	txn, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(vk), "=", 0)).
		Then(clientv3.OpPut(vk, string(raw))).
		Commit()
	if err != nil {
		return false, fmt.Errorf("store/etcd: put API version: %w", err)
	}
	return txn.Succeeded, nil
}

// APIVersions implements [store.Store].
func (s *Store) APIVersions(ctx context.Context, name string) ([]catalog.APIVersion, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	prefix := s.prefix + "a/v/"
	if name != "" {
		prefix = s.apiVersionPrefix(name)
	}
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("store/etcd: API versions: %w", err)
	}
	out := []catalog.APIVersion{}
	for _, kv := range resp.Kvs {
		v, err := core.DecodeAPIVersion(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("store/etcd: %s: %w", kv.Key, err)
		}
		out = append(out, v)
	}
	if name != "" && len(out) == 0 {
		return nil, core.APINotFound(name, "")
	}
	core.SortAPIVersions(out)
	return out, nil
}

// APIDefinition implements [store.Store].
func (s *Store) APIDefinition(ctx context.Context, name, digest string) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(s.apiVersionPrefix(name)+digest),
		clientv3.OpGet(s.apiDefPrefix(name, digest), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("store/etcd: API definition: %w", err)
	}
	vkv := resp.Responses[0].GetResponseRange().Kvs
	if len(vkv) == 0 {
		return nil, core.APINotFound(name, digest)
	}
	v, err := core.DecodeAPIVersion(vkv[0].Value)
	if err != nil {
		return nil, fmt.Errorf("store/etcd: %s: %w", vkv[0].Key, err)
	}
	var buf bytes.Buffer
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		buf.Write(kv.Value)
	}
	def := buf.Bytes()
	if len(def) != v.Size || catalog.Digest(def) != v.Digest {
		return nil, fmt.Errorf("store/etcd: API definition %s@%s: the stored chunks (%d bytes) do not match the version's size and digest", name, digest, len(def))
	}
	return def, nil
}
