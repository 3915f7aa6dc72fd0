package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
)

func TestDecodeStrictAcceptsValid(t *testing.T) {
	body := `{"name":"orders","owner":"team-a","type":"service","tier":2,"lifecycle":"production",
		"links":{"runbook":"https://wiki.example.com/rb"},"dependsOn":["inventory"],"labels":{"a":"b"}}`
	var c catalog.Component
	if err := server.DecodeStrict(strings.NewReader(body), 0, &c); err != nil {
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
	if err := server.DecodeStrict(strings.NewReader(ib), 0, &in); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if !in.StartedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || in.TTLSeconds != 30 {
		t.Fatalf("got %+v, want startedAt 2026-01-02T03:04:05Z and ttl 30", in)
	}
}

func TestDecodeStrictRejects(t *testing.T) {
	tests := []struct {
		name, body, field, msg string
	}{
		{"unknown field", `{"name":"a","color":"red"}`, "color", "is not a known field"},
		{"unknown nested field", `{"links":{"wiki":"https://x"}}`, "links.wiki", "is not a known field"},
		{"wrong case", `{"Name":"a"}`, "Name", "is not a known field"},
		{"duplicate key", `{"name":"a","owner":"b","name":"c"}`, "name", "appears more than once"},
		{"duplicate nested key", `{"links":{"docs":"https://a","docs":"https://b"}}`, "links.docs", "appears more than once"},
		{"duplicate map key", `{"labels":{"a":"1","a":"2"}}`, "labels[a]", "appears more than once"},
		{"trailing data", `{"name":"a"} {"name":"b"}`, "", "has data after the JSON value"},
		{"trailing garbage", `{"name":"a"}x`, "", "has data after the JSON value"},
		{"wrong type string", `{"name":1}`, "name", "must be a string, got a number"},
		{"wrong type int", `{"tier":"1"}`, "tier", "must be an integer, got a string"},
		{"fraction", `{"tier":1.5}`, "tier", "must be an integer that fits in 64 bits"},
		{"overflow", `{"tier":1e400}`, "tier", "must be an integer"},
		{"null string", `{"name":null}`, "name", "must be a string, got null"},
		{"array item type", `{"dependsOn":["a",2]}`, "dependsOn[1]", "must be a string, got a number"},
		{"map value type", `{"labels":{"a":{}}}`, "labels[a]", "must be a string, got an object"},
		{"not an object", `[1,2]`, "", "must be an object, got an array"},
		{"empty", `  `, "", "is empty"},
		{"truncated", `{"name":"a"`, "", "is truncated"},
		{"syntax", `{"name" "a"}`, "name", "is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := catalog.Component{Name: "untouched"}
			err := server.DecodeStrict(strings.NewReader(tt.body), 0, &c)
			var de *server.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want *server.DecodeError", err)
			}
			if de.Field != tt.field || !strings.Contains(de.Message, tt.msg) {
				t.Fatalf("got field %q message %q, want field %q message containing %q", de.Field, de.Message, tt.field, tt.msg)
			}
			if c.Name != "untouched" {
				t.Fatalf("got name %q after a failed decode, want it untouched", c.Name)
			}
		})
	}
}

func TestDecodeStrictTime(t *testing.T) {
	var in catalog.Instance
	err := server.DecodeStrict(strings.NewReader(`{"startedAt":"yesterday"}`), 0, &in)
	var de *server.DecodeError
	if !errors.As(err, &de) || de.Field != "startedAt" {
		t.Fatalf("got %v, want a DecodeError on startedAt", err)
	}
}

func TestDecodeStrictSizeLimit(t *testing.T) {
	body := `{"description":"` + strings.Repeat("x", 100) + `"}`
	var c catalog.Component
	err := server.DecodeStrict(strings.NewReader(body), 50, &c)
	if !errors.Is(err, server.ErrBodyTooLarge) {
		t.Fatalf("got %v, want ErrBodyTooLarge", err)
	}
	if err := server.DecodeStrict(strings.NewReader(body), int64(len(body)), &c); err != nil {
		t.Fatalf("body at the limit: got %v, want nil", err)
	}
}

func TestDecodeStrictDepthLimit(t *testing.T) {
	type anyBody struct {
		X any `json:"x"`
	}
	deep := `{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	var v anyBody
	err := server.DecodeStrict(strings.NewReader(deep), 0, &v)
	var de *server.DecodeError
	if !errors.As(err, &de) || !strings.Contains(de.Message, "deeper") {
		t.Fatalf("got %v, want a nesting error", err)
	}
	dupInAny := `{"x":{"a":1,"a":2}}`
	err = server.DecodeStrict(strings.NewReader(dupInAny), 0, &v)
	if !errors.As(err, &de) || de.Field != "x[a]" {
		t.Fatalf("got %v, want a duplicate error on x[a]", err)
	}
}

// BenchmarkDecodeStrict decodes the body an agent's heartbeat carries, against plain
// json.Unmarshal of the same body (no strictness) as the baseline of the same run.
func BenchmarkDecodeStrict(b *testing.B) {
	body := []byte(`{"id":"orders-7f9c2b-1","component":"orders","version":"1.4.2","addresses":{"http":"10.0.3.17:8080","admin":"10.0.3.17:9090","grpc":"10.0.3.17:9000"},` +
		`"startedAt":"2026-11-25T10:04:05.123456789Z","ttlSeconds":30,"status":"passing","metadata":{"environment":"production","region":"eu-west-1","zone":"eu-west-1a"}}`)
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in catalog.Instance
			if err := server.DecodeStrict(bytes.NewReader(body), 0, &in); err != nil {
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
}
