// Generates the Llama-3 tokenizer test corpus: hand-written strings plus
// seeded pseudo-random strings, each encoded by llama3-tokenizer-js with
// special-token parsing on ("ids") and off ("ids_text"), without BOS/EOS.
import fs from 'node:fs';
import llama3Tokenizer from 'llama3-tokenizer-js';
const t = llama3Tokenizer;

const fixed = [
  "", " ", "  ", "   ", "\n", "\n\n", "\r\n", " \n", "\t", "\t\t ", " \t\n \n  x",
  "Hello world!", "Hello, world! How are you?", "hello world", " Hello world", "  Hello world  ",
  "The quick brown fox jumps over the lazy dog.",
  "I'm sure you'll see they've done it, haven't they? She'd've said it's OK.",
  "I'M SURE YOU'LL SEE THEY'VE DONE IT. SHE'D, IT'S, WE'RE, DON'T",
  "mixed 'S 'T 'Re 'rE 'Ve 'M 'Ll 'D 'x 's's 'sss '' ''' 'll'",
  "'s", "'", "a'", "'re", " 're", "x'RE", "rock'n'roll", "l'homme d'affaires",
  "1", "12", "123", "1234", "12345", "1234567890", "3.14159", "1,000,000", "2024-01-15", "v1.2.3", "0x1F4A9",
  "x1y22z333w4444", "  123  456   ", "-42", "+7", "1e-10", "$100.00", "100%", "#1", "№5",
  "٣٤٥ ١٢٣٤", "१२३४५", "１２３４", "Ⅻ ⅻ ½ ¾ ² ³", "①②③",
  "naïve café résumé über façade São Paulo Ångström",
  "cafe\u0301 nai\u0308ve e\u0301e\u0301e\u0301", "A\u030A\u0327", "\u0301start",
  "Привет, мир! Как дела?", "Γειά σου Κόσμε", "שלום עולם", "مرحبا بالعالم، كيف حالك؟",
  "नमस्ते दुनिया, आप कैसे हैं?", "สวัสดีชาวโลก", "안녕하세요 세계", "こんにちは世界、元気ですか？",
  "你好，世界！今天天气很好。", "中文English混合mixed文本", "日本語のテキストとカタカナ、ひらがな。",
  "😀", "😀😃😄", "Hello 👋 world 🌍!", "👨‍👩‍👧‍👦 family", "👍🏽👍🏿", "🇺🇸🇫🇷🇯🇵", "❤️ ✓ ✔ ★ ☆ ♥",
  "emoji🎉in🎉words", "🤖🧠💡🚀🔥",
  "non\u00a0breaking\u00a0space", "ideographic\u3000space", "em\u2003space\u2002en", "thin\u2009space",
  "line\u2028separator", "para\u2029separator", "tab\tseparated\tvalues", "vt\u000bff\u000cx",
  "trailing spaces   ", "   leading spaces", "a  b   c    d", "a \n b", "a\n\n\nb", "a\r\n\r\nb", "a \r\n  \n b",
  "x\n  y", "x  \n", "end\n", "  \n  \n  ", "\n \n \n", "\t\n\t\n",
  "!!!", "!!!\n\n", "...\n", "?!?", " ?!", "— – -", "«quotes» “curly” ‘single’", "a—b", "(parens) [brackets] {braces}",
  "foo@bar.com https://example.com/path?q=1&r=2#frag", "C:\\Users\\name\\file.txt", "/usr/local/bin/",
  "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
  "if x != y && z >= 3 || !w { return nil }", "<div class=\"a\">text</div>", "{\"key\": [1, 2, 3], \"b\": null}",
  "SELECT * FROM users WHERE id = 42;", "x = a+b-c*d/e%f^g", "∀x∈ℝ: x² ≥ 0", "∑ ∫ √ ∞ ≈ ≠ ≤ ≥ π",
  "$$$ ### @@@ ~~~ ``` ^^^ ||| <<< >>>", "a_b_c __init__ snake_case camelCase PascalCase",
  "Mr. O'Neil's café's menu", "don't DON'T Don't dOn'T", "y'all ma'am o'clock",
  "   'tis", "\"'s\"", "'s\n'T\n",
  "<|begin_of_text|>Hello<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
  "text <|eot_id|> more", "<|eot_id|><|eot_id|>", "<|eot", "<|reserved_special_token_5|>x", "<|not_special|>",
  "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ",
  "\u0000\u0001\u001f\u007f", "\u00ad soft hyphen", "zero\u200bwidth\u200cjoiner\u200d", "\u2060word joiner",
  "ﬁ ﬂ ligatures", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "ǅ ǈ ǋ titlecase", "İstanbul ıi",
  "ΑΒΓ αβγ ΣΣ σς", "ß ẞ", "ʼapostrophe modifier", "don’t (curly apostrophe)",
  "a".repeat(300), "ab ".repeat(100), "1".repeat(50), " ".repeat(40) + "x", "\n".repeat(20),
  "The Apache License, Version 2.0 (the \"License\"); you may not use this file except in compliance with the License.\n" +
  "You may obtain a copy of the License at\n\n    http://www.apache.org/licenses/LICENSE-2.0\n\n" +
  "Unless required by applicable law or agreed to in writing, software distributed under the License is distributed on an \"AS IS\" BASIS.",
];

// Deterministic PRNG (mulberry32) so the corpus is reproducible.
function mulberry32(a) {
  return function () {
    a |= 0; a = a + 0x6D2B79F5 | 0;
    let t = Math.imul(a ^ a >>> 15, 1 | a);
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20240515);
const pool = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", ..."0123456789",
  " ", " ", " ", " ", "  ", "\n", "\r", "\t", "\r\n", "'", "'s", "'t", "'re", "'VE", "'m", "'ll", "'D",
  ..."!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~", "é", "ü", "ñ", "ç", "ø", "ß", "İ", "е", "ж", "Ω", "λ",
  "中", "文", "字", "日", "本", "語", "한", "국", "ア", "あ", "ー", "。", "，", "、", "！",
  "😀", "👍🏽", "🇯🇵", "👨‍👩‍👧", "✓", "€", "£", "¥", "©", "®", "™", "°", "±", "×", "÷", "½", "²",
  "\u00a0", "\u3000", "\u2003", "\u0301", "\u0308", "\u200b", "\u200d", "٣", "१", "１", "Ⅻ", "ـ", "ع", "ב", "क", "ि", "्",
  "<|eot_id|>", "<|", "|>", "...", "--", "==", "->", "://", "http", "the", "The", " the", "ing", "tion",
];
const random = [];
for (let i = 0; i < 400; i++) {
  const n = 1 + Math.floor(rnd() * 40);
  let s = "";
  for (let j = 0; j < n; j++) s += pool[Math.floor(rnd() * pool.length)];
  random.push(s);
}

const noSpecial = /(?!)/g;
const cases = [...fixed, ...random].map(text => ({
  text,
  ids: t.encode(text, { bos: false, eos: false }),
  ids_text: t.encode(text, { bos: false, eos: false, specialTokenRegex: noSpecial }),
}));
fs.writeFileSync(process.argv[2], JSON.stringify({
  generator: "llama3-tokenizer-js@1.2.0 via corpus.mjs (see README.md)",
  cases,
}, null, 0) + "\n");
console.error("cases", cases.length, "fixed", fixed.length, "random", random.length);
