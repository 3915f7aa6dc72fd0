package httptransport_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/transport/httptransport"
)

// chunkedUpload sends a raw chunked POST of total bytes (a 6-byte chunk, then 32 KiB
// chunks) to addr and
// returns the response, or an error when the server closed the connection before
// answering. The sender stops when the server closes the connection.
func chunkedUpload(t *testing.T, addr, path string, total int) (*http.Response, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	header := "POST " + path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
	if _, err := io.WriteString(conn, header); err != nil {
		t.Fatal(err)
	}
	go func() {
		// The body starts as a JSON object with one long string, so a JSON decoder
		// reads on until the limit.
		if _, err := io.WriteString(conn, "6\r\n{\"k\":\"\r\n"); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				return // the server closed the connection
			}
		}
		_, _ = io.WriteString(conn, "0\r\n\r\n")
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	// After the answer the server must close the connection: the next read ends.
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("connection still open after the answer, want it closed")
	}
	return resp, nil
}

// waitQuiet waits until the counted bytes stop growing (the server stopped reading).
func waitQuiet(cl *countingListener) int64 {
	last := cl.read.Load()
	for {
		time.Sleep(50 * time.Millisecond)
		n := cl.read.Load()
		if n == last {
			return n
		}
		last = n
	}
}

// TestBodyLimitStackChunkedOverLoopback: a 16 MiB chunked upload to a server built with
// Stack (the 1 MiB default limit) over a real TCP socket, counting the bytes the
// server reads from it. When the route reads the body (and hits the limit) or decodes
// it as JSON, the server reads at most the limit plus 4 KiB past the request head; when
// the route does not read it (a 404, a handler that ignores it), at most its 4 KiB read
// buffer. Either way it answers and closes the connection instead of reading on
// (net/http would read up to 256 KiB more to keep the connection).
func TestBodyLimitStackChunkedOverLoopback(t *testing.T) {
	const limit = httptransport.DefaultMaxBodyBytes
	const upload = 16 << 20
	// Chunk framing: "8000\r\n" before and "\r\n" after each 32 KiB chunk, and the
	// first 6-byte chunk with its framing.
	framing := func(n int64) int64 { return 8*(n/(32<<10)+2) + 11 }
	tests := []struct {
		name     string
		path     string
		wantCode int
		maxRead  int64 // past the request head
	}{
		{"handler reads to the limit", "/upload", 413, limit + 4<<10 + framing(limit)},
		{"strict JSON decoding", "/json", 413, limit + 4<<10 + framing(limit)},
		// Nothing read by the handler: no more than the server's 4 KiB read buffer.
		{"route not found", "/nope", 404, 4<<10 + framing(4<<10)},
		{"handler reads nothing", "/ignore", 200, 4<<10 + framing(4<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					return
				}
				fmt.Fprint(w, "ok")
			})
			mux.HandleFunc("POST /json", func(w http.ResponseWriter, r *http.Request) {
				var v map[string]any
				if err := httptransport.DecodeJSON(r, &v, 0); err != nil {
					httptransport.WriteError(w, r, nil, err)
					return
				}
			})
			mux.HandleFunc("POST /ignore", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
			h, err := httptransport.Stack(mux, httptransport.StackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cl := &countingListener{Listener: ln}
			srv := &http.Server{Handler: h}
			go func() { _ = srv.Serve(cl) }()
			defer srv.Close()

			resp, err := chunkedUpload(t, ln.Addr().String(), tt.path, upload)
			if err != nil {
				t.Fatalf("got %v, want an answer", err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status got %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if tt.wantCode == 413 {
				if p := decodeProblem(t, resp); p.Status != 413 {
					t.Errorf("problem got %+v, want status 413", p)
				}
			}
			head := int64(len("POST " + tt.path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"))
			n := waitQuiet(cl) - head
			t.Logf("server read %d body bytes (limit %d)", n, limit)
			if n > tt.maxRead {
				t.Errorf("server read %d bytes past the head, want at most %d", n, tt.maxRead)
			}
		})
	}
}

// TestBodyLimitKeepsConnection: a chunked body read to its end and a declared body
// under the limit keep the connection for the next request; a chunked body left
// unread closes it.
func TestBodyLimitKeepsConnection(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /read", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("POST /ignore", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	h, err := httptransport.Stack(mux, httptransport.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		name      string
		path      string
		chunked   bool
		wantReuse bool
	}{
		{"chunked, read", "/read", true, true},
		{"declared, read", "/read", false, true},
		{"declared, unread", "/ignore", false, true},
		{"chunked, unread", "/ignore", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			var reused []bool
			for range 2 {
				var body io.Reader = strings.NewReader(`{"k":"v"}`)
				if tt.chunked {
					body = io.MultiReader(body) // no length known: sent chunked
				}
				req, _ := http.NewRequest("POST", srv.URL+tt.path, body)
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
					GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) },
				}))
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("status got %d, want 200", resp.StatusCode)
				}
			}
			if len(reused) != 2 || reused[1] != tt.wantReuse {
				t.Errorf("second request reused the connection: got %v, want %v", reused, tt.wantReuse)
			}
		})
	}
}
