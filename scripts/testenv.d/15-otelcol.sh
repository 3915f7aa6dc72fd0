# Sourced by scripts/testenv.sh: a minimal OpenTelemetry Collector (OTLP receiver and
# file exporter, built from the Go module proxy into ~/.cache/paved/otelcol on first
# use, about 4 minutes cold on 2 cores) as the real OTLP receiver of the metrics and
# logs tests: what arrives is written as OTLP JSON lines under PAVED_TEST_OTELCOL_DIR.
# Bound to 127.0.0.1 only (tools/otelcol/config.yaml).
if command -v go >/dev/null; then
	if paved_otelcol_env=$(tools/otelcol/start.sh "$PAVED_TESTENV_DIR/otelcol"); then
		eval "$paved_otelcol_env"
		PAVED_TESTENV_PIDS+=("$PAVED_OTELCOL_PID")
		paved_log "otelcol: OTLP on $PAVED_TEST_OTELCOL_ENDPOINT, files in $PAVED_TEST_OTELCOL_DIR"
	else
		paved_log "otelcol did not start: the OTLP metrics and logs tests will skip (or fail in CI)"
	fi
fi
