#!/bin/sh
# Builds the minimal OpenTelemetry Collector (./main.go: OTLP receiver and file exporter,
# pinned in ./go.mod) into the cache and prints its path (../build.sh); a few minutes on
# 2 cores the first time, instant afterwards.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build.sh" "$here" otelcol .
