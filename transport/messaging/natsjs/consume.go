package natsjs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/telemetry"
)

// Headers written on a dead-lettered message, beside the original's own headers.
const (
	HeaderDeadLetterSubject  = "Paved-Dead-Letter-Subject"  // the subject it was published to
	HeaderDeadLetterStream   = "Paved-Dead-Letter-Stream"   // the stream it was stored in
	HeaderDeadLetterSequence = "Paved-Dead-Letter-Sequence" // its sequence in that stream
	HeaderDeadLetterConsumer = "Paved-Dead-Letter-Consumer" // the durable consumer that gave up
	HeaderDeadLetterAttempts = "Paved-Dead-Letter-Attempts" // attempts made
	HeaderDeadLetterError    = "Paved-Dead-Letter-Error"    // the last attempt's error (at most 512 bytes)
	HeaderDeadLetterMsgID    = "Paved-Dead-Letter-Msg-Id"   // the original's Nats-Msg-Id
)

// errNotStarted: the consumer has not started yet.
var errNotStarted = errors.New("not started")

// stopGrace is how long Stop still waits for handlers after its context has ended and
// their contexts were cancelled.
const stopGrace = time.Second

// ConsumerConfig describes one durable pull consumer. Stream and Durable are required;
// zero fields of the embedded ConsumerSettings take the client's (Config.Consumer).
type ConsumerConfig struct {
	// Stream is the stream the consumer reads; it must exist when the client starts.
	Stream string
	// Durable is the consumer's durable name, shared by every instance of the service
	// (they split its messages): letters, digits, '-' and '_'.
	Durable string
	// Subject filters the stream's subjects (wildcards allowed); empty: all of them.
	// It is the messaging.destination.name of the consumer's spans and metrics.
	Subject string
	// DeadLetterSubject receives a message whose last attempt failed (MaxDeliver
	// attempts, or an error wrapped in resilience.Permanent), with its headers, its data
	// and the Paved-Dead-Letter-* headers; a stream must capture the subject. Empty: no
	// dead-letter subject; such a message is terminated and logged at error level.
	DeadLetterSubject string
	// Idempotent declares that the handler is idempotent: wrapped in [Idempotency], or
	// idempotent by its nature. The compliance rule consumer-idempotent reads it
	// ([Client.Register]); it changes nothing in the delivery.
	Idempotent bool
	ConsumerSettings
}

// Handler processes one message. Returning nil acknowledges it; an error gives it back
// for another attempt after a backoff (BackoffInitial, doubling up to BackoffMax), and
// after MaxDeliver attempts moves it to the dead-letter subject. Wrap the error in
// resilience.Permanent to dead-letter it at once. The handler must honour ctx (it is
// cancelled when the shutdown runs out of time) and should end within AckWait, after
// which the broker delivers the message again. A panic counts as an error.
type Handler func(ctx context.Context, m *Message) error

// Message is a message delivered to a Handler. It is valid during the call only.
type Message struct {
	// Subject is the subject the message was published to.
	Subject string
	// Data is the body.
	Data []byte
	// Header holds the message's headers.
	Header nats.Header
	// ID is the message's id (header Nats-Msg-Id), or "<stream>:<sequence>" when the
	// publisher gave none: the key for idempotent handling.
	ID string
	// Attempt is the delivery count, 1 for the first.
	Attempt int
	// Stream and Sequence place the message in its stream.
	Stream   string
	Sequence uint64

	raw jetstream.Msg
}

// Raw returns the underlying JetStream message, for InProgress on a long handler.
// Acknowledge through the Handler's return value, never on Raw.
func (m *Message) Raw() jetstream.Msg { return m.raw }

// Consumer is a durable pull consumer run by a Client: a fixed pool of MaxConcurrent
// workers (the bulkhead) reads its messages and calls the handler. Safe for concurrent
// use.
type Consumer struct {
	c        *Client
	cfg      ConsumerConfig
	h        Handler
	series   *consumerSeries
	dest     string
	spanName string

	// stopping: messages still buffered are given back instead of handled.
	stopping atomic.Bool
	wg       sync.WaitGroup

	// fetchStop is closed when the consumer stops fetching; the fetcher ends after
	// its current batch.
	fetchStop     chan struct{}
	fetchStopOnce sync.Once

	// The fetcher hands each batch to the workers through batchMu: it sets batch
	// (nil once it has ended) and broadcasts batchCond; the workers all read the
	// batch's messages straight from its channel, with no hand-off of their own.
	batchMu   sync.Mutex
	batchCond *sync.Cond
	batch     *batch
	fetchDone bool

	// mu guards the fields below.
	mu             sync.Mutex
	cons           jetstream.Consumer
	started        bool
	baseCtx        context.Context
	cancelHandlers context.CancelFunc
}

// Consume adds a consumer that calls h for every message of cfg. Before Start it is
// created at Start; after, at once (the returned error then says whether it started).
func (c *Client) Consume(cfg ConsumerConfig, h Handler) (*Consumer, error) {
	if h == nil {
		return nil, errors.New("natsjs: Consume: nil handler")
	}
	var errs []error
	if cfg.Stream == "" || !validName(cfg.Stream) {
		errs = append(errs, fmt.Errorf("natsjs: ConsumerConfig.Stream = %q: want a stream name of letters, digits, '-' and '_'", cfg.Stream))
	}
	if cfg.Durable == "" || !validName(cfg.Durable) {
		errs = append(errs, fmt.Errorf("natsjs: ConsumerConfig.Durable = %q: want a durable name of letters, digits, '-' and '_'", cfg.Durable))
	}
	if strings.ContainsAny(cfg.DeadLetterSubject, "*> \t") {
		errs = append(errs, fmt.Errorf("natsjs: ConsumerConfig.DeadLetterSubject = %q: want a subject without wildcards or spaces", cfg.DeadLetterSubject))
	}
	errs = append(errs, cfg.ConsumerSettings.validate("ConsumerConfig.")...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.ConsumerSettings = merge(cfg.ConsumerSettings, c.cfg.Consumer)
	dest := cfg.Subject
	if dest == "" {
		dest = cfg.Stream
	}
	k := &Consumer{c: c, cfg: cfg, h: h, dest: dest, spanName: "process " + dest,
		series: c.m.consumer(dest, cfg.Durable), fetchStop: make(chan struct{})}
	c.mu.Lock()
	c.consumers = append(c.consumers, k)
	js, running := c.js, c.js != nil && !c.stopCalled
	svc := c.svc
	c.mu.Unlock()
	if svc != nil {
		if err := k.useAPI(svc); err != nil {
			return nil, err
		}
	}
	if running {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ConnectTimeout)
		defer cancel()
		if err := k.start(ctx, js); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// merge fills the zero fields of s from def.
func merge(s, def ConsumerSettings) ConsumerSettings {
	if s.MaxConcurrent == 0 {
		s.MaxConcurrent = def.MaxConcurrent
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = def.MaxDeliver
	}
	if s.AckWait == 0 {
		s.AckWait = def.AckWait
	}
	if s.BackoffInitial == 0 {
		s.BackoffInitial = def.BackoffInitial
	}
	if s.BackoffMax == 0 {
		s.BackoffMax = def.BackoffMax
	}
	if s.LagWarn == 0 {
		s.LagWarn = def.LagWarn
	}
	return s
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return s != ""
}

// Config returns the consumer's configuration with defaults applied.
func (k *Consumer) Config() ConsumerConfig { return k.cfg }

// fetchWait bounds one pull request: at the stop, the fetcher ends at most this long
// after it is told to.
const fetchWait = 500 * time.Millisecond

// maxBatch is the most messages one pull request asks for.
const maxBatch = 256

// nextBatchSize returns the size of the pull request that follows one of size whose
// got messages the workers took within took. Every pull request costs the client a
// subscription, a request and an unsubscription (tens of microseconds), so a busy
// consumer asks for more at a time: double, up to maxBatch, after a full batch taken
// within an eighth of AckWait. Its messages wait in the client meanwhile, their AckWait
// running, so a batch that took over a quarter of AckWait halves the next, down to
// floor (one message per worker).
func nextBatchSize(size, got, floor int, took, ackWait time.Duration) int {
	switch {
	case took > ackWait/4:
		return max(size/2, floor)
	case got >= size && took < ackWait/8:
		return min(2*size, max(maxBatch, size))
	}
	return size
}

// start creates or updates the durable consumer and starts the fetcher and the
// workers.
func (k *Consumer) start(ctx context.Context, js jetstream.JetStream) error {
	size := min(max(4*k.cfg.MaxConcurrent, 64), max(maxBatch, k.cfg.MaxConcurrent))
	cons, err := js.CreateOrUpdateConsumer(ctx, k.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       k.cfg.Durable,
		FilterSubject: k.cfg.Subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       k.cfg.AckWait,
		// Attempts are counted here, so that a message is dead-lettered before the
		// broker would stop delivering it.
		MaxDeliver:    -1,
		MaxAckPending: max(1000, 2*maxBatch, 2*k.cfg.MaxConcurrent),
	})
	if err != nil {
		return fmt.Errorf("natsjs: consumer %s on stream %s: %w", k.cfg.Durable, k.cfg.Stream, err)
	}
	base, cancel := context.WithCancel(context.Background())
	k.mu.Lock()
	k.cons, k.started, k.baseCtx, k.cancelHandlers = cons, true, base, cancel
	k.mu.Unlock()
	k.batchCond = sync.NewCond(&k.batchMu)
	k.wg.Add(1 + k.cfg.MaxConcurrent)
	go k.fetch(cons, size)
	for range k.cfg.MaxConcurrent {
		go k.work()
	}
	return nil
}

// batch is one pull request's messages, read by every worker until its channel
// closes; the first worker to find it closed closes drained.
type batch struct {
	msgs        <-chan jetstream.Msg
	got         atomic.Int64 // messages the workers took
	drained     chan struct{}
	drainedOnce sync.Once
}

// setBatch hands b to the workers; nil tells them the fetcher has ended.
func (k *Consumer) setBatch(b *batch) {
	k.batchMu.Lock()
	k.batch, k.fetchDone = b, b == nil
	k.batchMu.Unlock()
	k.batchCond.Broadcast()
}

// nextBatch waits for a batch other than last, or returns nil when the fetcher has
// ended.
func (k *Consumer) nextBatch(last *batch) *batch {
	k.batchMu.Lock()
	defer k.batchMu.Unlock()
	for k.batch == last && !k.fetchDone {
		k.batchCond.Wait()
	}
	return k.batch
}

// fetch pulls batches of messages and hands them to the workers until fetchStop is
// closed. Each batch is a pull request of its own, bounded by fetchWait, whose
// messages all arrive on its own subscription: stopping between two batches leaves no
// pull request open at the broker, so no message is delivered to a client that no
// longer listens (it would wait for AckWait before another instance got it). The next
// pull request goes out once the workers have taken every message of the current one.
func (k *Consumer) fetch(cons jetstream.Consumer, size int) {
	defer k.wg.Done()
	defer k.setBatch(nil)
	for {
		select {
		case <-k.fetchStop:
			return
		default:
		}
		b, err := cons.Fetch(size, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			k.c.log.Warn("nats: fetch", "consumer", k.cfg.Durable, "error", err.Error())
			select {
			case <-k.fetchStop:
				return
			case <-time.After(fetchWait):
			}
			continue
		}
		cur := &batch{msgs: b.Messages(), drained: make(chan struct{})}
		handed := time.Now()
		k.setBatch(cur)
		<-cur.drained
		size = nextBatchSize(size, int(cur.got.Load()), k.cfg.MaxConcurrent, time.Since(handed), k.cfg.AckWait)
		if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			k.c.log.Warn("nats: fetch", "consumer", k.cfg.Durable, "error", err.Error())
		}
	}
}

// work is one worker: it handles the messages of each batch the fetcher hands out,
// or gives them back at once when the consumer is stopping, until the fetcher ends.
func (k *Consumer) work() {
	defer k.wg.Done()
	m := new(Message) // reused: valid during the handler's call only
	var last *batch
	for {
		b := k.nextBatch(last)
		if b == nil {
			return
		}
		for jm := range b.msgs {
			b.got.Add(1)
			if k.stopping.Load() {
				_ = jm.Nak() // given back at once, for another instance
				continue
			}
			k.handle(jm, m)
			*m = Message{}
		}
		b.drainedOnce.Do(func() { close(b.drained) })
		last = b
	}
}

// handle runs the handler on one message and settles it.
func (k *Consumer) handle(jm jetstream.Msg, m *Message) {
	start := time.Now()
	k.series.consumed.Inc()
	*m = Message{Subject: jm.Subject(), Data: jm.Data(), Header: jm.Headers(), raw: jm}
	if meta, ok := parseAckReply(jm.Reply()); ok {
		m.Attempt, m.Stream, m.Sequence = int(meta.delivered), meta.stream, meta.streamSeq
		k.series.pending.Set(float64(meta.pending))
	} else if md, err := jm.Metadata(); err == nil {
		m.Attempt, m.Stream, m.Sequence = int(md.NumDelivered), md.Stream, md.Sequence.Stream
		k.series.pending.Set(float64(md.NumPending))
	}
	m.ID = m.Header.Get(HeaderMsgID)
	if m.ID == "" {
		m.ID = m.Stream + ":" + strconv.FormatUint(m.Sequence, 10)
	}
	parent := telemetry.ExtractHeaders(k.baseCtx, k.c.prop, m.Header)
	ctx, span := parent, noSpan
	// parent is baseCtx itself when the headers carry no trace context: unsampled.
	if !k.c.rootNeverSampled || parent != k.baseCtx && trace.SpanContextFromContext(parent).IsSampled() {
		ctx, span = k.c.tracer.Start(parent, k.spanName, consumerKind...)
	}
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("messaging.system", system),
			attribute.String("messaging.destination.name", m.Subject),
			attribute.String("messaging.destination.subscription.name", k.dest),
			attribute.String("messaging.consumer.group.name", k.cfg.Durable),
			attribute.String("messaging.operation.name", "process"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.message.id", m.ID),
			attribute.Int("messaging.message.body.size", len(m.Data)),
			attribute.Int("messaging.nats.delivery_count", m.Attempt),
		)
	}
	err := k.call(ctx, m)
	d := time.Since(start).Seconds()
	if err == nil {
		_ = jm.Ack()
		k.series.process.Observe(d)
		span.End()
		return
	}
	et := errorType(err)
	k.c.m.process.WithLabelValues(system, k.dest, k.cfg.Durable, "process", et).Observe(d)
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	span.SetAttributes(attribute.String("error.type", et))
	defer span.End()
	switch {
	case k.stopping.Load() && ctx.Err() != nil:
		// Cut by the shutdown: given back at once, not an attempt of its own.
		_ = jm.Nak()
	case resilience.IsPermanent(err) || m.Attempt >= k.cfg.MaxDeliver:
		k.deadLetter(ctx, m, err, et)
	default:
		_ = jm.NakWithDelay(k.backoff(m.Attempt))
	}
}

// call runs the handler, turning a panic into an error.
func (k *Consumer) call(ctx context.Context, m *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("natsjs: handler panicked: %v", r)
		}
	}()
	return k.h(ctx, m)
}

// backoff is the delay before the attempt after attempt: BackoffInitial doubled per
// attempt, at most BackoffMax.
func (k *Consumer) backoff(attempt int) time.Duration {
	d := k.cfg.BackoffInitial
	for i := 1; i < attempt && d < k.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, k.cfg.BackoffMax)
}

// deadLetter moves m to the dead-letter subject and terminates it; when the
// dead-letter publish fails, the message is given back for a later try.
func (k *Consumer) deadLetter(ctx context.Context, m *Message, cause error, et string) {
	log := k.c.log.With("consumer", k.cfg.Durable, "subject", m.Subject, "msg_id", m.ID,
		"attempts", m.Attempt, "error", cause.Error())
	if k.cfg.DeadLetterSubject == "" {
		_ = m.raw.TermWithReason("natsjs: last attempt failed: " + errorType(cause))
		k.c.m.deadLetter.WithLabelValues(system, k.dest, k.cfg.Durable, et).Inc()
		log.Error("nats: message dropped after its last attempt: the consumer has no dead-letter subject")
		return
	}
	dl := &nats.Msg{Subject: k.cfg.DeadLetterSubject, Data: m.Data, Header: make(nats.Header, len(m.Header)+8)}
	for key, v := range m.Header {
		dl.Header[key] = append([]string(nil), v...)
	}
	msg := cause.Error()
	if len(msg) > 512 {
		msg = msg[:512]
	}
	dl.Header[HeaderMsgID] = []string{"dead-letter:" + m.ID}
	dl.Header[HeaderDeadLetterMsgID] = []string{m.ID}
	dl.Header[HeaderDeadLetterSubject] = []string{m.Subject}
	dl.Header[HeaderDeadLetterStream] = []string{m.Stream}
	dl.Header[HeaderDeadLetterSequence] = []string{strconv.FormatUint(m.Sequence, 10)}
	dl.Header[HeaderDeadLetterConsumer] = []string{k.cfg.Durable}
	dl.Header[HeaderDeadLetterAttempts] = []string{strconv.Itoa(m.Attempt)}
	dl.Header[HeaderDeadLetterError] = []string{msg}
	if _, err := k.c.PublishMsg(context.WithoutCancel(ctx), dl); err != nil {
		_ = m.raw.NakWithDelay(k.backoff(m.Attempt))
		log.Error("nats: dead-letter publish failed: the message is given back", "dead_letter_subject", k.cfg.DeadLetterSubject, "publish_error", err.Error())
		return
	}
	if err := m.raw.TermWithReason("natsjs: moved to " + k.cfg.DeadLetterSubject); err != nil {
		log.Warn("nats: dead-lettered message not terminated; it may be dead-lettered twice", "term_error", err.Error())
	}
	k.c.m.deadLetter.WithLabelValues(system, k.dest, k.cfg.Durable, et).Inc()
	log.Warn("nats: message moved to the dead-letter subject", "dead_letter_subject", k.cfg.DeadLetterSubject)
}

// stopFetching ends the fetching after the current batch, whose messages are still
// handed out.
func (k *Consumer) stopFetching() {
	k.fetchStopOnce.Do(func() { close(k.fetchStop) })
}

// stop stops fetching, gives back what was received but not handled, and waits for the
// handlers in flight; when ctx ends, it cancels them and waits stopGrace more.
func (k *Consumer) stop(ctx context.Context) error {
	k.stopFetching()
	k.stopping.Store(true)
	k.mu.Lock()
	started, cancel := k.started, k.cancelHandlers
	k.mu.Unlock()
	if !started {
		return nil
	}
	defer cancel()
	done := make(chan struct{})
	go func() { k.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	cancel()
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("natsjs: consumer %s: handlers still running after the shutdown timeout; their messages are delivered again after AckWait (%s)", k.cfg.Durable, k.cfg.AckWait)
	}
}

// pending asks the broker for the consumer's pending count and sets the lag gauge.
func (k *Consumer) pending(ctx context.Context) (uint64, error) {
	k.mu.Lock()
	cons := k.cons
	k.mu.Unlock()
	if cons == nil {
		return 0, errNotStarted
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	k.series.pending.Set(float64(info.NumPending))
	return info.NumPending, nil
}
