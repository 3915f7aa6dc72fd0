package httptransport_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/paved-road/paved/transport/httptransport"
)

func TestEncodeJSONRequestIsReplayable(t *testing.T) {
	r, _ := http.NewRequest("POST", "http://inventory/reservations", nil)
	if err := httptransport.EncodeJSONRequest(context.Background(), r, map[string]int{"quantity": 2}); err != nil {
		t.Fatal(err)
	}
	first, _ := io.ReadAll(r.Body)
	again, err := r.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	second, _ := io.ReadAll(again)
	if string(first) != `{"quantity":2}` || string(second) != string(first) || r.ContentLength != int64(len(first)) {
		t.Errorf("got %q then %q (length %d), want the same JSON twice", first, second, r.ContentLength)
	}
}
