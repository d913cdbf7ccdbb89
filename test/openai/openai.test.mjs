// The official OpenAI Node.js client against `bitnet serve` (started by
// run.sh, which passes BITNET_URL, BITNET_API_KEY, BITNET_MODEL and
// BITNET_CONTEXT). Requests are greedy (temperature 0) or seeded, so that a
// streamed reply can be compared with the same reply in one piece. The model
// has random weights: replies are gibberish, often invalid UTF-8 (which
// arrives as U+FFFD), but their shape is what a real model's would be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = `${process.env.BITNET_URL}/v1`;
const apiKey = process.env.BITNET_API_KEY;
const model = process.env.BITNET_MODEL;
const context = Number(process.env.BITNET_CONTEXT);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });

const messages = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Say hello to the world.' },
];

// collect reads a stream the way applications do.
async function collect(stream) {
  let text = '';
  let finish = null;
  let usage = null;
  let role = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.delta?.content ?? c.text ?? '';
      role ??= c.delta?.role ?? null;
      if (c.finish_reason) finish = c.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, finish, usage, role };
}

function checkUsage(u) {
  assert.ok(u.prompt_tokens > 0, 'prompt_tokens');
  assert.ok(u.completion_tokens > 0, 'completion_tokens');
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
}

test('models.list names the served model', async () => {
  const page = await client.models.list();
  assert.deepEqual(page.data.map((m) => m.id), [model]);
  const m = await client.models.retrieve(model);
  assert.equal(m.id, model);
});

test('chat completion, non-streamed', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(['stop', 'length'].includes(c.finish_reason), c.finish_reason);
  checkUsage(r.usage);
  assert.ok(r.usage.completion_tokens <= 24);
});

test('chat completion, streamed, equals the non-streamed reply', async () => {
  const params = { model, messages, max_tokens: 24, temperature: 1, seed: 1234 };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({
    ...params, stream: true, stream_options: { include_usage: true },
  });
  const s = await collect(stream);
  assert.equal(s.role, 'assistant');
  assert.equal(s.text, whole.choices[0].message.content);
  assert.equal(s.finish, whole.choices[0].finish_reason);
  assert.deepEqual(s.usage, whole.usage);
});

test('text completion, streamed and not', async () => {
  const params = { model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0 };
  const whole = await client.completions.create(params);
  assert.equal(whole.object, 'text_completion');
  assert.equal(typeof whole.choices[0].text, 'string');
  checkUsage(whole.usage);
  const s = await collect(await client.completions.create({ ...params, stream: true }));
  assert.equal(s.text, whole.choices[0].text);
  assert.equal(s.finish, whole.choices[0].finish_reason);
});

test('a stop sequence cuts the reply', async (t) => {
  const params = { model, messages, max_tokens: 24, temperature: 1, seed: 99 };
  const full = (await client.chat.completions.create(params)).choices[0].message.content;
  const m = full.slice(1).match(/[A-Za-z]{2}/);
  if (!m) {
    t.skip(`no two-letter run to stop on in ${JSON.stringify(full)}`);
    return;
  }
  const stop = m[0];
  const r = await client.chat.completions.create({ ...params, stop: [stop] });
  assert.equal(r.choices[0].message.content, full.slice(0, full.indexOf(stop)));
  assert.equal(r.choices[0].finish_reason, 'stop');
});

test('concurrent streams are all served', async () => {
  const replies = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => collect(
    await client.chat.completions.create({
      model, max_tokens: 16, temperature: 0, stream: true,
      messages: [{ role: 'user', content: `Count to ${i}.` }],
    }),
  )));
  for (const r of replies) assert.ok(['stop', 'length'].includes(r.finish));
});

test('any model name is served, as the served model', async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 4, temperature: 0 });
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
});

test('a prompt longer than the context is a BadRequestError', async () => {
  const long = 'word '.repeat(context * 2);
  await assert.rejects(
    client.chat.completions.create({ model, messages: [{ role: 'user', content: long }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded',
  );
});

test('a wrongly typed parameter is a BadRequestError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model, messages, max_tokens: 'lots' }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'max_tokens',
  );
});

test('a wrong API key is an AuthenticationError', async () => {
  const bad = new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(
    bad.chat.completions.create({ model, messages }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401,
  );
});

test('aborting a stream midway frees its slot and leaves the server serving', async () => {
  const stream = await client.chat.completions.create(
    { model, messages: [{ role: 'user', content: 'Tell me a long story.' }], max_tokens: 200, temperature: 0, stream: true },
  );
  let chunks = 0;
  let finished = false;
  try {
    for await (const chunk of stream) {
      finished ||= chunk.choices[0]?.finish_reason != null;
      if (++chunks === 2) {
        stream.controller.abort();
        // Chunks already buffered may still be yielded after the abort; a
        // fast server sends several per read, so stop reading here.
        break;
      }
    }
  } catch (e) {
    // The client may end the loop quietly or with an abort error.
    assert.ok(e instanceof OpenAI.APIUserAbortError || e.name === 'AbortError', String(e));
  }
  assert.equal(chunks, 2, 'chunks read before the abort');
  assert.ok(!finished, 'the stream finished before the abort');
  // The server notices the disconnect and frees the slot (GET /health needs no key).
  let busy = -1;
  for (let i = 0; i < 200 && busy !== 0; i++) {
    busy = (await (await fetch(`${process.env.BITNET_URL}/health`)).json()).slots_busy;
    if (busy !== 0) await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(busy, 0, 'slots still busy after the abort');
  const r = await client.chat.completions.create({ model, messages, max_tokens: 4, temperature: 0 });
  assert.equal(r.choices.length, 1);
});

// ---- The fields beyond the basics (issue 19). The model has random
// weights, so each test compares replies with and without a field, or
// checks a property that holds whatever the weights.

// tokens of a reply, from its chat logprobs.
const tokensOf = (r) => r.choices[0].logprobs.content.map((e) => e.token);

test('chat logprobs and top_logprobs in OpenAI\'s shape', async () => {
  const r = await client.chat.completions.create({
    model, messages, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const c = r.choices[0];
  assert.equal(c.logprobs.refusal, null);
  const content = c.logprobs.content;
  const eog = c.finish_reason === 'stop' ? 1 : 0; // the end-of-generation token has no entry
  assert.equal(content.length, r.usage.completion_tokens - eog);
  for (const e of content) {
    assert.equal(typeof e.token, 'string');
    assert.ok(e.logprob <= 0, `logprob ${e.logprob}`);
    assert.ok(Array.isArray(e.bytes) && e.bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256));
    assert.equal(e.top_logprobs.length, 3);
    const lps = e.top_logprobs.map((t) => t.logprob);
    assert.deepEqual(lps, [...lps].sort((a, b) => b - a), 'top_logprobs best first');
    // Greedy: the sampled token is the most likely one.
    assert.equal(e.logprob, e.top_logprobs[0].logprob);
    assert.deepEqual(e.bytes, e.top_logprobs[0].bytes);
    assert.ok(lps.reduce((s, l) => s + Math.exp(l), 0) <= 1 + 1e-5);
  }
  // The bytes of the tokens are the reply's bytes.
  const bytes = Buffer.from(content.flatMap((e) => e.bytes));
  assert.equal(bytes.toString('utf8'), c.message.content);
});

test('streamed logprobs equal the whole reply\'s', async () => {
  const params = { model, messages, max_tokens: 10, temperature: 1, seed: 7, logprobs: true, top_logprobs: 2 };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true });
  const streamed = [];
  for await (const chunk of stream) {
    for (const c of chunk.choices) streamed.push(...(c.logprobs?.content ?? []));
  }
  assert.deepEqual(streamed, whole.choices[0].logprobs.content);
});

test('completion logprobs in the legacy shape', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 6, temperature: 0, logprobs: 2 });
  const lp = r.choices[0].logprobs;
  const n = lp.tokens.length;
  assert.ok(n > 0);
  for (const k of ['token_logprobs', 'top_logprobs', 'text_offset']) assert.equal(lp[k].length, n, k);
  // text_offset is the byte offset of each token's bytes in the reply. A
  // token that is part of a UTF-8 character shows as U+FFFD (and so may
  // the text), so the check against the text stops at the first such one.
  const text = Buffer.from(r.choices[0].text);
  let exact = true;
  assert.equal(lp.text_offset[0], 0);
  for (let i = 0; i < n; i++) {
    assert.ok(lp.token_logprobs[i] <= 0);
    assert.ok(Object.keys(lp.top_logprobs[i]).length >= 1 && Object.keys(lp.top_logprobs[i]).length <= 2);
    assert.equal(lp.top_logprobs[i][lp.tokens[i]], lp.token_logprobs[i], 'greedy: the token is its own top');
    if (i > 0) assert.ok(lp.text_offset[i] > lp.text_offset[i - 1]);
    const tok = lp.tokens[i];
    exact &&= !tok.includes('\uFFFD');
    if (exact) {
      const at = lp.text_offset[i];
      assert.equal(text.subarray(at, at + Buffer.byteLength(tok)).toString(), tok, `token ${i} at ${at}`);
    }
  }
});

test('logit_bias +100 forces a token, -100 bans one', async () => {
  const base = { model, messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 1 };
  const plain = await client.chat.completions.create(base);
  // Token 300 is a byte-level BPE merge of the built-in tokenizer.
  const forced = await client.chat.completions.create({ ...base, logit_bias: { 300: 100 } });
  const toks = tokensOf(forced);
  assert.equal(toks.length, 6);
  assert.ok(toks.every((t) => t === toks[0]), `forced reply ${JSON.stringify(toks)}`);
  assert.notDeepEqual(toks, tokensOf(plain));
  // Banning the greedy reply's first token changes the first token. Its
  // id is found by bisection: ban half of the candidates at once and see
  // whether the first token changes.
  const first = JSON.stringify(plain.choices[0].logprobs.content[0].bytes);
  const firstBytes = async (bias) => JSON.stringify(
    (await client.chat.completions.create({ ...base, max_tokens: 1, logit_bias: bias })).choices[0].logprobs.content[0].bytes);
  let [lo, hi] = [0, 512]; // the 512 tokens of the built-in tokenizer
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const bias = Object.fromEntries(Array.from({ length: mid - lo }, (_, i) => [lo + i, -100]));
    if (await firstBytes(bias) !== first) hi = mid; else lo = mid;
  }
  assert.notEqual(await firstBytes({ [lo]: -100 }), first, `banning token ${lo} alone`);
  assert.equal(await firstBytes({ [lo]: 100 }), first, `forcing token ${lo}`);
});

test('frequency, presence and repeat penalties change a repetitive reply', async () => {
  const base = { model, messages, max_tokens: 48, temperature: 0 };
  const plain = (await client.chat.completions.create(base)).choices[0].message.content;
  for (const extra of [
    { frequency_penalty: 2 },
    { presence_penalty: 2 },
    { repeat_penalty: 1.8, repeat_last_n: -1 },
  ]) {
    const r = await client.chat.completions.create({ ...base, ...extra });
    assert.notEqual(r.choices[0].message.content, plain, JSON.stringify(extra));
  }
  // Negative penalties reward repeats: still a change.
  const r = await client.completions.create({ model, prompt: 'the the the', max_tokens: 16, temperature: 0, presence_penalty: -2 });
  assert.equal(r.choices[0].finish_reason !== undefined, true);
});

test('top_k 1 and min_p 1 are greedy at any temperature', async () => {
  const base = { model, messages, max_tokens: 16 };
  const greedy = (await client.chat.completions.create({ ...base, temperature: 0 })).choices[0].message.content;
  for (const extra of [{ top_k: 1 }, { min_p: 1 }]) {
    const r = await client.chat.completions.create({ ...base, ...extra, temperature: 1.5, seed: 3 });
    assert.equal(r.choices[0].message.content, greedy, JSON.stringify(extra));
  }
  const wild = await client.chat.completions.create({ ...base, temperature: 1.5, seed: 3 });
  assert.notEqual(wild.choices[0].message.content, greedy, 'temperature 1.5 alone should wander');
});

test('n > 1 returns distinct choices and counts the prompt once', async () => {
  const one = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 1, seed: 5 });
  const r = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 1, seed: 5, n: 3 });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  assert.equal(r.choices[0].message.content, one.choices[0].message.content, 'choice 0 uses the seed itself');
  assert.ok(new Set(r.choices.map((c) => c.message.content)).size >= 2, 'the choices are all alike');
  assert.equal(r.usage.prompt_tokens, one.usage.prompt_tokens);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  // Streamed: every choice ends once.
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0, n: 2, stream: true });
  const ends = [0, 0];
  const texts = ['', ''];
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      texts[c.index] += c.delta?.content ?? '';
      if (c.finish_reason) ends[c.index]++;
    }
  }
  assert.deepEqual(ends, [1, 1]);
  assert.equal(texts[0], texts[1], 'greedy choices agree');
  // The server copied the prompt's KV cache instead of reading it again.
  const metrics = await (await fetch(`${process.env.BITNET_URL}/metrics`, { headers: { Authorization: `Bearer ${apiKey}` } })).text();
  const shared = Number(metrics.match(/^bitnet_prompt_tokens_shared_total (\d+)$/m)?.[1]);
  assert.ok(shared > 0, 'no prompt tokens were shared');
});

test('max_completion_tokens applies to completions', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_completion_tokens: 3, temperature: 0 });
  assert.ok(r.usage.completion_tokens <= 3);
});

test('an unknown field is a BadRequestError naming it', async () => {
  await assert.rejects(
    client.chat.completions.create({ model, messages, mirostat_tau: 5 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'mirostat_tau',
  );
});

test('/metrics, /props and CORS preflight', async () => {
  const base = process.env.BITNET_URL;
  const auth = { Authorization: `Bearer ${apiKey}` };
  const m = await fetch(`${base}/metrics`, { headers: auth });
  assert.match(m.headers.get('content-type'), /^text\/plain/);
  const text = await m.text();
  for (const name of ['bitnet_requests_total', 'bitnet_generated_tokens_total', 'bitnet_queue_depth',
    'bitnet_slots_busy', 'bitnet_time_to_first_token_seconds_bucket', 'bitnet_generation_tokens_per_second_bucket']) {
    assert.match(text, new RegExp(`^${name}`, 'm'), name);
  }
  const props = await (await fetch(`${base}/props`, { headers: auth })).json();
  assert.equal(props.total_slots, 4);
  assert.equal(props.default_generation_settings.n_ctx, context);
  assert.equal(props.model_alias, model);
  const origin = process.env.BITNET_CORS_ORIGIN;
  const pre = await fetch(`${base}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  assert.match(pre.headers.get('access-control-allow-headers'), /authorization/);
  const other = await fetch(`${base}/v1/models`, { headers: { ...auth, Origin: 'https://elsewhere.test' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});
