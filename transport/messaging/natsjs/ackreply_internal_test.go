package natsjs

import "testing"

func TestParseAckReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ackMeta
		ok   bool
	}{
		{"$JS.ACK.ORDERS.notifier.3.42.40.1700000000000000000.7", ackMeta{"ORDERS", 3, 42, 7}, true},
		{"$JS.ACK.hub.ACCHASH.ORDERS.notifier.1.5.5.1700000000000000000.0.XYZ", ackMeta{"ORDERS", 1, 5, 0}, true},
		{"$JS.ACK.hub.ACCHASH.ORDERS.notifier.2.9.8.1700000000000000000.11", ackMeta{"ORDERS", 2, 9, 11}, true},
		{"_INBOX.abc", ackMeta{}, false},
		{"$JS.ACK.ORDERS.notifier.x.42.40.1.7", ackMeta{}, false},
		{"$JS.ACK.ORDERS.notifier.3.42", ackMeta{}, false},
	} {
		got, ok := parseAckReply(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseAckReply(%q): got %+v %v, want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { parseAckReply("$JS.ACK.ORDERS.notifier.3.42.40.1700000000000000000.7") }); n != 0 {
		t.Errorf("allocations: got %v, want 0", n)
	}
}
