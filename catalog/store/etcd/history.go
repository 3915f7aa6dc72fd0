package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// Histories live under <prefix>h/<component>/<env>, without a lease: they outlive the
// instances. Every catalog process over the same prefix updates them by
// compare-and-swap on the key's revision, so concurrent updates apply one after the
// other, each on the result of the one before.

func (s *Store) histPrefix(comp string) string   { return s.prefix + "h/" + comp + "/" }
func (s *Store) histKey(comp, env string) string { return s.histPrefix(comp) + env }

// UpdateHistory implements [store.Store].
func (s *Store) UpdateHistory(ctx context.Context, component, env string, fn func(*catalog.History) (bool, error)) (catalog.History, error) {
	if err := core.CheckHistoryNames(component, env); err != nil {
		return catalog.History{}, err
	}
	if err := s.check(ctx); err != nil {
		return catalog.History{}, err
	}
	ck, hk := s.compKey(component), s.histKey(component, env)
	for range maxAttempts {
		resp, err := s.cli.Txn(ctx).Then(clientv3.OpGet(ck), clientv3.OpGet(hk)).Commit()
		if err != nil {
			return catalog.History{}, fmt.Errorf("store/etcd: update history: %w", err)
		}
		comp := resp.Responses[0].GetResponseRange().Kvs
		hist := resp.Responses[1].GetResponseRange().Kvs
		if len(comp) == 0 {
			return catalog.History{}, core.NotFound("component", component)
		}
		var raw []byte
		histCmp := clientv3.Compare(clientv3.CreateRevision(hk), "=", 0)
		if len(hist) > 0 {
			raw = hist[0].Value
			histCmp = clientv3.Compare(clientv3.ModRevision(hk), "=", hist[0].ModRevision)
		}
		h, out, err := core.ApplyHistory(raw, component, env, fn)
		if err != nil || out == nil {
			return h, err
		}
		txn, err := s.cli.Txn(ctx).
			If(histCmp, clientv3.Compare(clientv3.CreateRevision(ck), "=", comp[0].CreateRevision)).
			Then(clientv3.OpPut(hk, string(out))).
			Commit()
		if err != nil {
			return catalog.History{}, fmt.Errorf("store/etcd: update history: %w", err)
		}
		if txn.Succeeded {
			return h, nil
		}
	}
	return catalog.History{}, fmt.Errorf("store/etcd: update history %s/%s: too much contention", component, env)
}

// Histories implements [store.Store].
func (s *Store) Histories(ctx context.Context, component string) ([]catalog.History, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	ops := []clientv3.Op{clientv3.OpGet(s.prefix+"h/", clientv3.WithPrefix())}
	if component != "" {
		ops = []clientv3.Op{clientv3.OpGet(s.compKey(component)), clientv3.OpGet(s.histPrefix(component), clientv3.WithPrefix())}
	}
	resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, fmt.Errorf("store/etcd: histories: %w", err)
	}
	if component != "" && len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
		return nil, core.NotFound("component", component)
	}
	out := []catalog.History{}
	for _, kv := range resp.Responses[len(ops)-1].GetResponseRange().Kvs {
		h, err := core.DecodeHistory(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("store/etcd: %s: %w", kv.Key, err)
		}
		out = append(out, h)
	}
	core.SortHistories(out)
	return out, nil
}
