#!/usr/bin/env bash
# Prints the directory of every module of the workspace (go.work), the core first,
# relative to the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
go list -m -f '{{.Dir}}' | while read -r d; do
	rel=${d#"$root"}
	echo ".${rel}"
done
