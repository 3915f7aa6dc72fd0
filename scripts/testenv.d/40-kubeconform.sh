# Sourced by scripts/testenv.sh: kubeconform (tools/kubeconform, built from the module
# proxy into ~/.cache/paved on first use, about 20 s cold), which the tests of cmd/paved
# run on every manifest the project ships or generates, against the schemas in
# deploy/testdata/schemas.
if command -v go >/dev/null; then
	if paved_kubeconform=$(tools/build.sh tools/kubeconform kubeconform github.com/yannh/kubeconform/cmd/kubeconform); then
		export PAVED_TEST_KUBECONFORM="$paved_kubeconform"
	else
		paved_log "could not build kubeconform: the manifest validation tests will skip (or fail in CI)"
	fi
fi
