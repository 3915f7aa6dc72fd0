#!/usr/bin/env bash
# The project's test command (README.md): starts the servers the tests use on loopback
# (scripts/testenv.sh), then runs every test with the race detector. Extra arguments go
# to go test, e.g. scripts/test.sh -run TestName ./service/...
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/testenv.sh
paved_testenv_start
pkgs=(./...)
for a in "$@"; do
	case "$a" in
	./*) pkgs=() ;;
	esac
done
go test -race -count=1 -timeout 20m "$@" "${pkgs[@]}"
