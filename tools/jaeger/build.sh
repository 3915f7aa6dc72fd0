#!/bin/sh
# Builds the Jaeger v2 all-in-one binary (github.com/jaegertracing/jaeger/cmd/jaeger,
# pinned in ./go.mod) into the cache and prints its path (../build.sh); about 10 minutes
# on 2 cores the first time, instant afterwards.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build.sh" "$here" jaeger github.com/jaegertracing/jaeger/cmd/jaeger
