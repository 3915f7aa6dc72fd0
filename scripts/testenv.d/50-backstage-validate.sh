# Sourced by scripts/testenv.sh: the Backstage entity validator the export tests of
# catalog/server run (tools/backstage-validate, built on @backstage/catalog-model). Its
# node project is installed with `npm ci` from its lock file into the cache directory
# (again only when package-lock.json changes) and PAVED_TEST_BACKSTAGE_VALIDATE points at
# its validate.js. Needs node and npm (Debian: nodejs, npm) and the npm registry once.
paved_backstage_validate() {
	command -v node >/dev/null && command -v npm >/dev/null || return 1
	local src=tools/backstage-validate cache dir want
	cache=${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}
	dir=$cache/backstage-validate
	want=$( (cat "$src/package.json" "$src/package-lock.json"; node --version) | sha256sum | cut -d' ' -f1)
	if ! [ -f "$dir/stamp" ] || [ "$(cat "$dir/stamp")" != "$want" ]; then
		paved_log "installing tools/backstage-validate into $dir (npm ci; cached afterwards)"
		rm -rf "$dir" && mkdir -p "$dir" &&
			cp "$src/package.json" "$src/package-lock.json" "$src/validate.js" "$dir/" &&
			(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) &&
			echo "$want" >"$dir/stamp" || return 1
	fi
	cp "$src/validate.js" "$dir/validate.js"
	echo "$dir/validate.js"
}
if paved_tool=$(paved_backstage_validate); then
	export PAVED_TEST_BACKSTAGE_VALIDATE="$paved_tool"
else
	paved_log "could not install tools/backstage-validate (node, npm): the Backstage export validation tests will skip (or fail in CI)"
fi
