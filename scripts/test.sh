#!/usr/bin/env bash
# The project's test command (README.md): starts the servers the tests use on loopback
# (scripts/testenv.sh), then runs every test of every module of go.work with the race
# detector. Extra arguments go to go test, e.g. scripts/test.sh -run TestName ./service/...
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/testenv.sh
paved_testenv_start
pkgs=(work) # every module of go.work
for a in "$@"; do
	case "$a" in
	./* | github.com/* | work) pkgs=() ;;
	esac
done
go test -race -count=1 -timeout 20m "$@" "${pkgs[@]}"
