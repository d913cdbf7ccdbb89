// The chat page of `bitnet serve` in a real browser: Debian's chromium,
// headless, driven by puppeteer-core (which never downloads a browser).
// run.sh starts the server with an API key and passes BITNET_URL,
// BITNET_API_KEY and CHROMIUM; SCREENSHOT, when set, is where a screenshot
// of the page goes at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import puppeteer from 'puppeteer-core';

const url = process.env.BITNET_URL;
const key = process.env.BITNET_API_KEY;
let browser;
let page;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const streaming = () => page.evaluate(() => document.body.dataset.streaming === 'true');
const lastReply = () => page.evaluate(() => {
  const all = document.querySelectorAll('.msg.assistant .content');
  return all.length ? all[all.length - 1].textContent : '';
});
const conversation = () => page.$$eval('.msg', (els) => els.map((el) => ({
  role: el.querySelector('.role').textContent,
  text: el.querySelector('.content').textContent,
  note: el.querySelector('.note').textContent,
  error: el.classList.contains('error'),
})));

async function setNumber(id, value) {
  await page.$eval(`#${id}`, (el) => { el.value = ''; });
  await page.type(`#${id}`, String(value));
}

// Puppeteer polls waitForFunction on animation frames by default, which
// a headless page may not get; poll on a timer instead.
const poll = { polling: 20 };

// sendMessage sends text and returns once the page shows it and an
// assistant message under it (send() draws both at once). The reply may
// already have ended by then.
async function sendMessage(text) {
  const n = (await conversation()).length;
  await page.type('#input', text);
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelectorAll('.msg').length >= n + 2, { ...poll, timeout: 10_000 }, n);
}

before(async () => {
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    // Root in CI: chromium's sandbox needs a user namespace it may not get.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 760 });
  page.on('pageerror', (e) => { throw e; });
  await page.goto(`${url}/`, { waitUntil: 'load' });
  await page.click('#settings-toggle');
  await page.type('#api-key', key);
  await page.type('#system-prompt', 'You are a terse assistant.');
  await setNumber('temperature', 0.7);
  await setNumber('max_tokens', 120);
  await page.click('#settings-toggle');
});

after(async () => {
  if (process.env.SCREENSHOT && page) await page.screenshot({ path: process.env.SCREENSHOT });
  await browser?.close();
});

// The model has random weights: a reply can end by itself after a token or
// two, too soon to watch it stream or to stop it. Such a try is repeated.
const TRIES = 4;

test('a reply streams in', async () => {
  let seen;
  let msgs;
  for (let t = 0; t < TRIES; t++) {
    await sendMessage('Hello! Write a short **greeting** and some `code`.');
    // Watch the reply while the stream runs: its text must grow in steps.
    seen = new Set();
    while (await streaming()) {
      const n = (await lastReply()).length;
      if (n > 0) seen.add(n);
      await sleep(15);
    }
    msgs = await conversation();
    const reply = msgs.at(-1);
    assert.equal(reply.role, 'assistant');
    assert.ok(!reply.error, `the reply failed: ${reply.note}`);
    if (seen.size >= 2) break;
  }
  assert.ok(msgs.at(-1).text.length > 0, 'empty reply');
  assert.ok(seen.size >= 2, `the reply did not grow while streaming (lengths seen: ${[...seen]})`);
});

test('stop ends a reply mid-stream and frees its slot', async () => {
  await page.click('#settings-toggle');
  await setNumber('max_tokens', 2000);
  await page.click('#settings-toggle');
  let note = '';
  for (let t = 0; t < TRIES && note !== 'stopped'; t++) {
    await sendMessage('Now tell me a very long story.');
    await page.waitForFunction(() => {
      const all = document.querySelectorAll('.msg.assistant .content');
      return all[all.length - 1].textContent.length > 0 || document.body.dataset.streaming === 'false';
    }, { ...poll, timeout: 30_000 });
    await page.click('#stop').catch(() => {}); // hidden if the reply already ended
    await page.waitForFunction(() => document.body.dataset.streaming === 'false', { ...poll, timeout: 5_000 });
    const stopped = await lastReply();
    await sleep(500);
    assert.equal(await lastReply(), stopped, 'text kept arriving after stop');
    note = (await conversation()).at(-1).note;
  }
  assert.equal(note, 'stopped');
  // The server noticed the closed stream and freed the slot.
  let busy = -1;
  for (let i = 0; i < 100 && busy !== 0; i++) {
    busy = (await (await fetch(`${url}/health`)).json()).slots_busy;
    if (busy !== 0) await sleep(50);
  }
  assert.equal(busy, 0, 'a slot is still busy after stop');
});

test('a reload shows the same conversation', async () => {
  const before = await conversation();
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('.msg');
  const after = await conversation();
  assert.ok(after.length >= 4, `${after.length} messages`);
  assert.deepEqual(after, before);
  assert.equal(after.at(-1).note, 'stopped');
  assert.equal(await page.$eval('#api-key', (el) => el.value), key, 'the API key was not kept');
});

test('markdown renders code blocks and never markup from the reply', async () => {
  const out = await page.evaluate(() => {
    const div = document.createElement('div');
    div.innerHTML = window.renderMarkdown(
      '# Title\nSome **bold** and `x < y`\n\n```go\nfunc main() {}\n```\n'
      + '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>\n'
      + '[bad](javascript:window.pwned=3) [good](https://example.com/a_b_c)',
    );
    document.body.appendChild(div);
    return {
      h1: div.querySelector('h1')?.textContent,
      strong: div.querySelector('strong')?.textContent,
      inlineCode: div.querySelector('p code')?.textContent,
      block: div.querySelector('pre code.language-go')?.textContent,
      tags: [...div.querySelectorAll('img, script')].length,
      links: [...div.querySelectorAll('a')].map((a) => a.getAttribute('href')),
      pwned: window.pwned ?? null,
    };
  });
  assert.deepEqual(out, {
    h1: 'Title', strong: 'bold', inlineCode: 'x < y', block: 'func main() {}',
    tags: 0, links: ['https://example.com/a_b_c'], pwned: null,
  });
  await page.evaluate(() => document.body.lastChild.remove());
});
