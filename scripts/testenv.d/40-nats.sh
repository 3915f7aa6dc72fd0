# Sourced by scripts/testenv.sh: a real NATS server with JetStream (built from the Go
# module proxy into ~/.cache/paved/nats-server on first use) on loopback, its store in
# the test environment's directory, for the messaging binding's tests
# (transport/messaging/natsjs). PAVED_TEST_NATS_SERVER is the binary itself, for the
# tests that kill and restart a server of their own.
if command -v go >/dev/null; then
	if paved_nats_env=$(tools/nats/start.sh "$PAVED_TESTENV_DIR/nats"); then
		eval "$paved_nats_env"
		PAVED_TESTENV_PIDS+=("$PAVED_NATS_PID")
		paved_log "nats: server on $PAVED_TEST_NATS_URL"
	else
		paved_log "nats-server did not start: the messaging tests will skip (or fail in CI)"
	fi
fi
