package core

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
)

var timeType = reflect.TypeFor[time.Time]()

// fill sets every field reachable from v (slices and maps get one element, pointers a
// value) to a value derived from seed, so that two fills with different seeds differ
// in every leaf.
func fill(t *testing.T, v reflect.Value, seed int) {
	t.Helper()
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, seed, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+seed)))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(seed + 1))
	case reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(seed + 1))
	case reflect.Float64:
		v.SetFloat(float64(seed + 1))
	case reflect.Bool:
		v.SetBool(seed%2 == 0)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), seed)
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(t, v.Elem(), seed)
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := range v.Len() {
			fill(t, v.Index(i), seed)
		}
	case reflect.Map:
		if v.Len() == 0 {
			m := reflect.MakeMap(v.Type())
			k := reflect.New(v.Type().Key()).Elem()
			fill(t, k, 0) // the same key for every seed: the values change
			m.SetMapIndex(k, reflect.Zero(v.Type().Elem()))
			v.Set(m)
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(t, e, seed)
			v.SetMapIndex(k, e)
		}
	default:
		t.Fatalf("fill: %s (%s) is not handled: teach fill and CloneHistory about it", v.Type(), v.Kind())
	}
}

// TestCloneHistoryIsDeep changes every field reachable from a copy and checks that the
// original did not change: a field added to History (or to what it holds) that
// CloneHistory shares fails it.
func TestCloneHistoryIsDeep(t *testing.T) {
	var orig, want catalog.History
	fill(t, reflect.ValueOf(&orig).Elem(), 1)
	fill(t, reflect.ValueOf(&want).Elem(), 1)
	c := CloneHistory(&orig)
	if !reflect.DeepEqual(c, orig) {
		t.Fatalf("the copy differs from the original:\n%+v\n%+v", c, orig)
	}
	fill(t, reflect.ValueOf(&c).Elem(), 2)
	if reflect.DeepEqual(c, orig) {
		t.Fatal("fill did not change the copy")
	}
	if !reflect.DeepEqual(orig, want) {
		t.Fatalf("changing the copy changed the original:\n%+v\nwant\n%+v", orig, want)
	}
}

func TestUpdateDecodedHistory(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	add := func(h *catalog.History) (bool, error) {
		h.Deployments = append(h.Deployments, catalog.Deployment{ID: "o-1", Version: "1.0.0", StartedAt: at, Pipeline: &catalog.Pipeline{PipelineID: "p"}})
		h.Running = map[string]int{}
		return true, nil
	}
	h, kept, err := UpdateDecodedHistory(nil, "svc", "prod", add)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Deployments) != 1 || kept == nil {
		t.Fatalf("got %+v, kept %v", h, kept)
	}
	// What is kept is what a store keeping the encoding decodes.
	raw, _ := json.Marshal(&h)
	dec, err := DecodeHistory(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*kept, dec) {
		t.Fatalf("kept\n%+v\nwant the decoded encoding\n%+v", *kept, dec)
	}
	// The caller's history is not the one kept.
	h.Deployments[0].Pipeline.PipelineID = "changed"
	if kept.Deployments[0].Pipeline.PipelineID != "p" {
		t.Fatal("the caller's history shares memory with the one kept")
	}
	// fn runs on a copy of the kept history, and a read-only fn writes nothing.
	h2, none, err := UpdateDecodedHistory(kept, "svc", "prod", func(h *catalog.History) (bool, error) {
		h.Deployments[0].Version = "2.0.0"
		return false, nil
	})
	if err != nil || none != nil || h2.Deployments[0].Version != "2.0.0" || kept.Deployments[0].Version != "1.0.0" {
		t.Fatalf("read-only update: got %+v, %v, %v; kept %+v", h2, none, err, kept)
	}
	// A rename is refused, an error of fn returned.
	_, _, err = UpdateDecodedHistory(kept, "svc", "prod", func(h *catalog.History) (bool, error) { h.Component = "other"; return true, nil })
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("rename: got %v, want a ValidationError", err)
	}
	boom := errors.New("boom")
	if _, _, err := UpdateDecodedHistory(kept, "svc", "prod", func(*catalog.History) (bool, error) { return true, boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
}
