#!/bin/sh
# tools/build.sh DIR NAME PACKAGE: builds PACKAGE from the module in DIR (a tool pinned
# in its own go.mod, so its dependencies never reach Paved's) into the cache directory as
# NAME, and prints the binary's path. It rebuilds only when the binary is missing or
# stale: the stamp beside it hashes go.mod, go.sum and the Go version, so CI on the same
# machine reuses it and a fresh machine builds once.
#
#   PAVED_CACHE_DIR  cache directory (default: $XDG_CACHE_HOME/paved or ~/.cache/paved)
set -eu
dir=$1 name=$2 pkg=$3
cache=${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}
bin=$cache/$name
want=$( (cat "$dir/go.mod" "$dir/go.sum"; go env GOVERSION GOOS GOARCH) | sha256sum | cut -d' ' -f1)
if [ -x "$bin" ] && [ -f "$bin.stamp" ] && [ "$(cat "$bin.stamp")" = "$want" ]; then
	echo "$bin"
	exit 0
fi
mkdir -p "$cache"
echo "building $name into $bin (cached afterwards)" >&2
(cd "$dir" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" go build -o "$bin.tmp" "$pkg") >&2
mv "$bin.tmp" "$bin"
echo "$want" >"$bin.stamp"
echo "$bin"
