#!/usr/bin/env bash
# Sourced by scripts/test.sh: installs the outside programs the tests use when they are
# missing (Debian packages, as root), starts the servers on loopback, and exports the
# PAVED_TEST_* variables the tests read. Tests whose server is missing skip, unless
# PAVED_TEST_REQUIRE_SERVERS=1 (CI), where they fail.
# Everything started here is stopped by paved_testenv_stop (set as an EXIT trap).

PAVED_TESTENV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/paved-testenv.XXXXXX")
PAVED_TESTENV_PIDS=()
export PAVED_TESTENV_DIR

paved_log() { printf 'testenv: %s\n' "$*" >&2; }

paved_testenv_stop() {
	local pid
	for pid in "${PAVED_TESTENV_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PAVED_TESTENV_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$PAVED_TESTENV_DIR"
}

# Debian packages the tests drive: etcd-server (etcd), prometheus (prometheus, promtool),
# chromium (catalog UI tests), wrk (benchmarks only).
paved_install_debs() {
	local missing=()
	command -v etcd >/dev/null || missing+=(etcd-server)
	command -v prometheus >/dev/null || missing+=(prometheus)
	command -v chromium >/dev/null || missing+=(chromium)
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		paved_log "installing ${missing[*]}"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		paved_log "missing ${missing[*]}: the tests that need them will skip"
	fi
}

# paved_free_port prints a free TCP port on 127.0.0.1.
paved_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

# paved_wait_http URL SECONDS waits for URL to answer 200.
paved_wait_http() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

paved_start_etcd() {
	command -v etcd >/dev/null || return 0
	local client peer dir
	client=$(paved_free_port)
	peer=$(paved_free_port)
	dir="$PAVED_TESTENV_DIR/etcd"
	ETCD_UNSUPPORTED_ARCH=${ETCD_UNSUPPORTED_ARCH:-} etcd --name paved-test --data-dir "$dir" \
		--listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
		--listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "paved-test=http://127.0.0.1:$peer" \
		>"$PAVED_TESTENV_DIR/etcd.log" 2>&1 &
	PAVED_TESTENV_PIDS+=($!)
	if paved_wait_http "http://127.0.0.1:$client/health" 20; then
		export PAVED_TEST_ETCD_ENDPOINTS="http://127.0.0.1:$client"
		paved_log "etcd on $PAVED_TEST_ETCD_ENDPOINTS"
	else
		paved_log "etcd did not start; its log:"
		tail -20 "$PAVED_TESTENV_DIR/etcd.log" >&2
	fi
}

paved_find_tools() {
	command -v prometheus >/dev/null && export PAVED_TEST_PROMETHEUS=$(command -v prometheus)
	command -v promtool >/dev/null && export PAVED_TEST_PROMTOOL=$(command -v promtool)
	command -v chromium >/dev/null && export PAVED_TEST_CHROMIUM=$(command -v chromium)
	return 0
}

paved_testenv_start() {
	trap paved_testenv_stop EXIT
	paved_install_debs
	paved_find_tools
	paved_start_etcd
	# Extra servers (trace backend, tools built from source) hook in here.
	local f
	for f in scripts/testenv.d/*.sh; do
		[ -e "$f" ] || continue
		# shellcheck source=/dev/null
		. "$f"
	done
}
