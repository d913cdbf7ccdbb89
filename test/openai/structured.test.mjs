// Structured output and tools through the official OpenAI Node.js client
// (run by run.sh beside openai.test.mjs, with the same environment). The
// model has random weights, so its free text is never JSON: every reply
// here parses and validates only because the server constrains sampling to
// the schema. Replies are validated with ajv, independently of the
// server's own validator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Ajv2020 from 'ajv/dist/2020.js';

const client = new OpenAI({
  baseURL: `${process.env.BITNET_URL}/v1`, apiKey: process.env.BITNET_API_KEY, maxRetries: 0, timeout: 300_000,
});
const model = process.env.BITNET_MODEL;
const ajv = new Ajv2020({ strict: true, allErrors: true });

// A schema that uses every supported keyword.
const order = {
  type: 'object',
  properties: {
    id: { type: 'integer', minimum: 1, maximum: 9999 },
    customer: { $ref: '#/$defs/person' },
    items: {
      type: 'array', minItems: 1, maxItems: 3,
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string', minLength: 2, maxLength: 6 },
          qty: { type: 'integer', minimum: 1, maximum: 5 },
          price: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
        },
        required: ['sku', 'qty', 'price'],
        additionalProperties: false,
      },
    },
    status: { enum: ['new', 'paid', 'shipped'] },
    currency: { const: 'EUR' },
    note: { anyOf: [{ type: 'string', maxLength: 12 }, { type: 'null' }] },
    express: { type: 'boolean' },
  },
  required: ['id', 'customer', 'items', 'status', 'currency', 'note', 'express'],
  additionalProperties: false,
  $defs: {
    person: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 10 }, vip: { type: 'boolean' } },
      required: ['name', 'vip'],
      additionalProperties: false,
    },
  },
};
const validOrder = ajv.compile(order);
const messages = [{ role: 'user', content: 'Make up an order as JSON.' }];
const responseFormat = { type: 'json_schema', json_schema: { name: 'order', strict: true, schema: order } };

function checkOrder(text) {
  let doc;
  assert.doesNotThrow(() => { doc = JSON.parse(text); }, `not JSON: ${text}`);
  assert.ok(validOrder(doc), `${text}: ${ajv.errorsText(validOrder.errors)}`);
}

test('json_schema: replies parse and validate, whatever the seed', async () => {
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({
      model, messages, temperature: 1, seed, max_tokens: 300, response_format: responseFormat,
    });
    assert.equal(r.choices[0].finish_reason, 'stop', r.choices[0].message.content);
    checkOrder(r.choices[0].message.content);
  }
  // The same request without the constraint is the model's usual noise.
  const free = await client.chat.completions.create({ model, messages, temperature: 1, seed: 1, max_tokens: 60 });
  let parsed = null;
  try { parsed = JSON.parse(free.choices[0].message.content); } catch { /* expected */ }
  assert.ok(parsed === null || !validOrder(parsed), 'the unconstrained model wrote a valid order by itself');
});

test('json_schema streamed equals the same reply in one piece', async () => {
  const params = { model, messages, temperature: 0.8, seed: 7, max_tokens: 300, response_format: responseFormat };
  const whole = await client.chat.completions.create(params);
  let text = '';
  for await (const chunk of await client.chat.completions.create({ ...params, stream: true })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, whole.choices[0].message.content);
  checkOrder(text);
});

test('json_object: the reply is a JSON object', async () => {
  const r = await client.chat.completions.create({
    model, messages, temperature: 1, seed: 4, max_tokens: 120, response_format: { type: 'json_object' },
  });
  const doc = JSON.parse(r.choices[0].message.content);
  assert.equal(typeof doc, 'object');
  assert.ok(doc !== null && !Array.isArray(doc));
});

test('an unsupported schema keyword is a BadRequestError naming it', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model, messages, response_format: {
        type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^a+$' } },
      },
    }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'response_format.json_schema.schema' && /pattern/.test(e.message),
  );
});

const weatherParams = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 1, maxLength: 12 },
    unit: { enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};
const timeParams = {
  type: 'object', properties: { zone: { type: 'string', maxLength: 8 } }, required: ['zone'], additionalProperties: false,
};
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Forecast for a city', parameters: weatherParams, strict: true } },
  { type: 'function', function: { name: 'get_time', description: 'Time in a zone', parameters: timeParams, strict: true } },
];
const validArgs = { get_weather: ajv.compile(weatherParams), get_time: ajv.compile(timeParams) };
const toolMessages = [{ role: 'user', content: 'What is the weather in Paris?' }];

function checkCalls(calls, only) {
  assert.ok(calls.length > 0, 'no tool calls');
  for (const c of calls) {
    assert.equal(c.type, 'function');
    assert.match(c.id, /^call_/);
    if (only) assert.equal(c.function.name, only);
    const valid = validArgs[c.function.name];
    assert.ok(valid, `unknown function ${c.function.name}`);
    const args = JSON.parse(c.function.arguments);
    assert.ok(valid(args), `${c.function.arguments}: ${ajv.errorsText(valid.errors)}`);
  }
}

test('tool_choice required: tool calls with valid arguments', async () => {
  for (const seed of [1, 2]) {
    const r = await client.chat.completions.create({
      model, messages: toolMessages, tools, tool_choice: 'required', temperature: 1, seed, max_tokens: 200,
    });
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.content, null);
    checkCalls(c.message.tool_calls);
  }
});

test('a named function, one call only', async () => {
  const r = await client.chat.completions.create({
    model, messages: toolMessages, tools, temperature: 1, seed: 5, max_tokens: 200,
    tool_choice: { type: 'function', function: { name: 'get_time' } }, parallel_tool_calls: false,
  });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(r.choices[0].message.tool_calls.length, 1);
  checkCalls(r.choices[0].message.tool_calls, 'get_time');
});

test('streamed tool calls assemble into the same calls', async () => {
  const params = { model, messages: toolMessages, tools, tool_choice: 'required', temperature: 1, seed: 9, max_tokens: 200 };
  const whole = await client.chat.completions.create(params);
  const calls = [];
  let finish = null;
  let chunksWithArgs = 0;
  for await (const chunk of await client.chat.completions.create({ ...params, stream: true })) {
    const ch = chunk.choices[0];
    if (!ch) continue;
    for (const d of ch.delta?.tool_calls ?? []) {
      calls[d.index] ??= { id: '', type: '', function: { name: '', arguments: '' } };
      const c = calls[d.index];
      if (d.id) c.id = d.id;
      if (d.type) c.type = d.type;
      if (d.function?.name) c.function.name += d.function.name;
      if (d.function?.arguments) {
        c.function.arguments += d.function.arguments;
        chunksWithArgs++;
      }
    }
    if (ch.finish_reason) finish = ch.finish_reason;
  }
  assert.equal(finish, 'tool_calls');
  checkCalls(calls);
  assert.ok(chunksWithArgs > calls.length, 'arguments did not stream in pieces');
  assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]),
    whole.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]));
});

test('tool results go back into the conversation', async () => {
  const first = await client.chat.completions.create({
    model, messages: toolMessages, tools, tool_choice: 'required', temperature: 0, max_tokens: 200,
  });
  const msg = first.choices[0].message;
  const convo = [...toolMessages, msg, ...msg.tool_calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '21 degrees, sunny' }))];
  for (const tool_choice of ['auto', 'none']) {
    const r = await client.chat.completions.create({ model, messages: convo, tools, tool_choice, temperature: 0, max_tokens: 16 });
    const c = r.choices[0];
    assert.ok(['stop', 'length', 'tool_calls'].includes(c.finish_reason), c.finish_reason);
    if (c.finish_reason === 'tool_calls') checkCalls(c.message.tool_calls);
    else assert.equal(typeof c.message.content, 'string');
    if (tool_choice === 'none') assert.equal(c.message.tool_calls, undefined);
  }
  await assert.rejects(
    client.chat.completions.create({ model, messages: [...toolMessages, { role: 'tool', content: 'x' }], tools }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages[1].tool_call_id',
  );
});

test('logprobs with tools: a call has null logprobs, a text reply spells its content', async () => {
  const call = await client.chat.completions.create({
    model, messages: toolMessages, tools, tool_choice: 'required', temperature: 0, max_tokens: 200, logprobs: true, top_logprobs: 2,
  });
  assert.equal(call.choices[0].finish_reason, 'tool_calls');
  checkCalls(call.choices[0].message.tool_calls);
  assert.equal(call.choices[0].logprobs ?? null, null);
  for (const stream of [false, true]) {
    const params = { model, messages: toolMessages, tools, tool_choice: 'none', temperature: 0, max_tokens: 12, logprobs: true };
    let content = '';
    let spelled = '';
    if (stream) {
      for await (const chunk of await client.chat.completions.create({ ...params, stream: true })) {
        const ch = chunk.choices[0];
        if (!ch) continue;
        content += ch.delta?.content ?? '';
        spelled += (ch.logprobs?.content ?? []).map((e) => e.token).join('');
      }
    } else {
      const r = await client.chat.completions.create(params);
      content = r.choices[0].message.content;
      spelled = r.choices[0].logprobs.content.map((e) => e.token).join('');
    }
    assert.ok(content.length > 0, 'an empty reply');
    assert.equal(spelled, content, `stream ${stream}`);
  }
});
