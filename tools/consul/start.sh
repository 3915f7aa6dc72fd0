#!/bin/sh
# Starts a Consul agent in dev mode (one server, in memory) in the background for the
# Consul backend's tests, every listener on 127.0.0.1 and DNS and gRPC off. Builds it
# first if needed (build.sh). Waits until it has a leader, then prints the variables the
# tests read; use as
#
#   eval "$(tools/consul/start.sh)"     # ... run tests ...     kill "$PAVED_CONSUL_PID"
#
# Ports (Paved's test range): PAVED_CONSUL_HTTP_PORT=23401, serf LAN 23402, serf WAN
# 23403, server RPC 23404.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$("$here/build.sh")
http=${PAVED_CONSUL_HTTP_PORT:-23401}
dir=$(mktemp -d "${TMPDIR:-/tmp}/paved-consul.XXXXXX")
cat >"$dir/ports.hcl" <<HCL
ports {
  http     = $http
  dns      = -1
  grpc     = -1
  grpc_tls = -1
  serf_lan = ${PAVED_CONSUL_SERF_LAN_PORT:-23402}
  serf_wan = ${PAVED_CONSUL_SERF_WAN_PORT:-23403}
  server   = ${PAVED_CONSUL_SERVER_PORT:-23404}
}
HCL
log=${PAVED_CONSUL_LOG:-$dir/consul.log}
"$bin" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -config-file "$dir/ports.hcl" -log-level warn >"$log" 2>&1 &
pid=$!
i=0
until [ -n "$(curl -fsS "http://127.0.0.1:$http/v1/status/leader" 2>/dev/null | tr -d '"')" ]; do
	i=$((i + 1))
	if [ "$i" -gt 60 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "consul did not get a leader; log: $log" >&2
		tail -20 "$log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 0.5
done
echo "export PAVED_CONSUL_PID=$pid"
echo "export PAVED_TEST_CONSUL_ADDR=127.0.0.1:$http"
