#!/usr/bin/env bash
# End-to-end test of `bitnet serve` with the official OpenAI Node.js client:
# builds bitnet, writes a small dummy model (125M layout, 512-token built-in
# tokenizer), installs the pinned openai and ajv packages here (node_modules is
# gitignored), serves the model on a free loopback port with an API key,
# runs openai.test.mjs and structured.test.mjs with node's test runner, and
# stops the server with SIGTERM, which must exit cleanly. Prints one final PASS/FAIL line.
#
# Needs Go, Node.js >= 18 and npm (registry access for the first install).
set -euo pipefail

# openai 7.x requires Node.js 22; 6.49.0 is the last 6.x release and runs
# on the Node.js 20 of our machines.
OPENAI_VERSION=6.49.0
# ajv validates structured replies against their JSON Schema (draft 2020-12).
AJV_VERSION=8.20.0

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
	echo "openai node test: FAIL: $*"
	exit 1
}

command -v node >/dev/null || fail "node is not installed"
command -v npm >/dev/null || fail "npm is not installed"

echo "== build bitnet and the test model"
(cd "$root" && go build -o "$work/bitnet" ./cmd/bitnet) || fail "go build"
# The vocabulary cut to the built-in tokenizer's 512 tokens makes every
# sampled token text or end-of-generation, so replies are visible.
"$work/bitnet" dummy --size 125M --vocab 512 -q -o "$work/model.gguf" || fail "writing the test model"

echo "== npm install openai@$OPENAI_VERSION ajv@$AJV_VERSION"
version() { (cd "$here" && node -p "try { require('./node_modules/$1/package.json').version } catch { '' }" 2>/dev/null || true); }
if [ "$(version openai)" != "$OPENAI_VERSION" ] || [ "$(version ajv)" != "$AJV_VERSION" ]; then
	(cd "$here" && npm install --no-save --no-audit --no-fund --loglevel=error "openai@$OPENAI_VERSION" "ajv@$AJV_VERSION") ||
		fail "npm install openai@$OPENAI_VERSION ajv@$AJV_VERSION"
fi

echo "== bitnet serve"
key="test-key-$$"
"$work/bitnet" serve -m "$work/model.gguf" --host 127.0.0.1 --port 0 -c 1024 --parallel 4 \
	--api-key "$key" --alias tiny-bitnet --cors-origin https://app.test --shutdown-timeout 10s 2>"$work/serve.log" &
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

echo "== node --test openai.test.mjs"
status=0
BITNET_URL="$url" BITNET_API_KEY="$key" BITNET_MODEL=tiny-bitnet BITNET_CONTEXT=1024 BITNET_CORS_ORIGIN=https://app.test \
	node --test "$here/openai.test.mjs" "$here/structured.test.mjs" || status=$?

echo "== SIGTERM"
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
cat "$work/serve.log"
[ "$status" -eq 0 ] || fail "node tests failed (exit $status)"
[ "$server_status" -eq 0 ] || fail "bitnet serve exited with status $server_status after SIGTERM"
grep -q '^stopped$' "$work/serve.log" || fail "bitnet serve did not report a clean stop"
echo "openai node test: PASS"
