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

test('an unknown model is a NotFoundError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found',
  );
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
