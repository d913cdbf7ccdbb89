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

test_name="web page browser test"
# shellcheck source=../lib/serve.sh
source "$(dirname "$0")/../lib/serve.sh"

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

build_bitnet_and_model

PUPPETEER_SKIP_DOWNLOAD=1 npm_require "puppeteer-core@$PUPPETEER_VERSION"

key="web-key-$$"
start_server -c 2048 --parallel 2 --api-key "$key" --alias tiny-bitnet --shutdown-timeout 10s

echo "== node --test webui.test.mjs"
status=0
BITNET_URL="$url" BITNET_API_KEY="$key" CHROMIUM="$chromium" SCREENSHOT="${SCREENSHOT:-}" \
	node --test --test-concurrency=1 "$here/webui.test.mjs" || status=$?

stop_server
[ "$status" -eq 0 ] || { cat "$work/serve.log"; fail "browser tests failed (exit $status)"; }
[ "$server_status" -eq 0 ] || fail "bitnet serve exited with status $server_status after SIGTERM"
echo "web page browser test: PASS"
