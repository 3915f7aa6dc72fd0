#!/usr/bin/env bash
# Starts a NATS server with JetStream in the background for the messaging tests, on
# 127.0.0.1 only (client port PAVED_NATS_PORT, default 23411; monitoring off), its file
# store in DIR (default: a new temporary directory). Builds it first if needed
# (build.sh). Waits until it accepts connections, then prints the variables the tests
# read; use as
#
#   eval "$(tools/nats/start.sh)"     # ... run tests ...     kill "$PAVED_NATS_PID"
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$("$here/build.sh")
port=${PAVED_NATS_PORT:-23411}
dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/paved-nats.XXXXXX")}
mkdir -p "$dir"
log=${PAVED_NATS_LOG:-$dir/nats.log}
"$bin" -js -a 127.0.0.1 -p "$port" -sd "$dir" >"$log" 2>&1 &
pid=$!
i=0
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "nats-server did not listen on $port; log: $log" >&2
		tail -20 "$log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 0.1
done
echo "export PAVED_NATS_PID=$pid"
echo "export PAVED_TEST_NATS_URL=nats://127.0.0.1:$port"
echo "export PAVED_TEST_NATS_SERVER=$bin"
