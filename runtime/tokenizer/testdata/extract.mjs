// Dumps the Llama-3 vocabulary and merges embedded in llama3-tokenizer-js
// in GGUF form: tokens (GPT-2 byte-level strings, one per line, id order)
// and merges ("left right", one per line, rank order).
import fs from 'node:fs';
import llama3Tokenizer from 'llama3-tokenizer-js';
const t = llama3Tokenizer;
const out = process.argv[2];
fs.writeFileSync(out + '/llama3-vocab.txt', t.vocabById.join('\n') + '\n');
const merges = [...t.merges.entries()].sort((a, b) => a[1] - b[1]).map(e => e[0]);
fs.writeFileSync(out + '/llama3-merges.txt', merges.join('\n') + '\n');
console.error('tokens', t.vocabById.length, 'merges', merges.length);
