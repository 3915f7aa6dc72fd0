#!/bin/sh
# Load test of the health probe handler: /readyz with 10 cached checks against the same
# handler with no checks, 64 connections, in one run. Needs wrk. Usage (from the repo root):
#   sh bench/health/run.sh [duration]        # default 10s
set -eu
ADDR=127.0.0.1:23150
DUR=${1:-10s}
BIN=$(mktemp -d)/health-bench-server
go build -o "$BIN" ./bench/health/server
"$BIN" -addr "$ADDR" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT INT TERM
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -fsS "http://$ADDR/none/readyz" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "http://$ADDR/ten/readyz?verbose" | tail -n 2
for target in none ten; do
	echo "== /$target/readyz (wrk -t2 -c64 -d$DUR --latency)"
	wrk -t2 -c64 -d"$DUR" --latency "http://$ADDR/$target/readyz" | grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors'
done
