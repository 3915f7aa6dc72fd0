package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
)

// fuzzDecode checks the properties every write body's decoding must have: no panic, an
// error is always a *DecodeError, and an accepted body is valid JSON that decodes to a
// value whose own JSON decodes back to the same value.
func fuzzDecode[T any](f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v T
		err := server.DecodeStrict(bytes.NewReader(body), 4096, &v)
		if err != nil {
			var de *server.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %T %v, want *server.DecodeError", err, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		// The accepted body means what encoding/json reads in it.
		var std T
		if err := json.Unmarshal(body, &std); err != nil || !reflect.DeepEqual(std, v) {
			t.Fatalf("encoding/json reads %+v (%v) in %q, want %+v as decoded", std, err, body, v)
		}
		if vv, ok := any(&v).(interface{ Validate() error }); ok {
			_ = vv.Validate() // must not panic on any decoded value
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("got %v marshalling %+v, want nil", err, v)
		}
		var w T
		if err := server.DecodeStrict(bytes.NewReader(again), 1<<20, &w); err != nil {
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

func FuzzDecodeComponent(f *testing.F) {
	fuzzDecode[catalog.Component](f,
		`{"name":"orders","owner":"team-a","type":"service","tier":2,"lifecycle":"production","links":{"runbook":"https://x"},"dependsOn":["a"],"providesApis":["o.v1"],"labels":{"a":"b"}}`,
		`{"name":"a","name":"b"}`,
		`{"labels":{"a":"1","a":"2"}}`,
		`{"tier":1e5}`,
		`{"name":"a"} x`,
		`{"Name":"a"}`,
	)
}

func FuzzDecodeInstance(f *testing.F) {
	fuzzDecode[catalog.Instance](f,
		`{"id":"i-1","component":"orders","version":"1.0","addresses":{"http":"127.0.0.1:8080","admin":"[::1]:9090"},"startedAt":"2026-01-02T03:04:05Z","ttlSeconds":30,"status":"passing","metadata":{"zone":"a"}}`,
		`{"startedAt":"2026-01-02T03:04:05.123456789+02:00"}`,
		`{"addresses":{"http":"169.254.169.254:80"}}`,
		`{"ttlSeconds":-1,"expired":true}`,
	)
}

func FuzzDecodeScorecard(f *testing.F) {
	fuzzDecode[catalog.Scorecard](f,
		`{"component":"orders","instance":"i-1","ruleSetVersion":"1","score":80,"passed":["a"],"failed":[{"id":"b","level":"error","message":"m"}]}`,
		`{"failed":[{"id":"b","id":"c"}]}`,
		`{"score":null}`,
	)
}
