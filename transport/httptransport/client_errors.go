package httptransport

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/paved-road/paved/problem"
)

// maxResponseBytes bounds the JSON answers [DecodeJSONResponse] reads.
const maxResponseBytes = 10 << 20

// ResponseError is a dependency's answer with a status other than 2xx, as
// [DecodeJSONResponse] returns it.
type ResponseError struct {
	// Host is the host that answered (an instance's address with discovery).
	Host string
	// Code is the answer's status code.
	Code int
	// Problem is the answer's problem+json body, when it had one.
	Problem *Problem
	// Wait is the answer's Retry-After; zero when absent.
	Wait time.Duration
}

// Error describes the answer, for logs.
func (e *ResponseError) Error() string {
	s := fmt.Sprintf("httptransport: %s answered %d %s", e.Host, e.Code, http.StatusText(e.Code))
	if e.Problem != nil && e.Problem.Detail != "" {
		s += ": " + e.Problem.Detail
	}
	return s
}

// StatusCode returns the answer's status, as go-kit's StatusCoder. A server passing the
// error on answers with this status; wrap it in an [*Error] to choose another.
func (e *ResponseError) StatusCode() int { return e.Code }

// RetryAfter returns the answer's Retry-After (0 when absent), for the retry loop.
func (e *ResponseError) RetryAfter() time.Duration { return e.Wait }

func newResponseError(resp *http.Response) *ResponseError {
	e := &ResponseError{Code: resp.StatusCode}
	if resp.Request != nil && resp.Request.URL != nil {
		e.Host = resp.Request.URL.Host
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.Wait = time.Duration(s) * time.Second
	}
	if p, ok := problem.FromResponse(resp); ok {
		e.Problem = p
	}
	return e
}

func jsonDecodeLimited(resp *http.Response, v any) error {
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("httptransport: decoding a %d answer: %w", resp.StatusCode, err)
	}
	return nil
}
