# Shared by the node end-to-end test scripts (test/*/run.sh), which source it
# (directly or through serve.sh) after setting test_name: here (the script's
# folder) and root, a scratch directory $work removed on exit (after the
# script's on_exit, when it defines one), fail, the node/npm check, and
# npm_require for pinned npm packages.

here=$(cd "$(dirname "${BASH_SOURCE[-1]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)

cleanup() {
	if declare -F on_exit >/dev/null; then
		on_exit
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "$test_name: FAIL: $*"
	exit 1
}

command -v node >/dev/null || fail "node is not installed"
command -v npm >/dev/null || fail "npm is not installed"

# npm_version PKG prints the version of PKG installed beside the script, if any.
npm_version() {
	(cd "$here" && node -p "try { require('./node_modules/$1/package.json').version } catch { '' }" 2>/dev/null || true)
}

# npm_require NAME@VERSION... installs the packages beside the script
# (node_modules is gitignored) unless every one is there at that version.
# They are installed together: npm install --no-save drops what an earlier
# --no-save install put there.
npm_require() {
	local spec
	for spec in "$@"; do
		if [ "$(npm_version "${spec%@*}")" != "${spec##*@}" ]; then
			echo "== npm install $*"
			(cd "$here" && npm install --no-save --no-audit --no-fund --loglevel=error "$@") || fail "npm install $*"
			return
		fi
	done
}
