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

test_name="openai node test"
# shellcheck source=../lib/serve.sh
source "$(dirname "$0")/../lib/serve.sh"
build_bitnet_and_model

npm_require "openai@$OPENAI_VERSION" "ajv@$AJV_VERSION"

key="test-key-$$"
start_server -c 1024 --parallel 4 --api-key "$key" --alias tiny-bitnet --cors-origin https://app.test --shutdown-timeout 10s

echo "== node --test openai.test.mjs"
status=0
BITNET_URL="$url" BITNET_API_KEY="$key" BITNET_MODEL=tiny-bitnet BITNET_CONTEXT=1024 BITNET_CORS_ORIGIN=https://app.test \
	node --test "$here/openai.test.mjs" "$here/structured.test.mjs" || status=$?

echo "== SIGTERM"
stop_server
cat "$work/serve.log"
[ "$status" -eq 0 ] || fail "node tests failed (exit $status)"
[ "$server_status" -eq 0 ] || fail "bitnet serve exited with status $server_status after SIGTERM"
grep -q '^stopped$' "$work/serve.log" || fail "bitnet serve did not report a clean stop"
echo "openai node test: PASS"
