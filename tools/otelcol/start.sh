#!/usr/bin/env bash
# Starts the minimal OpenTelemetry Collector (./main.go) in the background for Paved's
# integration tests: OTLP over HTTP (PAVED_OTELCOL_OTLP_HTTP_PORT, default 23321) and
# gRPC (PAVED_OTELCOL_OTLP_GRPC_PORT, default 23322) on 127.0.0.1 only, every signal
# written as OTLP JSON lines to DIR/traces.jsonl, DIR/metrics.jsonl and DIR/logs.jsonl
# (DIR defaults to a new temporary directory). Builds it first if needed (build.sh).
# Waits until it accepts OTLP, then prints the variables the tests read; use as
#
#   eval "$(tools/otelcol/start.sh)"     # ... run tests ...     kill "$PAVED_OTELCOL_PID"
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$("$here/build.sh")
export PAVED_OTELCOL_OTLP_HTTP_PORT=${PAVED_OTELCOL_OTLP_HTTP_PORT:-23321}
export PAVED_OTELCOL_OTLP_GRPC_PORT=${PAVED_OTELCOL_OTLP_GRPC_PORT:-23322}
dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/paved-otelcol.XXXXXX")}
mkdir -p "$dir"
export PAVED_OTELCOL_DIR=$dir
log=${PAVED_OTELCOL_LOG:-$dir/otelcol.log}
"$bin" --config "file:$here/config.yaml" >"$log" 2>&1 &
pid=$!
i=0
# An empty export answers 200 once the HTTP receiver is up.
until curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$PAVED_OTELCOL_OTLP_HTTP_PORT/v1/logs" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 150 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "otelcol did not accept OTLP on $PAVED_OTELCOL_OTLP_HTTP_PORT; log: $log" >&2
		tail -20 "$log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 0.2
done
echo "export PAVED_OTELCOL_PID=$pid"
echo "export PAVED_TEST_OTELCOL_ENDPOINT=http://127.0.0.1:$PAVED_OTELCOL_OTLP_HTTP_PORT"
echo "export PAVED_TEST_OTELCOL_GRPC_ENDPOINT=http://127.0.0.1:$PAVED_OTELCOL_OTLP_GRPC_PORT"
echo "export PAVED_TEST_OTELCOL_DIR=$dir"
