// The node half of the tokenizer reference test (run.sh): for each family
// directory DIR/NAME (a dummy checkpoint's tokenizer.json and
// tokenizer_config.json, and DIR/NAME.gguf converted from it), encode a
// corpus of edge cases with @huggingface/tokenizers and with
// `bitnet tokenize --json`, and require the same ids. Prints one line per
// difference and a final count; exits 1 on any difference.
//
// usage: node compare.mjs BITNET DIR NAME...
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const [bitnet, dir, ...families] = process.argv.slice(2);
if (!bitnet || !dir || families.length === 0) {
	console.error("usage: node compare.mjs BITNET DIR NAME...");
	process.exit(2);
}

// Hand-picked edge cases: digits, punctuation runs (ASCII symbols that are
// not Unicode punctuation too), contractions, whitespace runs, unicode,
// special-token texts. The empty text is left out: tokenize needs a prompt.
const hand = [
	" ", "In 2024, 3.14+x!", "don't  stop...now", "a+=b <=> c|d~e`f^g$h", "I'm sure they'll say it's fine, don't you think? We've seen it.",
	"IT'S 'Ll 'Re", "Café naïve résumé façade Ångström", "½ ² ³ Ⅻ ٣٤", "你好，世界！这是一个测试。", "в Москве 2024 года",
	"Emoji: 😀👍🏽🇺🇸 and ❤️", "tabs\tand\nnewlines\r\nmixed", "   leading and trailing   ", "a\n\n\n  b", " \n \n x",
	"1234567890 0.5 -7 1e10 1,000,000", "price: $1,234.56 (approx.)", "def foo(x):\n    return x ** 2  # comment",
	"<|user|>\nHi\n<|assistant|>\n", ">>TITLE<<Hello>>ABSTRACT<< world", "<|endoftext|>x<|endoftext|>",
	"<|begin_of_text|>Hi<|eot_id|>", "x\u00a0y\u3000z\u2028w", "The model reads a prompt, turns it into tokens, and predicts the next token",
	"Hello, world! What is the time? It is ten past nine in the morning.", "!!! ??? ... --- ((x))", "«quoted» — “curly” ‘single’",
];

// Random texts from fragments, with a fixed seed: every run tests the same.
const fragments = [
	"a", "Z", "the", " the", "model", " token", "'s", "'t", "'", "\"", "1", "23", "456", "0.5", ".", ",", "!", "?", "...",
	"+", "=", "<", ">", "|", "~", "`", "^", "$", "€", "_", "-", "—", "(", ")", "[", "]", " ", "  ", "\t", "\n", "\r\n",
	"é", "ß", "漢", "😀", "\u0301", "\u00a0", ">>TITLE<<", "<|endoftext|>", "<|eot_id|>", "½",
];
let seed = 12345;
const rand = (n) => {
	seed = (seed * 1103515245 + 12345) % 2147483648;
	return seed % n;
};
const random = [];
for (let i = 0; i < 60; i++) {
	let s = "";
	for (let k = 1 + rand(12); k > 0; k--) s += fragments[rand(fragments.length)];
	random.push(s);
}
const corpus = [...hand, ...random];

let cases = 0;
let diffs = 0;
for (const name of families) {
	const tj = JSON.parse(readFileSync(join(dir, name, "tokenizer.json"), "utf8"));
	const tc = JSON.parse(readFileSync(join(dir, name, "tokenizer_config.json"), "utf8"));
	const tok = new Tokenizer(tj, tc);
	const model = join(dir, name + ".gguf");
	for (const text of corpus) {
		const want = tok.encode(text).ids;
		const out = execFileSync(bitnet, ["tokenize", "-m", model, "-p", text, "--json"], { encoding: "utf8" });
		const got = JSON.parse(out).ids;
		cases++;
		if (JSON.stringify(got) !== JSON.stringify(want)) {
			diffs++;
			console.log(`DIFF ${name} ${JSON.stringify(text)}:\n  @huggingface/tokenizers ${JSON.stringify(want)}\n  bitnet tokenize         ${JSON.stringify(got)}`);
		}
		// Decoding gives the text back (special tokens kept as text, no
		// BOS in front).
		const ids = tok.encode(text, { add_special_tokens: false }).ids;
		const back = tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
		if (back !== text) {
			diffs++;
			console.log(`DIFF ${name} ${JSON.stringify(text)}: @huggingface/tokenizers decodes ${JSON.stringify(back)}`);
		}
	}
}
console.log(`${cases} texts over ${families.join(", ")}: ${cases - diffs} identical, ${diffs} differences`);
process.exit(diffs === 0 ? 0 : 1);
