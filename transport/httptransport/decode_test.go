package httptransport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/transport/httptransport"
)

func TestDecodeJSONAcceptsValid(t *testing.T) {
	body := `{"name":"orders","owner":"team-a","type":"service","tier":2,"lifecycle":"production",
		"links":{"runbook":"https://wiki.example.com/rb"},"dependsOn":["inventory"],"labels":{"a":"b"}}`
	var c catalog.Component
	if err := httptransport.DecodeJSONBytes([]byte(body), &c); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	want := catalog.Component{Name: "orders", Owner: "team-a", Type: "service", Tier: 2, Lifecycle: "production",
		Links: catalog.Links{Runbook: "https://wiki.example.com/rb"}, DependsOn: []string{"inventory"}, Labels: map[string]string{"a": "b"}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	var in catalog.Instance
	ib := `{"id":"i-1","component":"orders","version":"1.0","addresses":{"http":"127.0.0.1:8080"},
		"startedAt":"2026-01-02T03:04:05Z","ttlSeconds":30,"status":"passing","metadata":{"zone":"a"}}`
	if err := httptransport.DecodeJSONReader(strings.NewReader(ib), &in, 0); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if !in.StartedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || in.TTLSeconds != 30 || in.Addresses.HTTP != "127.0.0.1:8080" {
		t.Fatalf("got %+v, want startedAt 2026-01-02T03:04:05Z, ttl 30 and the http address", in)
	}
}

// TestDecodeJSONRejects holds the rules: the ones marked new are what DecodeJSON let
// through before it shared the catalog's rules.
func TestDecodeJSONRejects(t *testing.T) {
	type anyBody struct {
		X any `json:"x"`
	}
	tests := []struct {
		name, body, field, detail, msg string
		target                         func() any
	}{
		{"unknown field", `{"name":"a","color":"red"}`, "color", "is not a known field", `unknown field "color"`, nil},
		{"unknown nested field", `{"links":{"wiki":"https://x"}}`, "links.wiki", "is not a known field", `unknown field "links.wiki"`, nil},
		{"new: wrong case", `{"Name":"a"}`, "Name", "is not a known field", `unknown field "Name"`, nil},
		{"new: wrong case nested", `{"links":{"Runbook":"https://x"}}`, "links.Runbook", "is not a known field", "", nil},
		{"new: duplicate key", `{"name":"a","owner":"b","name":"c"}`, "name", "appears more than once", `the field "name" more than once`, nil},
		{"new: duplicate key by escape", `{"name":"a","na\u006de":"c"}`, "name", "appears more than once", "", nil},
		{"new: duplicate nested key", `{"links":{"docs":"https://a","docs":"https://b"}}`, "links.docs", "appears more than once", "", nil},
		{"new: duplicate map key", `{"labels":{"a":"1","a":"2"}}`, "labels[a]", "appears more than once", "", nil},
		{"new: duplicate key in any", `{"x":{"a":1,"a":2}}`, "x[a]", "appears more than once", "", func() any { return new(anyBody) }},
		{"new: NUL in a value", `{"name":"a\u0000b"}`, "name", "must not contain NUL", "", nil},
		{"new: NUL in a key", `{"labels":{"a\u0000":"b"}}`, "labels", "has a key with a NUL character", "", nil},
		{"new: nesting", `{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "x" + strings.Repeat("[0]", 31), "nests deeper than 32 levels", "", func() any { return new(anyBody) }},
		{"new: null string", `{"name":null}`, "name", "must be a string, got null", "wrong type", nil},
		{"new: null int", `{"tier":null}`, "tier", "must be an integer, got null", "", nil},
		{"new: invalid UTF-8", "{\"name\":\"a\xffb\"}", "name", "is not valid UTF-8", "", nil},
		{"new: lone surrogate", `{"name":"\ud800"}`, "name", "lone UTF-16 surrogate", "", nil},
		{"trailing data", `{"name":"a"} {"name":"b"}`, "", "", "has data after the JSON value", nil},
		{"trailing garbage", `{"name":"a"}x`, "", "", "has data after the JSON value", nil},
		{"wrong type string", `{"name":1}`, "name", "must be a string, got a number", "wrong type", nil},
		{"wrong type int", `{"tier":"1"}`, "tier", "must be an integer, got a string", "", nil},
		{"fraction", `{"tier":1.5}`, "tier", "must be an integer that fits in 64 bits", "", nil},
		{"overflow", `{"tier":1e400}`, "tier", "must be an integer", "", nil},
		{"array item type", `{"dependsOn":["a",2]}`, "dependsOn[1]", "must be a string, got a number", "", nil},
		{"map value type", `{"labels":{"a":{}}}`, "labels[a]", "must be a string, got an object", "", nil},
		{"not an object", `[1,2]`, "", "", "must be an object, got an array", nil},
		{"empty", "  \n", "", "", "is empty", nil},
		{"truncated", `{"name":"a"`, "", "", "is truncated", nil},
		{"truncated value", `{"name":`, "name", "is truncated", "", nil},
		{"syntax", `{"name" "a"}`, "name", "is not valid JSON", "", nil},
		{"bad time", `{"startedAt":"yesterday"}`, "startedAt", "must be an RFC 3339 time", "", func() any { return new(catalog.Instance) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any = &catalog.Component{Name: "untouched"}
			if tt.target != nil {
				v = tt.target()
			}
			before := reflect.ValueOf(v).Elem().Interface()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			err := httptransport.DecodeJSON(r, v, 0)
			var he *httptransport.Error
			if !errors.As(err, &he) || he.Code != http.StatusBadRequest {
				t.Fatalf("got %v, want a 400 *httptransport.Error", err)
			}
			if tt.field == "" && len(he.Fields) != 0 {
				t.Fatalf("got fields %+v, want none", he.Fields)
			}
			if tt.field != "" && (len(he.Fields) != 1 || he.Fields[0].Field != tt.field || !strings.Contains(he.Fields[0].Detail, tt.detail)) {
				t.Fatalf("got fields %+v, want field %q with a detail containing %q", he.Fields, tt.field, tt.detail)
			}
			if !strings.Contains(he.Msg, tt.msg) || !strings.HasPrefix(he.Msg, "request body ") {
				t.Fatalf("got message %q, want it to start with \"request body \" and contain %q", he.Msg, tt.msg)
			}
			if after := reflect.ValueOf(v).Elem().Interface(); !reflect.DeepEqual(before, after) {
				t.Fatalf("got %+v after a refused body, want it untouched (%+v)", after, before)
			}
		})
	}
}

// TestDecodeJSONDepthLimit: 32 levels pass, 33 do not.
func TestDecodeJSONDepthLimit(t *testing.T) {
	var v any
	nested := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	if err := httptransport.DecodeJSONBytes(nested(httptransport.MaxJSONDepth), &v); err != nil {
		t.Fatalf("%d levels: got %v, want nil", httptransport.MaxJSONDepth, err)
	}
	if err := httptransport.DecodeJSONBytes(nested(httptransport.MaxJSONDepth+1), &v); err == nil || !strings.Contains(err.Error(), "nests deeper than 32 levels") {
		t.Fatalf("%d levels: got %v, want a nesting error", httptransport.MaxJSONDepth+1, err)
	}
}

func TestDecodeJSONSizeLimit(t *testing.T) {
	body := `{"description":"` + strings.Repeat("x", 100) + `"}`
	var c catalog.Component
	err := httptransport.DecodeJSONReader(strings.NewReader(body), &c, 50)
	var he *httptransport.Error
	if !errors.As(err, &he) || he.Code != http.StatusRequestEntityTooLarge || he.Msg != "request body is larger than the limit of 50 bytes" {
		t.Fatalf("got %v, want a 413 naming the limit of 50 bytes", err)
	}
	if err := httptransport.DecodeJSONReader(strings.NewReader(body), &c, int64(len(body))); err != nil {
		t.Fatalf("body at the limit: got %v, want nil", err)
	}
	// A limit set by BodyLimit before the decoder is a 413 too.
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 20)
	if err := httptransport.DecodeJSON(r, &c, 0); !errors.As(err, &he) || he.Code != http.StatusRequestEntityTooLarge || !strings.Contains(he.Msg, "limit of 20 bytes") {
		t.Fatalf("got %v, want a 413 naming the limit of 20 bytes", err)
	}
}

func TestDecodeJSONNotAPointer(t *testing.T) {
	var c catalog.Component
	var he *httptransport.Error
	if err := httptransport.DecodeJSONBytes([]byte(`{}`), c); !errors.As(err, &he) || he.Code != http.StatusInternalServerError {
		t.Fatalf("got %v, want a 500 (a programming error, not the client's)", err)
	}
}

// TestDecodeJSONKeepsOmittedFields: as with encoding/json, a field the body omits keeps
// the value *v had.
func TestDecodeJSONKeepsOmittedFields(t *testing.T) {
	type req struct {
		Qty   int    `json:"qty"`
		Color string `json:"color"`
	}
	v := req{Qty: 1, Color: "red"}
	if err := httptransport.DecodeJSONBytes([]byte(`{"qty":5}`), &v); err != nil {
		t.Fatal(err)
	}
	if v != (req{Qty: 5, Color: "red"}) {
		t.Fatalf("got %+v, want qty 5 and color red", v)
	}
}

// celsius decodes itself from "21.5C".
type celsius float64

func (c *celsius) UnmarshalText(b []byte) error {
	s, ok := strings.CutSuffix(string(b), "C")
	if !ok {
		return errors.New("temperature must end in C")
	}
	var f float64
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return err
	}
	*c = celsius(f)
	return nil
}

func (c celsius) MarshalText() ([]byte, error) {
	b, err := json.Marshal(float64(c))
	return append(b, 'C'), err
}

type inner struct {
	Deep string `json:"deep"`
}

// Promoted and Other both have Both: encoding/json decodes neither.
type Promoted struct {
	Both string
	Own  int `json:"own"`
}

type Other struct {
	Both string
}

// kinds holds the types encoding/json decodes in ways of their own.
type kinds struct {
	Promoted
	Other
	ID      int64           `json:"id,string"`
	Opt     *int            `json:"opt"`
	Raw     json.RawMessage `json:"raw"`
	Temp    celsius         `json:"temp"`
	Bytes   []byte          `json:"bytes"`
	Num     json.Number     `json:"num"`
	ByID    map[int]string  `json:"byId"`
	Pair    [2]int          `json:"pair"`
	Ptrs    []*inner        `json:"ptrs"`
	Any     any             `json:"any"`
	Ignored string          `json:"-"`
	Untag   string
	Times   map[string]string `json:"times,omitempty"`
}

func TestDecodeJSONTypes(t *testing.T) {
	ok := `{"own":1,"id":"42","opt":null,"raw":{"a":[1,"x"]},"temp":"21.5C","bytes":"aGk=","num":1.5e3,
		"byId":{"7":"seven"},"pair":[1,2],"ptrs":[{"deep":"d"},null],"any":{"k":[true,null]},"Untag":"u"}`
	var v kinds
	if err := httptransport.DecodeJSONBytes([]byte(ok), &v); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	var std kinds
	if err := json.Unmarshal([]byte(ok), &std); err != nil || !reflect.DeepEqual(v, std) {
		t.Fatalf("got %+v, want what encoding/json reads: %+v (%v)", v, std, err)
	}
	tests := []struct{ name, body, field, detail string }{
		{"ambiguous promoted field", `{"Both":"x"}`, "Both", "is not a known field"},
		{"skipped field", `{"Ignored":"x"}`, "Ignored", "is not a known field"},
		{"string option unquoted", `{"id":42}`, "id", "must be a string holding an integer"},
		{"string option not a number", `{"id":"4x"}`, "id", "must be a string holding an integer"},
		{"text type from a number", `{"temp":21.5}`, "temp", "must be a string, got a number"},
		{"text type own error", `{"temp":"21.5F"}`, "", ""},
		{"raw message keeps the rules", `{"raw":{"a":1,"a":2}}`, "raw[a]", "appears more than once"},
		{"bad base64", `{"bytes":"%%%"}`, "bytes", "must be base64"},
		{"number from a string", `{"num":"1.5x"}`, "num", "must be a number"},
		{"map key not an integer", `{"byId":{"seven":"7"}}`, "byId[seven]", "must have keys that are integers"},
		{"map key twice as integers", `{"byId":{"7":"a","07":"b"}}`, "byId[07]", "written plainly"},
		{"array too long", `{"pair":[1,2,3]}`, "pair", "must have at most 2 items"},
		{"null in an array", `{"pair":[1,null]}`, "pair[1]", "must be an integer, got null"},
		{"unknown field under a pointer", `{"ptrs":[{"deep":"d","x":1}]}`, "ptrs[0].x", "is not a known field"},
		{"wrong case, Go name", `{"untag":"u"}`, "untag", "is not a known field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := kinds{Untag: "untouched"}
			err := httptransport.DecodeJSONBytes([]byte(tt.body), &v)
			var he *httptransport.Error
			if !errors.As(err, &he) || he.Code != http.StatusBadRequest {
				t.Fatalf("got %v, want a 400 *httptransport.Error", err)
			}
			if tt.field == "" {
				if len(he.Fields) != 0 || !strings.Contains(he.Msg, "must end in C") {
					t.Fatalf("got %+v, want the type's own error in the message", he)
				}
			} else if len(he.Fields) != 1 || he.Fields[0].Field != tt.field || !strings.Contains(he.Fields[0].Detail, tt.detail) {
				t.Fatalf("got %q %+v, want field %q with a detail containing %q", he.Msg, he.Fields, tt.field, tt.detail)
			}
			if v.Untag != "untouched" {
				t.Fatalf("got %+v after a refused body, want it untouched", v)
			}
		})
	}
}

// TestDecodeJSONRequestNewRules: what a service's go-kit endpoint newly refuses, as its
// client sees it: 400 problem+json naming the field.
func TestDecodeJSONRequestNewRules(t *testing.T) {
	type order struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	srv := httptransport.NewServer(
		func(_ context.Context, request any) (any, error) { return request, nil },
		httptransport.DecodeJSONRequest[order](0), httptransport.EncodeJSON)
	for body, field := range map[string]string{
		`{"sku":"a","qty":1,"qty":1000}`: "qty",
		`{"SKU":"a","qty":1}`:            "SKU",
		`{"sku":"a\u0000","qty":1}`:      "sku",
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		srv.ServeHTTP(w, r)
		var p httptransport.Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if w.Code != 400 || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%s: got %d %s, want 400 naming %s", body, w.Code, w.Body, field)
		}
	}
}

// fuzzDecode checks what every body's decoding must hold: no panic; an error is a 400 or
// 413 *Error; an accepted body is valid JSON that encoding/json, refusing unknown
// fields, reads as the same value; the value's own JSON is accepted and reads back the
// same.
func fuzzDecode[T any](f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v T
		err := httptransport.DecodeJSONReader(bytes.NewReader(body), &v, 4096)
		if err != nil {
			var he *httptransport.Error
			if !errors.As(err, &he) || (he.Code != 400 && he.Code != 413) {
				t.Fatalf("got %T %v, want a 400 or 413 *httptransport.Error", err, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var std T
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&std); err != nil || !reflect.DeepEqual(std, v) {
			t.Fatalf("encoding/json reads %+v (%v) in %q, want %+v as decoded", std, err, body, v)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("encoding/json finds more after the value in %q (%v), which was accepted", body, err)
		}
		if vv, ok := any(&v).(interface{ Validate() error }); ok {
			_ = vv.Validate() // must not panic on any decoded value
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("got %v marshalling %+v, want nil", err, v)
		}
		var w T
		if err := httptransport.DecodeJSONBytes(again, &w); err != nil {
			t.Fatalf("got %v decoding our own %s, want nil", err, again)
		}
		if !reflect.DeepEqual(normalize(v), normalize(w)) {
			t.Fatalf("got %+v after a round trip, want %+v", w, v)
		}
	})
}

// normalize marshals v to compare values whose empty slices and maps became nil.
func normalize(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func FuzzDecodeJSONComponent(f *testing.F) {
	fuzzDecode[catalog.Component](f,
		`{"name":"orders","owner":"team-a","type":"service","tier":2,"lifecycle":"production","links":{"runbook":"https://x"},"dependsOn":["a"],"providesApis":["o.v1"],"labels":{"a":"b"}}`,
		`{"name":"a","name":"b"}`,
		`{"labels":{"a":"1","a":"2"}}`,
		`{"tier":1e5}`,
		`{"name":"a"} x`,
		`{"Name":"a"}`,
		`{"name":"\u00e9\ud83d\ude00\n"}`,
	)
}

func FuzzDecodeJSONInstance(f *testing.F) {
	fuzzDecode[catalog.Instance](f,
		`{"id":"i-1","component":"orders","version":"1.0","addresses":{"http":"127.0.0.1:8080","admin":"[::1]:9090"},"startedAt":"2026-01-02T03:04:05Z","ttlSeconds":30,"status":"passing","metadata":{"zone":"a"}}`,
		`{"startedAt":"2026-01-02T03:04:05.123456789+02:00"}`,
		`{"addresses":{"http":"169.254.169.254:80"}}`,
		`{"ttlSeconds":-1,"expired":true}`,
	)
}

func FuzzDecodeJSONScorecard(f *testing.F) {
	fuzzDecode[catalog.Scorecard](f,
		`{"component":"orders","instance":"i-1","ruleSetVersion":"1","score":80,"passed":["a"],"failed":[{"id":"b","level":"error","message":"m"}]}`,
		`{"failed":[{"id":"b","id":"c"}]}`,
		`{"score":null}`,
	)
}

func FuzzDecodeJSONDeploymentEvent(f *testing.F) {
	fuzzDecode[catalog.DeploymentEvent](f,
		`{"pipeline":null}`,
		`{"pipeline":{}}`,
	)
}

func FuzzDecodeJSONKinds(f *testing.F) {
	fuzzDecode[kinds](f,
		`{"own":1,"id":"42","opt":null,"raw":{"a":[1,"x"]},"temp":"21.5C","bytes":"aGk=","num":1.5e3,"byId":{"7":"seven"},"pair":[1,2],"ptrs":[{"deep":"d"},null],"any":{"k":[true,null]},"Untag":"u"}`,
		`{"id":"-9223372036854775808","byId":{"-1":""},"num":-0.0e-0}`,
	)
}

func FuzzDecodeJSONAny(f *testing.F) {
	fuzzDecode[any](f, `{"a":[1,2.5,"x",null,true,{"b":{}}]}`, `"\u0041"`, `-0`, `[[[]]]`)
}

// BenchmarkDecodeJSON decodes the body an agent's heartbeat carries: strictly, with
// plain json.Unmarshal (no rule checked) as the baseline of the same run, and with a bare
// walk over json.Decoder.Token (no rule checked either), the cost a Token-based walk
// could not go under.
func BenchmarkDecodeJSON(b *testing.B) {
	body := []byte(`{"id":"orders-7f9c2b-1","component":"orders","version":"1.4.2","addresses":{"http":"10.0.3.17:8080","admin":"10.0.3.17:9090","grpc":"10.0.3.17:9000"},` +
		`"startedAt":"2026-11-25T10:04:05.123456789Z","ttlSeconds":30,"status":"passing","metadata":{"environment":"production","region":"eu-west-1","zone":"eu-west-1a"}}`)
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in catalog.Instance
			if err := httptransport.DecodeJSONReader(bytes.NewReader(body), &in, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in catalog.Instance
			if err := json.Unmarshal(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Token walk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
