package server

import (
	"container/heap"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"time"
)

// Connections over a client's cap are held before they are closed (Limits.HoldOverCap):
// a client that opens connection after connection would otherwise reconnect as fast as
// its backoff allows, and every reconnection waits in the listen queue in front of
// other clients' new connections. A held connection is not read and has no goroutine;
// its client waits for an answer that does not come, until the hold ends and the
// connection is closed. The held set is bounded (Limits.MaxHeld): a connection over the
// bound is closed at once, as one over the cap is without a hold.

// defaultMaxHeld is Limits.MaxHeld's default; it is lowered to a quarter of the
// process's open-file limit where that is smaller.
const defaultMaxHeld = 16384

// holdJitter spreads the ends of holds over ±25 % of Limits.HoldOverCap, so that the
// connections of a client accepted in one burst do not come back in one burst.
const holdJitter = 0.25

// held is a bounded set of connections held open until their deadline. One timer closes
// those whose deadline passed; no goroutine waits on a connection. It is safe for
// concurrent use.
type held struct {
	max  int
	hold time.Duration
	// mu guards the fields below.
	mu     sync.Mutex
	conns  heldHeap
	timer  *time.Timer // armed for the earliest deadline while conns is not empty
	closed bool
}

func newHeld(maxHeld int, hold time.Duration) *held {
	if maxHeld <= 0 {
		maxHeld = defaultMaxHeld
		if n := openFileLimit(); n > 0 && n/4 < maxHeld {
			maxHeld = max(1, n/4)
		}
	}
	return &held{max: maxHeld, hold: hold}
}

type heldConn struct {
	c        net.Conn
	deadline time.Time
}

// heldHeap orders held connections by deadline (container/heap).
type heldHeap []heldConn

func (h heldHeap) Len() int           { return len(h) }
func (h heldHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h heldHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)        { *h = append(*h, x.(heldConn)) }
func (h *heldHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = heldConn{}
	*h = old[:len(old)-1]
	return x
}

// add holds c, or closes it at once when the set is full or closed. It reports whether
// c is held.
func (h *held) add(c net.Conn, now time.Time) bool {
	h.mu.Lock()
	if h.closed || len(h.conns) >= h.max {
		h.mu.Unlock()
		_ = c.Close()
		return false
	}
	d := time.Duration(float64(h.hold) * (1 - holdJitter + 2*holdJitter*rand.Float64()))
	heap.Push(&h.conns, heldConn{c: c, deadline: now.Add(d)})
	h.armLocked(now)
	h.mu.Unlock()
	return true
}

// armLocked sets the timer for the earliest deadline.
func (h *held) armLocked(now time.Time) {
	if len(h.conns) == 0 {
		if h.timer != nil {
			h.timer.Stop()
		}
		return
	}
	d := max(0, h.conns[0].deadline.Sub(now))
	if h.timer == nil {
		h.timer = time.AfterFunc(d, h.expire)
		return
	}
	h.timer.Reset(d)
}

// expire closes the connections whose deadline passed and arms the timer for the next.
func (h *held) expire() {
	now := time.Now()
	var done []net.Conn
	h.mu.Lock()
	for len(h.conns) > 0 && !h.conns[0].deadline.After(now) {
		done = append(done, heap.Pop(&h.conns).(heldConn).c)
	}
	if !h.closed {
		h.armLocked(now)
	}
	h.mu.Unlock()
	for _, c := range done {
		_ = c.Close()
	}
}

// closeFirst closes the held connection whose hold ends first. It reports false when
// none is held.
func (h *held) closeFirst() bool {
	h.mu.Lock()
	if len(h.conns) == 0 {
		h.mu.Unlock()
		return false
	}
	c := heap.Pop(&h.conns).(heldConn).c
	h.mu.Unlock()
	_ = c.Close()
	return true
}

// close closes every held connection; later ones are closed at once.
func (h *held) close() {
	h.mu.Lock()
	h.closed = true
	if h.timer != nil {
		h.timer.Stop()
	}
	conns := h.conns
	h.conns = nil
	h.mu.Unlock()
	for _, hc := range conns {
		_ = hc.c.Close()
	}
}

// len returns the number of held connections.
func (h *held) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// outOfFiles reports whether err is the process or the system running out of file
// descriptors, which closing a held connection cures.
func outOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
