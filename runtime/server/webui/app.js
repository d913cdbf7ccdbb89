// The chat page: sends the conversation to /v1/chat/completions with
// stream: true, renders the reply as it arrives, and keeps the
// conversation, the settings and the API key in localStorage, so a reload
// shows the same conversation. No framework and no build step.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const STORE = { chat: 'bitnet.chat', settings: 'bitnet.settings', key: 'bitnet.apiKey' };
  const NUMBERS = ['temperature', 'top_p', 'top_k', 'min_p', 'repeat_penalty', 'max_tokens'];
  const DEFAULTS = { system: '', temperature: 0.8, top_p: 0.95, top_k: 40, min_p: 0.05, repeat_penalty: 1, max_tokens: 512 };

  const load = (k, d) => {
    try { return JSON.parse(localStorage.getItem(k)) ?? d; } catch { return d; }
  };
  // messages: [{ role: 'user' | 'assistant', content, note? }]
  let messages = load(STORE.chat, []);
  const settings = { ...DEFAULTS, ...load(STORE.settings, {}) };
  let controller = null; // the running request's AbortController

  const saveChat = () => localStorage.setItem(STORE.chat, JSON.stringify(messages));
  const saveSettings = () => localStorage.setItem(STORE.settings, JSON.stringify(settings));
  const status = (text) => { $('status').textContent = text; };

  // Settings: the form mirrors `settings`; every change is saved.
  $('system-prompt').value = settings.system;
  for (const n of NUMBERS) $(n).value = settings[n];
  $('api-key').value = localStorage.getItem(STORE.key) ?? '';
  $('system-prompt').addEventListener('input', (e) => { settings.system = e.target.value; saveSettings(); });
  for (const n of NUMBERS) {
    $(n).addEventListener('input', (e) => {
      const v = e.target.value === '' ? DEFAULTS[n] : Number(e.target.value);
      if (Number.isFinite(v)) { settings[n] = v; saveSettings(); }
    });
  }
  $('api-key').addEventListener('input', (e) => localStorage.setItem(STORE.key, e.target.value));
  $('settings-toggle').addEventListener('click', () => {
    const s = $('settings');
    s.hidden = !s.hidden;
    $('settings-toggle').setAttribute('aria-expanded', String(!s.hidden));
  });

  function headers() {
    const h = { 'Content-Type': 'application/json' };
    const key = localStorage.getItem(STORE.key);
    if (key) h.Authorization = `Bearer ${key}`;
    return h;
  }

  // render draws message i (creating its element when needed).
  function render(i) {
    const m = messages[i];
    let el = $('log').children[i];
    if (!el) {
      el = document.createElement('div');
      el.innerHTML = '<div class="role"></div><div class="content"></div><div class="note"></div>';
      $('log').appendChild(el);
    }
    el.className = `msg ${m.role}${m.error ? ' error' : ''}`;
    el.querySelector('.role').textContent = m.role;
    const content = el.querySelector('.content');
    if (m.role === 'assistant') content.innerHTML = window.renderMarkdown(m.content);
    else content.textContent = m.content;
    el.querySelector('.note').textContent = m.note ?? '';
  }

  function renderAll() {
    $('log').replaceChildren();
    messages.forEach((_, i) => render(i));
    $('log').scrollTop = $('log').scrollHeight;
  }

  function setStreaming(on) {
    document.body.dataset.streaming = String(on);
    $('send').hidden = on;
    $('stop').hidden = !on;
    $('input').disabled = on;
  }

  // events yields the data payloads of a server-sent event stream.
  async function* events(body) {
    const reader = body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        for (const line of ev.split('\n')) {
          if (line.startsWith('data: ')) yield line.slice(6);
        }
      }
    }
  }

  async function send(text) {
    messages.push({ role: 'user', content: text });
    const reply = { role: 'assistant', content: '' };
    messages.push(reply);
    const i = messages.length - 1;
    saveChat();
    render(i - 1);
    render(i);
    setStreaming(true);
    status('generating…');

    const history = messages.slice(0, -1).filter((m) => !m.error).map(({ role, content }) => ({ role, content }));
    if (settings.system.trim()) history.unshift({ role: 'system', content: settings.system });
    const body = { messages: history, stream: true };
    for (const n of NUMBERS) body[n] = settings[n];

    controller = new AbortController();
    let pending = false;
    const redraw = () => {
      if (pending) return;
      pending = true;
      // A timer rather than requestAnimationFrame, which browsers pause in
      // pages they do not show (a background tab, a headless run).
      setTimeout(() => {
        pending = false;
        if (messages[i] !== reply) return; // the conversation was cleared
        render(i);
        $('log').scrollTop = $('log').scrollHeight;
      }, 16);
    };
    try {
      const resp = await fetch('/v1/chat/completions', {
        method: 'POST', headers: headers(), body: JSON.stringify(body), signal: controller.signal,
      });
      if (!resp.ok) {
        const err = await resp.json().catch(() => ({}));
        throw new Error(err.error?.message ?? `HTTP ${resp.status}`);
      }
      for await (const data of events(resp.body)) {
        if (data === '[DONE]') break;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const c = chunk.choices?.[0];
        if (c?.delta?.content) {
          reply.content += c.delta.content;
          saveChat();
          redraw();
        }
        if (c?.finish_reason === 'length') reply.note = 'cut at max_tokens';
      }
      status('');
    } catch (e) {
      if (e.name === 'AbortError') {
        reply.note = 'stopped';
        status('stopped');
      } else {
        reply.error = true;
        reply.note = `error: ${e.message}`;
        status(e.message.includes('API key') ? 'set the API key in Settings' : 'request failed');
      }
    } finally {
      controller = null;
      saveChat();
      if (messages[i] === reply) render(i);
      setStreaming(false);
      $('input').focus();
    }
  }

  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('input').value.trim();
    if (!text || controller) return;
    $('input').value = '';
    send(text);
  });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  // Aborting the fetch closes the connection; the server frees the slot.
  $('stop').addEventListener('click', () => controller?.abort());
  $('new-chat').addEventListener('click', () => {
    controller?.abort();
    messages = [];
    saveChat();
    renderAll();
    status('');
  });

  fetch('/v1/models', { headers: headers() })
    .then((r) => (r.ok ? r.json() : null))
    .then((j) => { if (j?.data?.[0]) $('model').textContent = j.data[0].id; })
    .catch(() => {});

  renderAll();
  setStreaming(false);
})();
