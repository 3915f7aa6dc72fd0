package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
)

// renewStreams is how many LeaseKeepAlive streams a store keeps open. etcd serves the
// renewals of one stream one after the other, and a renewal of a lease that just expired
// waits there until its revocation is applied: a few streams keep that from holding up
// every heartbeat, and let etcd serve the two leases of one heartbeat side by side.
const renewStreams = 4

// renewer renews leases over a few long-lived LeaseKeepAlive streams shared by every
// call (a lease always on the same one), instead of the stream per call that clientv3's
// KeepAliveOnce opens: a renewal is one message each way. Responses carry the lease ID,
// and etcd answers the requests of one stream in order, so each ID has a queue of
// waiters. A stream that breaks fails its waiters, and the next renewal on it opens a new
// one. It is safe for concurrent use.
type renewer struct {
	lc     pb.LeaseClient
	ctx    context.Context // ends every stream; canceled by close
	cancel context.CancelFunc
	shards [renewStreams]renewShard

	mu     sync.Mutex
	closed bool           // guarded by mu
	wg     sync.WaitGroup // receive loops; added to under mu while not closed
}

// renewShard holds one of the renewer's streams.
type renewShard struct {
	mu sync.Mutex
	ks *kaStream // the current stream, nil when none; guarded by mu
}

// kaStream is one LeaseKeepAlive stream with the renewals waiting for its answers.
type kaStream struct {
	stream pb.Lease_LeaseKeepAliveClient
	ctx    context.Context // done once the stream is broken or being closed
	cancel context.CancelFunc

	sendMu sync.Mutex // a gRPC stream allows one sender at a time

	mu      sync.Mutex
	waiters map[int64][]chan int64 // per lease, in the order sent; guarded by mu
	err     error                  // why the stream ended, nil while it runs; guarded by mu
}

// errStreamBroken is what waiters get when their stream ended before it answered.
var errStreamBroken = errors.New("store/etcd: lease keep-alive stream ended")

func newRenewer(cli *clientv3.Client) *renewer {
	ctx, cancel := context.WithCancel(context.Background())
	return &renewer{lc: pb.NewLeaseClient(cli.ActiveConnection()), ctx: ctx, cancel: cancel}
}

// close ends the stream and waits for its receive loop.
func (r *renewer) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// stream returns the current stream of shard sh, opening one when there is none.
func (r *renewer) stream(ctx context.Context, sh *renewShard) (*kaStream, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.ks != nil && sh.ks.ctx.Err() == nil {
		return sh.ks, nil
	}
	sctx, cancel := context.WithCancel(clientv3.WithRequireLeader(r.ctx))
	// Opening waits for a connection, bounded by the caller's ctx as well as by close.
	stop := context.AfterFunc(ctx, cancel)
	st, err := r.lc.LeaseKeepAlive(sctx, grpc.WaitForReady(true))
	if !stop() || err != nil {
		cancel()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("store/etcd: open lease keep-alive stream: %w", err)
	}
	ks := &kaStream{stream: st, ctx: sctx, cancel: cancel, waiters: map[int64][]chan int64{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		cancel()
		return nil, errStreamBroken
	}
	sh.ks = ks
	r.wg.Go(func() { r.receive(sh, ks) })
	return ks, nil
}

// receive hands each answer to the oldest waiter for its lease, until the stream ends.
func (r *renewer) receive(sh *renewShard, ks *kaStream) {
	defer ks.cancel()
	for {
		resp, err := ks.stream.Recv()
		if err != nil {
			ks.cancel() // from now on the shard opens a new stream
			sh.mu.Lock()
			if sh.ks == ks {
				sh.ks = nil
			}
			sh.mu.Unlock()
			ks.mu.Lock()
			ks.err = err
			for _, q := range ks.waiters {
				for _, ch := range q {
					close(ch)
				}
			}
			ks.waiters = nil
			ks.mu.Unlock()
			return
		}
		ks.mu.Lock()
		if q := ks.waiters[resp.ID]; len(q) > 0 {
			q[0] <- resp.TTL
			if len(q) == 1 {
				delete(ks.waiters, resp.ID)
			} else {
				ks.waiters[resp.ID] = q[1:]
			}
		}
		ks.mu.Unlock()
	}
}

// renew keeps each lease alive once, all in flight together, and reports which still
// exist. A lease ID 0 is reported gone without asking. A stream that breaks is replaced
// once; renewing twice is harmless.
func (r *renewer) renew(ctx context.Context, ids ...clientv3.LeaseID) ([]bool, error) {
	var err error
	for range 2 {
		var alive []bool
		if alive, err = r.renewOn(ctx, ids); !errors.Is(err, errStreamBroken) {
			return alive, err
		}
		if ctx.Err() != nil || r.ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("store/etcd: renew lease: %w", err)
}

func (r *renewer) renewOn(ctx context.Context, ids []clientv3.LeaseID) ([]bool, error) {
	// Send every request first, each on its lease's stream, then wait for the answers.
	chans := make([]chan int64, len(ids))
	for i, id := range ids {
		if id == 0 {
			continue
		}
		sh := &r.shards[uint64(id)%renewStreams]
		ks, err := r.stream(ctx, sh)
		if err != nil {
			return nil, err
		}
		if chans[i], err = ks.send(id); err != nil {
			return nil, err
		}
	}
	alive := make([]bool, len(ids))
	for i, ch := range chans {
		if ch == nil {
			continue
		}
		select {
		case ttl, ok := <-ch:
			if !ok {
				return nil, errStreamBroken
			}
			alive[i] = ttl > 0 // etcd answers TTL 0 for a lease it does not have
		case <-ctx.Done():
			// The answer still comes and goes to this waiter's buffer: the queue stays in order.
			return nil, ctx.Err()
		}
	}
	return alive, nil
}

// send asks for one renewal of id and returns the channel its TTL comes on (closed when
// the stream ends first).
func (ks *kaStream) send(id clientv3.LeaseID) (chan int64, error) {
	ch := make(chan int64, 1)
	ks.sendMu.Lock()
	defer ks.sendMu.Unlock()
	ks.mu.Lock()
	if ks.err != nil {
		ks.mu.Unlock()
		return nil, errStreamBroken
	}
	ks.waiters[int64(id)] = append(ks.waiters[int64(id)], ch)
	ks.mu.Unlock()
	if err := ks.stream.Send(&pb.LeaseKeepAliveRequest{ID: int64(id)}); err != nil {
		// The receive loop sees the stream end too and fails the waiters.
		ks.cancel()
		return nil, errStreamBroken
	}
	return ch, nil
}
