// Package grammar constrains generation to JSON documents that satisfy a
// JSON Schema, token by token.
//
// Compile turns a schema into a pushdown automaton over bytes (a Matcher);
// NewVocab lays a model's token pieces out as a byte trie. At each step
// Matcher.Allowed walks the trie with the automaton, pruning every prefix
// the schema rules out, and returns the tokens whose whole piece keeps the
// text a prefix of a valid document, plus the end-of-generation tokens
// once the document is complete. Masking all other logits before sampling
// makes the reply parse and validate whatever the model's weights.
//
// Whitespace between tokens is bounded (MaxIndent), numbers have at
// most 15 significant digits (so that bounds are checked exactly) and
// property names are spelled as encoding/json spells them; every document
// produced is still ordinary JSON that any validator accepts.
package grammar
