// Encodes every text of llama3-corpus.json with SentencePiece itself
// (sentencepiece-js, the library compiled to WebAssembly) and the golden
// models' tokenizer.model, and writes spm-corpus.json (ids without BOS).
const { SentencePieceProcessor } = require("sentencepiece-js");
const fs = require("fs");
async function main() {
  const [model, corpusPath, outPath] = process.argv.slice(2);
  const spp = new SentencePieceProcessor();
  await spp.load(model);
  const corpus = JSON.parse(fs.readFileSync(corpusPath, "utf8"));
  const cases = corpus.cases.map(({ text }) => ({ text, ids: text === "" ? [] : spp.encodeIds(text) }));
  fs.writeFileSync(outPath, JSON.stringify({ generator: "sentencepiece-js@1.1.0 via spm-corpus.cjs (see README.md)", cases }) + "\n");
  console.error("cases", cases.length);
}
main();
