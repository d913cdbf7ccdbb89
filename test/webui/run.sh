#!/usr/bin/env bash
# Browser test of the chat page of `bitnet serve`: builds bitnet, writes a
# small dummy model, makes sure Debian's chromium is installed (apt-get, as
# root, when it is missing), installs the pinned puppeteer-core here
# (node_modules is gitignored; puppeteer-core never downloads a browser),
# serves the model with an API key, and runs webui.test.mjs with node's
# test runner. SCREENSHOT=path.png saves a screenshot of the page.
#
# Needs Go, Node.js >= 18, npm, and chromium or root to install it.
set -euo pipefail

PUPPETEER_VERSION=24.43.1

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
server_pid=""

cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "web page browser test: FAIL: $*"
	exit 1
}

command -v node >/dev/null || fail "node is not installed"
command -v npm >/dev/null || fail "npm is not installed"

chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
	[ "$(id -u)" -eq 0 ] || fail "chromium is not installed (apt-get install chromium, as root)"
	echo "== apt-get install chromium"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || fail "apt-get update"
	apt-get install -y -qq chromium >/dev/null || fail "apt-get install chromium"
	chromium=$(command -v chromium) || fail "chromium is still missing"
fi
echo "browser: $("$chromium" --version 2>/dev/null)"

echo "== build bitnet and the test model"
(cd "$root" && go build -o "$work/bitnet" ./cmd/bitnet) || fail "go build"
"$work/bitnet" dummy --size 125M --vocab 512 -q -o "$work/model.gguf" || fail "writing the test model"

echo "== npm install puppeteer-core@$PUPPETEER_VERSION"
installed=$(cd "$here" && node -p "try { require('./node_modules/puppeteer-core/package.json').version } catch { '' }" 2>/dev/null || true)
if [ "$installed" != "$PUPPETEER_VERSION" ]; then
	(cd "$here" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-save --no-audit --no-fund --loglevel=error "puppeteer-core@$PUPPETEER_VERSION") ||
		fail "npm install puppeteer-core@$PUPPETEER_VERSION"
fi

echo "== bitnet serve"
key="web-key-$$"
"$work/bitnet" serve -m "$work/model.gguf" --host 127.0.0.1 --port 0 -c 2048 --parallel 2 \
	--api-key "$key" --alias tiny-bitnet --shutdown-timeout 10s 2>"$work/serve.log" &
server_pid=$!
url=""
for _ in $(seq 1 300); do
	url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -n 1 || true)
	[ -n "$url" ] && break
	kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(cat "$work/serve.log")"
	sleep 0.1
done
[ -n "$url" ] || fail "the server did not start: $(cat "$work/serve.log")"
echo "serving on $url"

echo "== node --test webui.test.mjs"
status=0
BITNET_URL="$url" BITNET_API_KEY="$key" CHROMIUM="$chromium" SCREENSHOT="${SCREENSHOT:-}" \
	node --test --test-concurrency=1 "$here/webui.test.mjs" || status=$?

kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
[ "$status" -eq 0 ] || { cat "$work/serve.log"; fail "browser tests failed (exit $status)"; }
[ "$server_status" -eq 0 ] || fail "bitnet serve exited with status $server_status after SIGTERM"
echo "web page browser test: PASS"
