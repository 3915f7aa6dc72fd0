#!/bin/sh
# Load test of the health probe handler: /readyz with 10 cached checks against the same
# handler with no checks, 64 connections, in one run, interleaved over ROUNDS rounds
# (default 3). Needs wrk; uses taskset (util-linux) to keep the server on CPU 0 and wrk
# on CPU 1, so the two do not take turns on one core (PIN=0 lets both use both cores).
# Two loads per target:
#   saturated: wrk's closed loop, every connection sends its next request as soon as
#              the answer comes: p99 there is queueing (64 connections / throughput);
#   paced:     each connection waits PACE_MS (default 5 ms) between requests
#              (bench/health/paced.lua), about 12,000 probes a second: p99 is the
#              server's answer time under a steady probe load.
# Usage (from the repo root):
#   sh bench/health/run.sh [duration]        # default 10s per run
set -eu
ADDR=127.0.0.1:23150
DUR=${1:-10s}
ROUNDS=${ROUNDS:-3}
DIR=$(mktemp -d)
BIN=$DIR/health-bench-server
go build -o "$BIN" ./bench/health/server
PIN0="" PIN1=""
if [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	PIN0="taskset -c 0" PIN1="taskset -c 1"
fi
$PIN0 "$BIN" -addr "$ADDR" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT INT TERM
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -fsS "http://$ADDR/none/readyz" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "http://$ADDR/ten/readyz?verbose" | tail -n 2
SCRIPT=$(dirname "$0")/paced.lua
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for load in saturated paced; do
		for target in none ten; do
			if [ "$load" = paced ]; then
				set -- -s "$SCRIPT"
			else
				set --
			fi
			printf '== round %d %-9s /%s/readyz: ' "$r" "$load" "$target"
			$PIN1 wrk -t1 -c64 -d"$DUR" --latency "$@" "http://$ADDR/$target/readyz" |
				awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{rps=$2} /Non-2xx|Socket errors/{err=err" "$0}
					END{printf "p50 %s  p99 %s  %s req/s%s\n", p50, p99, rps, err}'
		done
	done
	r=$((r + 1))
done
