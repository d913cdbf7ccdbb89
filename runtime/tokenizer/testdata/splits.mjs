// Splits every text of llama3-corpus.json with JavaScript's regex engine,
// applying each pre-tokenizer's patterns one after the other the way
// libllama's unicode_regex_split does (matches and the gaps between them
// both become words), and writes pretokenize-splits.json.
import fs from 'node:fs';

const llama3 = /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
const gpt2 = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const punctTick = /[\p{P}\$\+<=>\^~\|`]+/gu;
const punct = /[\p{P}\$\+<=>\^~\|]+/gu;
const numbers = /\p{N}+/gu;
const digit = /[0-9]/gu;
const digits3 = /[0-9][0-9][0-9]/gu;

function splitOne(words, re) {
  const out = [];
  for (const w of words) {
    let prev = 0;
    for (const m of w.matchAll(re)) {
      if (m.index > prev) out.push(w.slice(prev, m.index));
      if (m[0].length > 0) out.push(m[0]);
      prev = m.index + m[0].length;
    }
    if (prev < w.length) out.push(w.slice(prev));
  }
  return out;
}
const chain = (text, res) => res.reduce((words, re) => splitOne(words, re), text === "" ? [] : [text]);

const corpus = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const cases = corpus.cases.map(({ text }) => ({
  text,
  llama3: chain(text, [llama3]),
  gpt2: chain(text, [gpt2]),
  falcon3: chain(text, [punctTick, gpt2, digit]),
  falcon: chain(text, [punctTick, gpt2, digits3]),
  default: chain(text, [punct, gpt2, numbers, digits3]),
}));
fs.writeFileSync(process.argv[3], JSON.stringify({ generator: "splits.mjs (see README.md)", cases }) + "\n");
console.error("cases", cases.length);
