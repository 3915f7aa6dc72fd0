#!/usr/bin/env bash
# scripts/release.sh vX.Y.Z: points every module's requirement on another Paved module
# at vX.Y.Z (the replace lines stay for development), tidies each module outside the
# workspace, and commits. Tagging is by hand: docs/releasing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/release.sh vX.Y.Z}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || {
	echo "release: version must look like v0.4.0, got $version" >&2
	exit 2
}
for m in $(scripts/modules.sh); do
	for dep in $(cd "$m" && go mod edit -json | python3 -c '
import json, sys
m = json.load(sys.stdin)
print("\n".join(r["Path"] for r in m.get("Require") or [] if r["Path"].startswith("github.com/paved-road/paved")))'); do
		(cd "$m" && go mod edit -require="$dep@$version")
	done
done
for m in $(scripts/modules.sh); do (cd "$m" && GOWORK=off GOFLAGS=-mod=mod go mod tidy); done
git commit -am "release $version: modules require each other at $version"
