package natsjs

import (
	"strconv"
	"strings"
)

// ackMeta is what a JetStream message's reply subject says about its delivery.
type ackMeta struct {
	stream    string
	delivered uint64
	streamSeq uint64
	pending   uint64
}

// parseAckReply reads a JetStream acknowledgement subject without allocating:
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
//	$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>[.<token>...]
//
// It reports false for any other shape (the caller then asks jetstream.Msg.Metadata).
func parseAckReply(s string) (ackMeta, bool) {
	rest, ok := strings.CutPrefix(s, "$JS.ACK.")
	if !ok {
		return ackMeta{}, false
	}
	var tok [12]string
	n := 0
	for n < len(tok) {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			tok[n] = rest
			n++
			break
		}
		tok[n], rest = rest[:i], rest[i+1:]
		n++
	}
	var t []string // stream, consumer, delivered, stream seq, consumer seq, time, pending
	switch {
	case n == 7:
		t = tok[:7]
	case n >= 9:
		t = tok[2:9]
	default:
		return ackMeta{}, false
	}
	delivered, err1 := strconv.ParseUint(t[2], 10, 64)
	seq, err2 := strconv.ParseUint(t[3], 10, 64)
	pending, err3 := strconv.ParseUint(t[6], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || t[0] == "" {
		return ackMeta{}, false
	}
	return ackMeta{stream: t[0], delivered: delivered, streamSeq: seq, pending: pending}, true
}
