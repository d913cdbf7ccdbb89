// A small, safe Markdown renderer for the chat page: model output is
// untrusted text, so every character of it is HTML-escaped first and the
// only markup in the result is the fixed set of tags produced here.
// Covered: fenced code blocks, inline code, headings, bold, italic,
// strikethrough, links (http, https and mailto only), ordered and unordered
// lists, block quotes, horizontal rules and paragraphs.
'use strict';

(function () {
  const entities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

  // escapeHTML makes text safe anywhere in HTML, attribute values included.
  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, (c) => entities[c]);
  }

  // safeURL returns the URL if its scheme is allowed, else null. It sees
  // the escaped text, so it unescapes the entities a URL may carry first.
  function safeURL(escaped) {
    const url = unescape(escaped).trim();
    if (/^(https?:|mailto:)/i.test(url)) return escapeHTML(url);
    return null;
  }

  // inline formats one escaped line. Code spans and links are cut out
  // first (into placeholders), so that nothing inside them is formatted.
  function inline(escaped) {
    const held = [];
    const hold = (html) => { held.push(html); return `\u0000${held.length - 1}\u0000`; };
    let s = escaped.replace(/`([^`]+)`/g, (_, code) => hold(`<code>${code}</code>`));
    s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, text, href) => {
      const url = safeURL(href);
      return url ? hold(`<a href="${url}" target="_blank" rel="noopener noreferrer">${text}</a>`) : m;
    });
    s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
    s = s.replace(/__([^_]+)__/g, '<strong>$1</strong>');
    s = s.replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
    s = s.replace(/(^|[^\w_])_([^_\s][^_]*)_(?!\w)/g, '$1<em>$2</em>');
    s = s.replace(/~~([^~]+)~~/g, '<del>$1</del>');
    return s.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
  }

  // renderMarkdown turns Markdown text into HTML.
  function renderMarkdown(text) {
    // NUL marks placeholders in inline(); none may come from the text.
    const clean = String(text).replace(/\r\n?/g, '\n').replace(/\u0000/g, '\uFFFD');
    const lines = escapeHTML(clean).split('\n');
    const out = [];
    let para = [];
    let list = null; // { tag: 'ul' | 'ol', items: [] }
    let quote = [];

    const flushPara = () => {
      if (para.length) out.push(`<p>${para.map(inline).join('<br>')}</p>`);
      para = [];
    };
    const flushList = () => {
      if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i)}</li>`).join('')}</${list.tag}>`);
      list = null;
    };
    const flushQuote = () => {
      if (quote.length) out.push(`<blockquote>${renderMarkdown(unescape(quote.join('\n')))}</blockquote>`);
      quote = [];
    };
    const flushAll = () => { flushPara(); flushList(); flushQuote(); };

    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const fence = line.match(/^\s*(`{3,}|~{3,})\s*([\w+.#-]*)\s*$/);
      if (fence) {
        flushAll();
        const body = [];
        let j = i + 1;
        while (j < lines.length && !lines[j].trim().startsWith(fence[1])) body.push(lines[j++]);
        // An unclosed fence (a reply still streaming) runs to the end.
        const lang = fence[2] ? ` class="language-${fence[2]}"` : '';
        out.push(`<pre><code${lang}>${body.join('\n')}</code></pre>`);
        i = j;
        continue;
      }
      const q = line.match(/^\s*&gt;\s?(.*)$/);
      if (q) {
        flushPara(); flushList();
        quote.push(q[1]);
        continue;
      }
      flushQuote();
      if (/^\s*$/.test(line)) { flushPara(); flushList(); continue; }
      const h = line.match(/^(#{1,6})\s+(.*)$/);
      if (h) {
        flushAll();
        out.push(`<h${h[1].length}>${inline(h[2])}</h${h[1].length}>`);
        continue;
      }
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flushAll(); out.push('<hr>'); continue; }
      const ul = line.match(/^\s*[-*+]\s+(.*)$/);
      const ol = line.match(/^\s*\d+[.)]\s+(.*)$/);
      if (ul || ol) {
        flushPara();
        const tag = ul ? 'ul' : 'ol';
        if (!list || list.tag !== tag) { flushList(); list = { tag, items: [] }; }
        list.items.push((ul || ol)[1]);
        continue;
      }
      if (list && /^\s{2,}\S/.test(line)) { // continuation of a list item
        list.items[list.items.length - 1] += ' ' + line.trim();
        continue;
      }
      flushList();
      para.push(line);
    }
    flushAll();
    return out.join('\n');
  }

  // unescape undoes escapeHTML for text that is rendered again (quotes).
  function unescape(s) {
    return s.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ({ '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" })[m]);
  }

  window.escapeHTML = escapeHTML;
  window.renderMarkdown = renderMarkdown;
})();
