package natsjs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/service"
)

// AsyncAPIVersion is the AsyncAPI version of the documents [Client.Register] publishes.
const AsyncAPIVersion = "3.0.0"

// DefaultEventVersion is an [Event]'s version when it states none.
const DefaultEventVersion = "1.0.0"

// Event declares an event the service publishes, for the catalog: [Client.Register]
// publishes it as an event API named after its subject (kind asyncapi), whose AsyncAPI
// 3 document has the subject as its one channel and a send operation. A consumer of
// the subject records the API of the same name as used, which is how the catalog draws
// the event flow from publisher to consumer.
type Event struct {
	// Subject is the subject the event is published to: a literal subject (no
	// wildcards) that is also a valid API name ([catalog.IsAPIName]: 1-63 letters,
	// digits, '-', '_' and '.'), such as "orders.placed". Required.
	Subject string
	// Summary says in a sentence what the event means; optional.
	Summary string
	// Version is the event's contract version, the document's info.version; empty
	// means [DefaultEventVersion].
	Version string
	// ContentType is the payload's media type; empty means application/json.
	ContentType string
	// Schema is a JSON Schema (a JSON object) of the payload; optional. Without one
	// the document names the subject and the content type only.
	Schema json.RawMessage
}

// validate returns the problems of e, each naming the field at fault.
func (e Event) validate(field string) []error {
	var errs []error
	if !catalog.IsAPIName(e.Subject) || strings.Contains(e.Subject, "..") {
		errs = append(errs, fmt.Errorf("natsjs: %s.Subject = %q: want a literal subject that is an API name (%s), such as \"orders.placed\"", field, e.Subject, catalog.APINameRule))
	}
	if e.Version != "" && strings.ContainsFunc(e.Version, func(r rune) bool { return r <= ' ' || r > '~' }) {
		errs = append(errs, fmt.Errorf("natsjs: %s.Version = %q: want printable ASCII without spaces, such as \"1.0.0\"", field, e.Version))
	}
	if t, sub, ok := strings.Cut(e.ContentType, "/"); e.ContentType != "" && (!ok || t == "" || sub == "" || strings.ContainsAny(e.ContentType, " \t")) {
		errs = append(errs, fmt.Errorf("natsjs: %s.ContentType = %q: want a media type such as \"application/json\"", field, e.ContentType))
	}
	if len(e.Schema) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e.Schema, &obj); err != nil || obj == nil {
			errs = append(errs, fmt.Errorf("natsjs: %s.Schema: want a JSON Schema, a JSON object: %v", field, errOr(err, "not an object")))
		}
	}
	return errs
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// Publishes declares events the client publishes (see [Event]); call it in the
// service's setup, before [Client.Register] or after it (before the service runs).
// It returns every problem at once: an invalid field, or a subject declared twice.
func (c *Client) Publishes(events ...Event) error {
	var errs []error
	c.mu.Lock()
	known := make([]string, 0, len(c.events)+len(events))
	for _, e := range c.events {
		known = append(known, e.Subject)
	}
	for i, e := range events {
		field := fmt.Sprintf("Publishes[%d]", i)
		errs = append(errs, e.validate(field)...)
		if slices.Contains(known, e.Subject) {
			errs = append(errs, fmt.Errorf("natsjs: %s.Subject = %q: declared twice", field, e.Subject))
		}
		known = append(known, e.Subject)
	}
	svc := c.svc
	if len(errs) == 0 {
		c.events = append(c.events, events...)
	}
	c.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if svc != nil {
		return c.publishAPIs(svc, events)
	}
	return nil
}

// Register makes the client's event flows part of s, as the catalog sees them:
//   - every event declared with [Client.Publishes] becomes an API s publishes
//     ([service.Service.PublishAPI]): named after its subject, kind asyncapi, with an
//     AsyncAPI 3 document built from the subject, the content type and the schema;
//   - every consumer's subject (one without wildcards) becomes an API s uses,
//     observed ([service.Service.UseAPI]): the catalog matches it to the publishers of
//     the API of that name;
//   - the consumers join the compliance facts ([compliance.Facts.Consumers]: dead-letter
//     subject, concurrency bound, idempotent handling declared), which the rules
//     consumer-dead-letter, consumer-bounded-concurrency and consumer-idempotent check.
//
// Call it once, in the service's setup (before s runs); events declared and consumers
// added later are registered as they come. It returns an error for an event API s
// refuses (a name it already publishes) or a second Register.
func (c *Client) Register(s *service.Service) error {
	if s == nil {
		return errors.New("natsjs: Register: nil service")
	}
	c.mu.Lock()
	if c.svc != nil {
		c.mu.Unlock()
		return errors.New("natsjs: Register called twice")
	}
	c.svc = s
	events := slices.Clone(c.events)
	consumers := slices.Clone(c.consumers)
	c.mu.Unlock()
	s.AddFacts(c.Facts)
	var errs []error
	for _, k := range consumers {
		errs = append(errs, k.useAPI(s))
	}
	errs = append(errs, c.publishAPIs(s, events))
	return errors.Join(errs...)
}

// publishAPIs publishes the event APIs of events on s.
func (c *Client) publishAPIs(s *service.Service, events []Event) error {
	var errs []error
	for _, e := range events {
		def, err := AsyncAPIDocument(c.name, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.PublishAPI(service.API{Name: e.Subject, Kind: service.APIKindAsyncAPI, Definition: def}))
	}
	return errors.Join(errs...)
}

// useAPI records k's subject as an API s uses, when it names one.
func (k *Consumer) useAPI(s *service.Service) error {
	subject := k.cfg.Subject
	if subject == "" || strings.ContainsAny(subject, "*>") || !catalog.IsAPIName(subject) {
		// A wildcard filter names no one API: declare the ones it reads in
		// Info.ConsumesAPIs.
		return nil
	}
	return s.UseAPI(subject)
}

// Facts adds the client's consumers to f (see [compliance.Consumer]): the function
// [Client.Register] adds to the service's facts.
func (c *Client) Facts(f *compliance.Facts) {
	c.mu.Lock()
	consumers := slices.Clone(c.consumers)
	c.mu.Unlock()
	for _, k := range consumers {
		f.Consumers = append(f.Consumers, compliance.Consumer{
			Name:              k.cfg.Durable,
			Subject:           k.dest,
			DeadLetterSubject: k.cfg.DeadLetterSubject,
			MaxConcurrent:     k.cfg.MaxConcurrent,
			Idempotent:        k.cfg.Idempotent,
		})
	}
}

// AsyncAPIDocument returns the AsyncAPI 3 document (JSON) of the event API of e,
// published by the component named publisher: one channel whose address is the
// subject, the message with its content type and schema, and a send operation. It
// names no server: the broker's address is the platform's, not the catalog's. It
// returns the problems of e, as [Client.Publishes] does.
func AsyncAPIDocument(publisher string, e Event) ([]byte, error) {
	if err := errors.Join(e.validate("Event")...); err != nil {
		return nil, err
	}
	id := channelID(e.Subject)
	contentType := e.ContentType
	if contentType == "" {
		contentType = "application/json"
	}
	version := e.Version
	if version == "" {
		version = DefaultEventVersion
	}
	desc := "Events published on the NATS JetStream subject " + e.Subject
	if publisher != "" {
		desc += " by " + publisher
	}
	desc += "."
	type ref struct {
		Ref string `json:"$ref"`
	}
	type message struct {
		Name        string          `json:"name"`
		Summary     string          `json:"summary,omitempty"`
		ContentType string          `json:"contentType"`
		Payload     json.RawMessage `json:"payload,omitempty"`
	}
	type channel struct {
		Address  string             `json:"address"`
		Messages map[string]message `json:"messages"`
	}
	type operation struct {
		Action   string `json:"action"`
		Channel  ref    `json:"channel"`
		Summary  string `json:"summary,omitempty"`
		Messages []ref  `json:"messages"`
	}
	doc := struct {
		AsyncAPI string `json:"asyncapi"`
		Info     struct {
			Title       string `json:"title"`
			Version     string `json:"version"`
			Description string `json:"description"`
		} `json:"info"`
		DefaultContentType string               `json:"defaultContentType"`
		Channels           map[string]channel   `json:"channels"`
		Operations         map[string]operation `json:"operations"`
	}{AsyncAPI: AsyncAPIVersion, DefaultContentType: contentType}
	doc.Info.Title = e.Subject
	doc.Info.Version = version
	doc.Info.Description = desc
	var payload json.RawMessage
	if len(e.Schema) > 0 {
		var b bytes.Buffer
		if err := json.Compact(&b, e.Schema); err != nil {
			return nil, fmt.Errorf("natsjs: Event.Schema: %w", err)
		}
		payload = b.Bytes()
	}
	doc.Channels = map[string]channel{id: {Address: e.Subject, Messages: map[string]message{
		id: {Name: e.Subject, Summary: e.Summary, ContentType: contentType, Payload: payload},
	}}}
	doc.Operations = map[string]operation{"send_" + id: {
		Action: "send", Channel: ref{"#/channels/" + id}, Summary: e.Summary,
		Messages: []ref{{"#/channels/" + id + "/messages/" + id}},
	}}
	return json.Marshal(doc)
}

// channelID turns a subject into an AsyncAPI channel, message and operation id
// (^[A-Za-z0-9_\-]+$): dots become underscores.
func channelID(subject string) string {
	return strings.ReplaceAll(subject, ".", "_")
}
