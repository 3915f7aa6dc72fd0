package notifier

import (
	"sync"
	"time"
)

// Keep is the number of notifications a [Log] keeps.
const Keep = 100

// Notification is a notification sent.
type Notification struct {
	OrderID  string    `json:"orderId"`
	SKU      string    `json:"sku"`
	Quantity int       `json:"quantity"`
	Message  string    `json:"message"`
	SentAt   time.Time `json:"sentAt"`
	// TraceID is the trace of the order, from the HTTP request that placed it through
	// the message to this notification; empty when tracing is off.
	TraceID string `json:"traceId,omitempty"`
}

// Log keeps the last [Keep] notifications sent, and counts them all. It is safe for
// concurrent use; the zero value is empty.
type Log struct {
	// mu guards the fields below.
	mu    sync.Mutex
	last  []Notification // a ring of at most Keep, next is the oldest once full
	next  int
	total int
}

// Add records n.
func (l *Log) Add(n Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if len(l.last) < Keep {
		l.last = append(l.last, n)
		return
	}
	l.last[l.next] = n
	l.next = (l.next + 1) % Keep
}

// List returns the notifications kept, the most recent first, and the number sent.
func (l *Log) List() (list []Notification, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	list = make([]Notification, 0, len(l.last))
	for i := range l.last {
		// Walk back from the newest: the one before next.
		list = append(list, l.last[(l.next-1-i+2*len(l.last))%len(l.last)])
	}
	return list, l.total
}
