# Sourced by scripts/testenv.sh: the standard grpc-health-probe client (v0.4.62), a real
# gRPC health client nobody here wrote, built outside the module into a cache directory.
paved_probe_dir="${XDG_CACHE_HOME:-$HOME/.cache}/paved/bin"
if [ ! -x "$paved_probe_dir/grpc-health-probe" ] && command -v go >/dev/null; then
	mkdir -p "$paved_probe_dir"
	(cd / && GOFLAGS= GOBIN="$paved_probe_dir" go install github.com/grpc-ecosystem/grpc-health-probe@v0.4.62) >&2 ||
		paved_log "could not build grpc-health-probe"
fi
if [ -x "$paved_probe_dir/grpc-health-probe" ]; then
	export PAVED_TEST_GRPC_HEALTH_PROBE="$paved_probe_dir/grpc-health-probe"
fi
