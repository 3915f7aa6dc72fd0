package notifier_test

import (
	"strconv"
	"testing"

	"github.com/paved-road/paved/examples/notifier/notifier"
)

// TestLogKeepsTheLast: the log lists the last Keep notifications, the most recent
// first, and counts every one.
func TestLogKeepsTheLast(t *testing.T) {
	var l notifier.Log
	if list, total := l.List(); len(list) != 0 || total != 0 {
		t.Errorf("empty log: got %v, %d", list, total)
	}
	const n = notifier.Keep + 30
	for i := range n {
		l.Add(notifier.Notification{OrderID: strconv.Itoa(i)})
	}
	list, total := l.List()
	if total != n || len(list) != notifier.Keep {
		t.Fatalf("got %d listed, total %d, want %d, %d", len(list), total, notifier.Keep, n)
	}
	for i, got := range list {
		if want := strconv.Itoa(n - 1 - i); got.OrderID != want {
			t.Fatalf("list[%d]: got %s, want %s (the most recent first)", i, got.OrderID, want)
		}
	}
}
