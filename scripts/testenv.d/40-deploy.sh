# Sourced by scripts/testenv.sh: the deployment tools the tests of cmd/paved run, each
# built from the module proxy into ~/.cache/paved on first use (tools/build.sh, under a
# minute cold): kubeconform (tools/kubeconform), which validates every manifest the
# project ships or generates against deploy/testdata/schemas, and ociimage
# (tools/ociimage), which assembles an OCI image without a container daemon.
if command -v go >/dev/null; then
	if paved_tool=$(tools/build.sh tools/kubeconform kubeconform github.com/yannh/kubeconform/cmd/kubeconform); then
		export PAVED_TEST_KUBECONFORM="$paved_tool"
	else
		paved_log "could not build kubeconform: the manifest validation tests will skip (or fail in CI)"
	fi
	if paved_tool=$(tools/build.sh tools/ociimage ociimage .); then
		export PAVED_TEST_OCIIMAGE="$paved_tool"
	else
		paved_log "could not build ociimage: the image build test will skip (or fail in CI)"
	fi
fi
