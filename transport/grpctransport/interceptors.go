package grpctransport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/transport/httptransport"
)

// RequestIDKey is the metadata key that carries a call's request id (gRPC metadata
// keys are lower case).
const RequestIDKey = "x-request-id"

// RequestIDUnary returns an interceptor that gives every call a request id: the
// caller's x-request-id when well-formed (1 to 128 letters, digits and "-_.:"), else a
// new random one. The id is sent back in the response header and put in the context,
// where httptransport.RequestIDFrom reads it (so logs and outgoing HTTP and gRPC calls
// carry it).
func RequestIDUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(withRequestID(ctx), req)
	}
}

// RequestIDStream is [RequestIDUnary] for streaming calls.
func RequestIDStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &ctxStream{ServerStream: ss, ctx: withRequestID(ss.Context())})
	}
}

func withRequestID(ctx context.Context) context.Context {
	var id string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(RequestIDKey); len(v) > 0 && validRequestID(v[0]) {
			id = v[0]
		}
	}
	if id == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDKey, id))
	return httptransport.WithRequestID(ctx, id)
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// ctxStream replaces a server stream's context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

// RecoverUnary returns an interceptor that turns a panic in a handler into
// codes.Internal with the bare status text (never the panic's), and logs the panic
// with its stack on logger (nil discards), so the process and the connection live on.
func RecoverUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				logPanic(ctx, logger, info.FullMethod, v)
				resp, err = nil, status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

// RecoverStream is [RecoverUnary] for streaming calls.
func RecoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				logPanic(ss.Context(), logger, info.FullMethod, v)
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}

func logPanic(ctx context.Context, logger *slog.Logger, method string, v any) {
	if logger == nil {
		return
	}
	logger.ErrorContext(ctx, "panic in gRPC handler", "panic", fmt.Sprint(v), "grpc_method", method,
		"request_id", httptransport.RequestIDFrom(ctx), "stack", string(debug.Stack()))
}

// MetricsUnary returns an interceptor that records every call in m (see
// [ServerMetrics]). A nil m records nothing.
func MetricsUnary(m *ServerMetrics) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.Observe(ctx, info.FullMethod, status.Code(err), time.Since(start))
		return resp, err
	}
}

// MetricsStream is [MetricsUnary] for streaming calls.
func MetricsStream(m *ServerMetrics) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		m.Observe(ss.Context(), info.FullMethod, status.Code(err), time.Since(start))
		return err
	}
}

var codeNames = [...]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN",
	codes.InvalidArgument: "INVALID_ARGUMENT", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
	codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED",
	codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED",
	codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS",
	codes.Unauthenticated: "UNAUTHENTICATED",
}

// CodeName returns the protocol's name of c ("OK", "NOT_FOUND"...), "_OTHER" for a code
// outside the 17 defined ones, so metric label values stay bounded. It does not
// allocate.
func CodeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "_OTHER"
}

// DeadlineUnary returns an interceptor that bounds every call to max: a call without a
// deadline, or with a later one, runs under a deadline max from now. The caller's
// earlier deadline is kept, so it reaches the handler's context and, through it,
// every call the handler makes (gRPC sends the remaining time as grpc-timeout). max
// <= 0 keeps the caller's deadline only.
func DeadlineUnary(max time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if max <= 0 {
			return handler(ctx, req)
		}
		ctx, cancel := context.WithTimeout(ctx, max) // keeps an earlier deadline
		defer cancel()
		return handler(ctx, req)
	}
}

// DeadlineStream is [DeadlineUnary] for streaming calls.
func DeadlineStream(max time.Duration) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if max <= 0 {
			return handler(srv, ss)
		}
		ctx, cancel := context.WithTimeout(ss.Context(), max)
		defer cancel()
		return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
	}
}
