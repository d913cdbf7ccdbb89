#!/usr/bin/env bash
# Tokenizer reference: the built-in tokenizers of bitnet dummy (Falcon3's and
# Llama 3's) against an independent implementation. gen writes a tiny dummy
# checkpoint of each family, bitnet convert turns it into a GGUF, and
# compare.mjs encodes a corpus of edge cases (digits, punctuation runs,
# contractions, whitespace runs, unicode, special-token texts) with
# @huggingface/tokenizers from the checkpoint's tokenizer.json and with
# `bitnet tokenize --json` from the GGUF: every id list must be the same,
# and @huggingface/tokenizers must decode every text back. The package goes
# to the gitignored node_modules here. Prints one final PASS/FAIL line.
#
# Needs Go, Node.js >= 18 and npm (registry access for the first run).
set -euo pipefail

TOKENIZERS_VERSION=0.2.0

test_name="tokenizer reference"
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

npm_require "@huggingface/tokenizers@$TOKENIZERS_VERSION"

echo "== dummy checkpoints of each tokenizer family, converted"
(cd "$root" && go build -o "$work/bitnet" ./cmd/bitnet) || fail "go build"
(cd "$root" && go run ./test/tokenizers/gen "$work") || fail "gen"
for family in falcon3 llama3; do
	"$work/bitnet" convert "$work/$family" -o "$work/$family.gguf" --type f32 -q || fail "convert $family"
done

echo "== @huggingface/tokenizers vs bitnet tokenize"
(cd "$here" && node compare.mjs "$work/bitnet" "$work" falcon3 llama3) | tee "$work/result.txt" || fail "ids differ (see DIFF lines above)"
echo "tokenizer reference: PASS: $(tail -n 1 "$work/result.txt")"
