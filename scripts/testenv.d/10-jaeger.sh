# Sourced by scripts/testenv.sh: Jaeger v2 (built from the module proxy into
# ~/.cache/paved/jaeger on first use, ~10 minutes cold on 2 cores) as the real OTLP
# trace backend of the telemetry tests. Bound to 127.0.0.1 only (tools/jaeger/config.yaml).
if command -v go >/dev/null; then
	if paved_jaeger_env=$(tools/jaeger/start.sh); then
		eval "$paved_jaeger_env"
		PAVED_TESTENV_PIDS+=("$PAVED_JAEGER_PID")
		paved_log "jaeger: OTLP on $PAVED_TEST_OTLP_ENDPOINT, query on $PAVED_TEST_JAEGER_QUERY"
	else
		paved_log "jaeger did not start: the trace backend tests will skip (or fail in CI)"
	fi
fi
