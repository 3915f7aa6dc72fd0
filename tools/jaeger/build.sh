#!/bin/sh
# Builds the Jaeger v2 all-in-one binary (github.com/jaegertracing/jaeger/cmd/jaeger,
# pinned in ./go.mod) into a cache directory and prints its path. It rebuilds only when
# the cached binary is missing or stale: the stamp beside it hashes go.mod, go.sum and
# the Go version, so CI on the same machine reuses it and a fresh machine builds once
# (about 10 minutes on 2 cores).
#
#   PAVED_CACHE_DIR  cache directory (default: $XDG_CACHE_HOME/paved or ~/.cache/paved)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}
bin=$cache/jaeger
want=$( (cat "$here/go.mod" "$here/go.sum"; go env GOVERSION GOOS GOARCH) | sha256sum | cut -d' ' -f1)
if [ -x "$bin" ] && [ -f "$bin.stamp" ] && [ "$(cat "$bin.stamp")" = "$want" ]; then
	echo "$bin"
	exit 0
fi
mkdir -p "$cache"
echo "building Jaeger into $bin (cached afterwards)" >&2
(cd "$here" && GOFLAGS="-mod=readonly -buildvcs=false" go build -o "$bin.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) >&2
mv "$bin.tmp" "$bin"
echo "$want" >"$bin.stamp"
echo "$bin"
