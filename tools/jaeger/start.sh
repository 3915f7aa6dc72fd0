#!/bin/sh
# Starts Jaeger v2 in the background for Paved's integration tests: OTLP receiver and
# query API on 127.0.0.1 only, in-memory storage. Builds it first if needed (build.sh).
# Waits until it is healthy, then prints the variables the tests read; use as
#
#   eval "$(tools/jaeger/start.sh)"     # ... run tests ...     kill "$PAVED_JAEGER_PID"
#
# Ports (defaults in Paved's test range): PAVED_JAEGER_OTLP_HTTP_PORT=23301,
# PAVED_JAEGER_OTLP_GRPC_PORT=23302, PAVED_JAEGER_QUERY_PORT=23303,
# PAVED_JAEGER_QUERY_GRPC_PORT=23304, PAVED_JAEGER_HEALTH_PORT=23305.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$("$here/build.sh")
log=${PAVED_JAEGER_LOG:-${TMPDIR:-/tmp}/paved-jaeger.log}
"$bin" --config "file:$here/config.yaml" >"$log" 2>&1 &
pid=$!
health="http://127.0.0.1:${PAVED_JAEGER_HEALTH_PORT:-23305}/status"
i=0
until curl -fsS "$health" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 60 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "jaeger did not become healthy; log: $log" >&2
		tail -20 "$log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 0.5
done
echo "export PAVED_JAEGER_PID=$pid"
echo "export PAVED_TEST_OTLP_ENDPOINT=http://127.0.0.1:${PAVED_JAEGER_OTLP_HTTP_PORT:-23301}"
echo "export PAVED_TEST_OTLP_GRPC_ENDPOINT=http://127.0.0.1:${PAVED_JAEGER_OTLP_GRPC_PORT:-23302}"
echo "export PAVED_TEST_JAEGER_QUERY=http://127.0.0.1:${PAVED_JAEGER_QUERY_PORT:-23303}"
