package discovery

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/go-kit/kit/sd"
)

// Event is what [Cache.Subscribe] delivers: the ready instances of one service, sorted by
// ID, and the registry's error, if any. When Err is not nil, Instances is the last known
// set.
type Event struct {
	// Instances are the ready instances, sorted by ID.
	Instances []Instance
	// Err is the registry's last error, nil when the last update succeeded.
	Err error
}

// Instancer is what clients accept for one dependency: go-kit's sd.Instancer, whose
// events list one address per ready instance, plus the richer [Instance] view. [*Cache]
// implements it, and so does every backend's instancer.
type Instancer interface {
	sd.Instancer
	// Instances returns the ready instances, sorted by ID, and the registry's last error.
	Instances() ([]Instance, error)
	// Subscribe returns a channel that receives the current [Event] at once and the
	// latest one after each change, and a function that ends the subscription and closes
	// the channel.
	Subscribe() (events <-chan Event, cancel func())
}

// CacheOption configures a [Cache].
type CacheOption func(*Cache)

// AllowWarning makes the cache pass on instances whose status is warning as well as
// passing. By default only passing instances are ready.
func AllowWarning(allow bool) CacheOption {
	return func(c *Cache) { c.allowWarning = allow }
}

// WithAddressKind picks the address that the go-kit sd.Instancer view lists for each
// instance; instances without an address of that kind are left out of that view (they
// stay in [Cache.Instances]). The default is [KindHTTP].
func WithAddressKind(k AddressKind) CacheOption {
	return func(c *Cache) { c.kind = k }
}

// Cache holds the ready instances of one service and fans changes out to go-kit
// sd.Instancer listeners and to subscribers. Backends feed it with [Cache.Update]; they
// embed it and add their own Stop.
//
// Cache is safe for concurrent use. Create it with [NewCache]; the zero value is not
// usable.
//
// As in go-kit's instance cache, go-kit listeners (Register) receive events by a blocking
// send made while the cache is locked: the listener must keep reading its channel until
// it has called Deregister, as sd.NewEndpointer does. Subscribers never block the cache:
// their channel holds only the latest event.
type Cache struct {
	allowWarning bool
	kind         AddressKind

	// mu guards the fields below.
	mu        sync.Mutex
	instances []Instance // ready, sorted by ID
	err       error
	sdEvent   sd.Event
	listeners map[chan<- sd.Event]struct{}
	subs      map[chan Event]struct{}
	stopped   bool
}

var _ Instancer = (*Cache)(nil)

// NewCache returns an empty cache.
func NewCache(opts ...CacheOption) *Cache {
	c := &Cache{kind: KindHTTP, listeners: map[chan<- sd.Event]struct{}{}, subs: map[chan Event]struct{}{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Update replaces the set of instances with all, the complete current set of the service
// whatever their status, and notifies listeners when the ready set changed. When err is
// not nil, all is ignored and the last known set is kept, reported with err. Update
// copies what it keeps; it does nothing after [Cache.Stop].
func (c *Cache) Update(all []Instance, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	ready := c.instances
	if err == nil {
		ready = make([]Instance, 0, len(all))
		for _, in := range all {
			if in.Ready(c.allowWarning) {
				ready = append(ready, in.Clone())
			}
		}
		// sort.Slice rather than slices.SortFunc: the generic sort, instantiated for
		// Instance's large shape, put 18 KB of code into every service's binary
		// (bench/footprint); the lists are short and change rarely.
		sort.Slice(ready, func(i, j int) bool {
			return cmp.Or(cmp.Compare(ready[i].ID, ready[j].ID), cmp.Compare(ready[i].Service, ready[j].Service)) < 0
		})
	}
	if slices.EqualFunc(ready, c.instances, sameInstance) && sameError(err, c.err) {
		return
	}
	c.instances, c.err = ready, err
	c.sdEvent = sd.Event{Instances: addresses(ready, c.kind), Err: err}
	for ch := range c.listeners {
		ch <- copySDEvent(c.sdEvent)
	}
	for ch := range c.subs {
		sendLatest(ch, c.eventLocked())
	}
}

func sameInstance(a, b Instance) bool {
	return a.ID == b.ID && a.Service == b.Service && a.Version == b.Version && a.Addresses == b.Addresses &&
		a.Status == b.Status && a.TTL == b.TTL && maps.Equal(a.Metadata, b.Metadata)
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

func addresses(ready []Instance, kind AddressKind) []string {
	out := make([]string, 0, len(ready))
	for _, in := range ready {
		if a := in.Addresses.Get(kind); a != "" {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func copySDEvent(e sd.Event) sd.Event {
	e.Instances = slices.Clone(e.Instances)
	return e
}

func (c *Cache) eventLocked() Event {
	ins := make([]Instance, len(c.instances))
	for i, in := range c.instances {
		ins[i] = in.Clone()
	}
	return Event{Instances: ins, Err: c.err}
}

// sendLatest puts e in the 1-buffered ch, replacing an event not yet received.
func sendLatest(ch chan Event, e Event) {
	select {
	case <-ch:
	default:
	}
	ch <- e
}

// Instances returns a copy of the ready instances, sorted by ID, and the registry's last
// error (nil when the last update succeeded).
func (c *Cache) Instances() ([]Instance, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.eventLocked()
	return e.Instances, e.Err
}

// Register implements sd.Instancer: it sends the current state to ch at once, then each
// change, until [Cache.Deregister].
func (c *Cache) Register(ch chan<- sd.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners[ch] = struct{}{}
	ch <- copySDEvent(c.sdEvent)
}

// Deregister implements sd.Instancer.
func (c *Cache) Deregister(ch chan<- sd.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.listeners, ch)
}

// Subscribe implements [Instancer]. After [Cache.Stop] the channel gets the last state
// and is closed.
func (c *Cache) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	ch <- c.eventLocked()
	if c.stopped {
		close(ch)
		return ch, func() {}
	}
	c.subs[ch] = struct{}{}
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.subs[ch]; ok {
			delete(c.subs, ch)
			close(ch)
		}
	}
}

// Stop implements sd.Instancer: later updates are ignored and subscriber channels are
// closed. Backends call it from their own Stop once their watch has ended.
func (c *Cache) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	for ch := range c.subs {
		delete(c.subs, ch)
		close(ch)
	}
}
