# Sourced by scripts/testenv.sh: a real Consul agent (built from the Go module proxy into
# ~/.cache/paved/consul on first use) in dev mode on loopback, for the Consul backend's
# tests (discovery/consul), beside the fake agent its other tests use.
if command -v go >/dev/null; then
	if paved_consul_env=$(tools/consul/start.sh); then
		eval "$paved_consul_env"
		PAVED_TESTENV_PIDS+=("$PAVED_CONSUL_PID")
		paved_log "consul: agent on $PAVED_TEST_CONSUL_ADDR"
	else
		paved_log "consul did not start: the real-agent tests will skip (or fail in CI)"
	fi
fi
