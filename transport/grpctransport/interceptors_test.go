package grpctransport_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/httptransport"
)

var info = &grpc.UnaryServerInfo{FullMethod: "/grpc.testing.TestService/UnaryCall"}

func TestRequestIDUnaryTable(t *testing.T) {
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"well-formed kept", "req-1.a_b:c", true},
		{"missing generated", "", false},
		{"space rejected", "bad id", false},
		{"too long rejected", strings.Repeat("a", 129), false},
		{"newline rejected", "a\nb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.in != "" {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(grpctransport.RequestIDKey, tt.in))
			}
			var got string
			_, err := grpctransport.RequestIDUnary()(ctx, nil, info, func(ctx context.Context, _ any) (any, error) {
				got = httptransport.RequestIDFrom(ctx)
				return nil, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.keep && got != tt.in:
				t.Errorf("got %q, want %q", got, tt.in)
			case !tt.keep && (got == tt.in || len(got) != 32):
				t.Errorf("got %q, want a new 32-character id", got)
			}
		})
	}
}

func TestRecoverUnaryTable(t *testing.T) {
	tests := []struct {
		name     string
		handler  grpc.UnaryHandler
		wantCode codes.Code
		wantLog  bool
	}{
		{"panic string", func(context.Context, any) (any, error) { panic("secret state") }, codes.Internal, true},
		{"panic error", func(context.Context, any) (any, error) { panic(errors.New("secret error")) }, codes.Internal, true},
		{"no panic", func(context.Context, any) (any, error) { return "ok", nil }, codes.OK, false},
		{"error passes", func(context.Context, any) (any, error) { return nil, status.Error(codes.NotFound, "no item") }, codes.NotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			_, err := grpctransport.RecoverUnary(logger)(context.Background(), nil, info, tt.handler)
			if c := status.Code(err); c != tt.wantCode {
				t.Errorf("code: got %v, want %v", c, tt.wantCode)
			}
			if strings.Contains(status.Convert(err).Message(), "secret") {
				t.Errorf("message: got %q, want no panic text", status.Convert(err).Message())
			}
			if got := strings.Contains(logs.String(), "secret") && strings.Contains(logs.String(), "goroutine"); got != tt.wantLog {
				t.Errorf("panic and stack logged: got %v, want %v (%s)", got, tt.wantLog, logs.String())
			}
		})
	}
}

func TestMetricsUnaryTable(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := grpctransport.NewServerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	mw := grpctransport.MetricsUnary(m)
	tests := []struct {
		method string
		err    error
		want   string
	}{
		{"/grpc.testing.TestService/UnaryCall", nil, `error_type="",rpc_method="grpc.testing.TestService/UnaryCall",rpc_response_status_code="OK",rpc_system_name="grpc"`},
		{"/grpc.testing.TestService/UnaryCall", status.Error(codes.NotFound, "x"), `error_type="",rpc_method="grpc.testing.TestService/UnaryCall",rpc_response_status_code="NOT_FOUND"`},
		{"/grpc.testing.TestService/EmptyCall", status.Error(codes.Code(99), "x"), `error_type="",rpc_method="grpc.testing.TestService/EmptyCall",rpc_response_status_code="_OTHER"`},
		{"/grpc.testing.TestService/EmptyCall", errors.New("plain"), `error_type="UNKNOWN",rpc_method="grpc.testing.TestService/EmptyCall",rpc_response_status_code="UNKNOWN"`},
	}
	for _, tt := range tests {
		_, _ = mw(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: tt.method}, func(context.Context, any) (any, error) { return nil, tt.err })
	}
	var buf bytes.Buffer
	if n := testutil.CollectAndCount(reg, grpctransport.MetricServerDuration); n != 4 {
		t.Errorf("series: got %d, want 4", n)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			var l []string
			for _, lp := range mt.GetLabel() {
				l = append(l, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			buf.WriteString(strings.Join(l, ",") + "\n")
		}
	}
	for _, tt := range tests {
		if !strings.Contains(buf.String(), tt.want) {
			t.Errorf("series: got\n%s\nwant one containing %s", buf.String(), tt.want)
		}
	}
}

func TestDeadlineUnaryTable(t *testing.T) {
	tests := []struct {
		name       string
		max        time.Duration
		caller     time.Duration // 0: no caller deadline
		wantMax    time.Duration
		wantNoDead bool
	}{
		{"no caller deadline gets max", time.Second, 0, time.Second, false},
		{"earlier caller deadline kept", time.Second, 100 * time.Millisecond, 100 * time.Millisecond, false},
		{"later caller deadline cut", time.Second, time.Hour, time.Second, false},
		{"no max keeps none", 0, 0, 0, true},
		{"no max keeps caller's", 0, time.Minute, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.caller > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.caller)
				defer cancel()
			}
			start := time.Now()
			_, _ = grpctransport.DeadlineUnary(tt.max)(ctx, nil, info, func(ctx context.Context, _ any) (any, error) {
				dl, ok := ctx.Deadline()
				if ok == tt.wantNoDead {
					t.Fatalf("has deadline: got %v, want %v", ok, !tt.wantNoDead)
				}
				if d := dl.Sub(start); ok && (d > tt.wantMax+50*time.Millisecond || d < tt.wantMax-50*time.Millisecond) {
					t.Errorf("deadline in: got %v, want about %v", d, tt.wantMax)
				}
				return nil, nil
			})
		})
	}
}

func TestCodeName(t *testing.T) {
	tests := []struct {
		c    codes.Code
		want string
	}{{codes.OK, "OK"}, {codes.Canceled, "CANCELLED"}, {codes.DeadlineExceeded, "DEADLINE_EXCEEDED"}, {codes.Unauthenticated, "UNAUTHENTICATED"}, {codes.Code(17), "_OTHER"}, {codes.Code(1 << 30), "_OTHER"}}
	for _, tt := range tests {
		if got := grpctransport.CodeName(tt.c); got != tt.want {
			t.Errorf("CodeName(%d): got %q, want %q", tt.c, got, tt.want)
		}
	}
}
