package httptransport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// EncodeJSONRequest is a go-kit EncodeRequestFunc that writes request as the JSON body
// and, unlike go-kit's own, leaves the request replayable (GetBody and ContentLength
// set), so a resilience policy may retry it: a POST still needs an idempotency mark
// (an Idempotency-Key header or resilience.Idempotent) to be retried.
func EncodeJSONRequest(_ context.Context, r *http.Request, request any) error {
	b, err := json.Marshal(request)
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.ContentLength = int64(len(b))
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}
