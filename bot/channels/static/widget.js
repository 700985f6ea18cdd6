/* 问政助手 web chat widget (docs/webchat-protocol.md).
 * Embed: <script src="https://HOST/widget.js" data-site="SITE" async></script>
 * Everything lives in a shadow root; message data is rendered with textContent only. */
(() => {
  'use strict';
  if (window.__wenzhengWidget) return;
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || !window.WebSocket || !Element.prototype.attachShadow) return;
  window.__wenzhengWidget = true;

  var BASE = new URL('./', new URL(script.getAttribute('src'), location.href));
  var ds = script.dataset;
  var SITE = /^[A-Za-z0-9_.-]{1,64}$/.test(ds.site || '') ? ds.site : 'demo';
  var LANG = ds.lang === 'en' ? 'en' : 'zh-CN';
  var USER = ds.user || null;
  var USER_HASH = ds.userHash || null;
  var PREF = ds.transport === 'sse' || ds.transport === 'ws' ? ds.transport : 'auto';
  var MAX_CHARS = 2000;
  var KEY = 'wenzheng:' + SITE + ':';

  var TEXTS = {
    'zh-CN': {
      title: '临江市政务服务智能助手',
      greeting: '您好！我是临江市政务服务智能助手，可以为您查询办事指南、政策解读和常见问题。请问有什么可以帮您？',
      launcher: '在线咨询', unread: '条新消息',
      close: '关闭对话窗口', elder: '大字模式', elderAria: '大字模式：放大文字和按钮',
      end: '结束对话', log: '对话记录',
      input: '请输入您的问题', inputAria: '输入您的问题，按回车键发送，Shift 加回车换行',
      send: '发送', sendAria: '发送消息',
      you: '您说：', bot: '智能助手：', staff: '工作人员', system: '系统消息：',
      sending: '发送中…', failed: '未发送', newConv: '新的对话',
      typing: '智能助手正在输入', staffTyping: '工作人员正在输入',
      more: '查看更多信息', choicesAria: '可选问题', links: '相关链接',
      source: '来源：', fbAsk: '这个回答对您有帮助吗？', helpful: '有用', notHelpful: '没用',
      helpfulAria: '这个回答有用', notHelpfulAria: '这个回答没用', fbThanks: '感谢您的反馈！',
      queued: '正在为您转接人工服务…', human: '工作人员（{name}）已接入', humanNoName: '工作人员已接入',
      backToBot: '已回到智能助手', closed: '本次对话已结束，感谢您的使用。',
      leaveTitle: '目前暂无工作人员在线。您可以留言，我们会尽快处理。',
      leaveText: '留言内容', leavePhone: '联系电话（选填）', leaveSubmit: '提交留言',
      leaveSending: '正在提交留言…', leaveEmpty: '请填写留言内容。',
      phoneBad: '请填写正确的电话号码，或者留空。',
      rateTitle: '请您对本次服务进行评价',
      levels: ['非常满意', '满意', '基本满意', '不满意', '非常不满意'],
      rateComment: '意见建议（选填）', rateSubmit: '提交评价', rateSkip: '暂不评价',
      rateThanks: '感谢您的评价！', ratePick: '请先选择一个评价等级。', rateClose: '关闭评价',
      connecting: '正在连接…', reconnecting: '网络连接中断，正在重新连接…', retry: '立即重连',
      refused: '本网站暂未开通在线咨询服务。', badHello: '连接出错，请刷新页面后重试。',
      authFailed: '身份校验未通过，请重新登录后再试。', notReady: '正在连接服务，请稍后再试。',
      tooLong: '消息不能超过2000字，请精简后再发送。', sendFailed: '消息未能发送，请稍后再试。'
    },
    en: {
      title: 'Linjiang Government Services Assistant',
      greeting: 'Hello! I can help with service guides, policies and common questions. How can I help you?',
      launcher: 'Ask us', unread: 'new messages',
      close: 'Close the chat window', elder: 'Large text', elderAria: 'Large text mode',
      end: 'End chat', log: 'Conversation',
      input: 'Type your question', inputAria: 'Type your question; Enter sends, Shift+Enter adds a line',
      send: 'Send', sendAria: 'Send message',
      you: 'You:', bot: 'Assistant:', staff: 'Staff', system: 'System:',
      sending: 'Sending…', failed: 'Not sent', newConv: 'New conversation',
      typing: 'The assistant is typing', staffTyping: 'Staff is typing',
      more: 'More details', choicesAria: 'Suggested questions', links: 'Links',
      source: 'Source: ', fbAsk: 'Was this answer helpful?', helpful: 'Yes', notHelpful: 'No',
      helpfulAria: 'This answer was helpful', notHelpfulAria: 'This answer was not helpful',
      fbThanks: 'Thank you for your feedback!',
      queued: 'Transferring you to a staff member…', human: '{name} (staff) has joined',
      humanNoName: 'A staff member has joined', backToBot: 'Back to the assistant',
      closed: 'This conversation has ended. Thank you.',
      leaveTitle: 'No staff member is available now. Leave a message and we will follow up.',
      leaveText: 'Your message', leavePhone: 'Phone (optional)', leaveSubmit: 'Leave message',
      leaveSending: 'Sending your message…', leaveEmpty: 'Please write your message.',
      phoneBad: 'Please enter a valid phone number or leave it empty.',
      rateTitle: 'Please rate our service',
      levels: ['Very satisfied', 'Satisfied', 'Fairly satisfied', 'Dissatisfied', 'Very dissatisfied'],
      rateComment: 'Comments (optional)', rateSubmit: 'Submit', rateSkip: 'Not now',
      rateThanks: 'Thank you for your rating!', ratePick: 'Please choose a rating first.',
      rateClose: 'Close rating', connecting: 'Connecting…', reconnecting: 'Connection lost, reconnecting…', retry: 'Retry now',
      refused: 'Online help is not available on this site.', badHello: 'Connection error, please reload the page.',
      authFailed: 'Sign-in check failed, please sign in again.', notReady: 'Connecting, please try again shortly.',
      tooLong: 'Messages are limited to 2,000 characters.', sendFailed: 'The message could not be sent, please try again.'
    }
  };
  var L = TEXTS[LANG];
  var TITLE = ds.title || (LANG === 'en' ? L.title : '临江市政务服务智能助手');
  var GREETING = ds.greeting || L.greeting;

  // ---- storage (may throw in sandboxed frames or private modes) ----
  function load(store, key) { try { return window[store].getItem(key); } catch (e) { return null; } }
  function save(store, key, value) {
    try { if (value == null) window[store].removeItem(key); else window[store].setItem(key, value); } catch (e) { /* ignore */ }
  }
  function loadJson(store, key, fallback) {
    try { var v = JSON.parse(load(store, key)); return v == null ? fallback : v; } catch (e) { return fallback; }
  }

  // ---- small DOM helpers: text is always set as text ----
  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    [].concat(kids == null ? [] : kids).forEach((c) => { if (c != null) el.append(c); });
    return el;
  }
  function svg(path) {
    var ns = 'http://www.w3.org/2000/svg';
    var s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('aria-hidden', 'true'); s.setAttribute('focusable', 'false');
    var p = document.createElementNS(ns, 'path'); p.setAttribute('d', path); s.append(p);
    return s;
  }
  function safeUrl(url) {
    try {
      var u = new URL(String(url));
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch (e) { return null; }
  }
  function link(url, title) {
    var href = safeUrl(url);
    if (!href) return null;
    return h('a', { href: href, target: '_blank', rel: 'noopener noreferrer', text: title || href });
  }
  var URL_RE = /https?:\/\/[\w\-.~:/?#[\]@!$&*+,;=%]+/g;
  function richText(text) {
    var frag = document.createDocumentFragment();
    var s = String(text == null ? '' : text), last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(s))) {
      var url = m[0].replace(/[.,;:!?\]]+$/, '');
      var a = link(url, url);
      if (!a) continue;
      frag.append(s.slice(last, m.index), a);
      last = m.index + url.length;
      URL_RE.lastIndex = last;
    }
    frag.append(s.slice(last));
    return frag;
  }
  function newId() {
    var b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return 'c-' + Array.prototype.map.call(b, (x) => (x + 256).toString(16).slice(1)).join('');
  }
  function clock(iso) {
    iso = String(iso || '');
    var d = new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + 'Z');
    if (isNaN(d)) return null;
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }
  function onBrand(hex) {
    if (hex.length === 4) hex = '#' + hex[1] + hex[1] + hex[2] + hex[2] + hex[3] + hex[3];
    var lum = [1, 3, 5].map((i) => {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var y = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (1.05 / (y + 0.05)) >= ((y + 0.05) / 0.05) ? '#ffffff' : '#111111';
  }

  // ---- the shadow DOM ----
  var host = h('div', { id: 'wenzheng-widget' });
  var color = ds.color || '';
  if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(color)) {
    host.style.setProperty('--wz-brand', color);
    host.style.setProperty('--wz-on-brand', onBrand(color));
  }
  var shadow = host.attachShadow({ mode: 'open' });
  var root = h('div', {
    class: 'wz-root ' + (ds.position === 'left' ? 'wz-left' : 'wz-right'), lang: LANG, hidden: true,
    'data-conn': 'idle', 'data-transport': PREF === 'sse' ? 'sse' : 'ws'
  });
  var css = h('link', { rel: 'stylesheet', href: new URL('widget.css', BASE).href });
  css.addEventListener('load', () => { root.hidden = false; });
  css.addEventListener('error', () => { root.hidden = false; });
  shadow.append(css, root);

  var badge = h('span', { class: 'wz-badge', hidden: true, 'aria-hidden': 'true' });
  var launcher = h('button', {
    type: 'button', class: 'wz-launcher', 'aria-label': L.launcher, 'aria-expanded': 'false',
    'aria-controls': 'wz-panel', onclick: () => { if (panel.hidden) openPanel(true); else closePanel(true); }
  }, [svg('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'),
    h('span', { class: 'wz-launcher-text', text: L.launcher }), badge]);

  var elderBtn = h('button', {
    type: 'button', class: 'wz-tool', 'aria-pressed': 'false', 'aria-label': L.elderAria,
    text: L.elder, onclick: () => { setElder(!root.classList.contains('wz-elder')); }
  });
  var endBtn = h('button', {
    type: 'button', class: 'wz-tool', text: L.end, onclick: endConversation, disabled: true
  });
  var closeBtn = h('button', {
    type: 'button', class: 'wz-close', 'aria-label': L.close, onclick: () => { closePanel(true); }
  }, svg('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z'));
  var statusText = h('span', { role: 'status' });
  var retryBtn = h('button', { type: 'button', class: 'wz-retry', text: L.retry, onclick: () => connectNow() });
  var status = h('div', { class: 'wz-status', hidden: true }, [statusText, retryBtn]);
  var log = h('div', {
    class: 'wz-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
    'aria-label': L.log, tabindex: '0'
  });
  var typingText = h('span', { text: L.typing });
  var typing = h('div', { class: 'wz-typing', hidden: true, 'aria-hidden': 'true' },
    [typingText, h('span', { class: 'wz-dots' }, [h('i'), h('i'), h('i')])]);
  var input = h('textarea', {
    class: 'wz-input', rows: '1', placeholder: L.input, 'aria-label': L.inputAria, enterkeyhint: 'send'
  });
  var counter = h('span', { class: 'wz-counter', hidden: true, 'aria-live': 'polite' });
  var sendBtn = h('button', { type: 'submit', class: 'wz-send', 'aria-label': L.sendAria, text: L.send });
  var compose = h('form', { class: 'wz-compose', onsubmit: (e) => { e.preventDefault(); submitInput(); } },
    [input, sendBtn, counter]);
  var panel = h('section', {
    id: 'wz-panel', class: 'wz-panel', role: 'dialog', 'aria-labelledby': 'wz-title', hidden: true
  }, [
    h('header', { class: 'wz-head' }, [
      h('h2', { id: 'wz-title', class: 'wz-title', text: TITLE }),
      h('div', { class: 'wz-tools' }, [elderBtn, endBtn, closeBtn])
    ]),
    status, log, typing, compose
  ]);
  var rateCard = h('div', { class: 'wz-ratecard', role: 'region', 'aria-label': L.rateTitle, hidden: true });
  root.append(panel, rateCard, launcher);

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitInput();
    }
  });
  input.addEventListener('input', () => {
    var n = Array.from(input.value).length;
    counter.hidden = n < MAX_CHARS - 200;
    counter.textContent = n + '/' + MAX_CHARS;
    counter.classList.toggle('wz-over', n > MAX_CHARS);
  });
  root.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!panel.hidden) { e.preventDefault(); closePanel(true); }
    else if (!rateCard.hidden) { e.preventDefault(); hideRateCard(); launcher.focus(); }
  });

  // ---- conversation state ----
  var token = load('localStorage', KEY + 'token');
  var lastSeq = 0, seen = {}, pendingEls = {}, outbox = loadJson('sessionStorage', KEY + 'outbox', []);
  var fbDone = loadJson('localStorage', KEY + 'feedback', []);
  var ratedConv = +load('localStorage', KEY + 'rated') || 0;
  var offeredConv = +load('localStorage', KEY + 'offered') || 0;
  var curConv = null, askedConv = null, answeredConv = null;
  var mode = null, staffName = null, staffAvailable = false;
  var greeted = false, anyMessage = false, replaying = false, replayTimer = 0, unread = 0;
  var leaveEl = null, leavePending = null, fbWaiting = [];

  function setElder(on) {
    root.classList.toggle('wz-elder', on);
    elderBtn.setAttribute('aria-pressed', String(on));
    save('localStorage', 'wenzheng:elder', on ? '1' : null);
  }
  setElder(load('localStorage', 'wenzheng:elder') === '1');

  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 120; }
  function toBottom() { log.scrollTop = log.scrollHeight; }

  // Insert a row by seq: after the last row that is not pending and not newer.
  function place(el, seq) {
    var stick = nearBottom();
    var ref = log.lastElementChild;
    while (ref && (ref.classList.contains('wz-pending') || (ref.dataset.seq && +ref.dataset.seq > seq))) {
      ref = ref.previousElementSibling;
    }
    log.insertBefore(el, ref ? ref.nextSibling : log.firstChild);
    if (el.dataset.conv) {
      var prev = el.previousElementSibling;
      while (prev && !prev.dataset.conv) prev = prev.previousElementSibling;
      if (prev && prev.dataset.conv !== el.dataset.conv) {
        el.prepend(h('div', { class: 'wz-divider', text: L.newConv }));
      }
    }
    if (stick || !el.dataset.seq) toBottom();
  }
  function notice(text, kind) {
    var el = h('div', { class: 'wz-row wz-notice' + (kind ? ' wz-' + kind : '') }, h('p', { text: text }));
    place(el, Infinity);
    return el;
  }

  function renderCard(card) {
    if (!card || typeof card !== 'object') return null;
    var fields = Array.isArray(card.fields) ? card.fields : [];
    function list(items) {
      return h('dl', { class: 'wz-fields' }, items.reduce((acc, f) => {
        acc.push(h('dt', { text: String(f.label || '') }), h('dd', null, richText(f.value)));
        return acc;
      }, []));
    }
    var main = fields.filter((f) => f && f.primary);
    var rest = fields.filter((f) => f && !f.primary);
    return h('div', { class: 'wz-card' }, [
      card.title ? h('h3', { class: 'wz-card-title', text: String(card.title) }) : null,
      main.length ? list(main) : null,
      rest.length ? h('details', { class: 'wz-more' }, [h('summary', { text: L.more }), list(rest)]) : null
    ]);
  }
  function renderChoices(choices) {
    if (!Array.isArray(choices) || !choices.length) return null;
    return h('div', { class: 'wz-choices', role: 'group', 'aria-label': L.choicesAria }, choices.map((c, i) => {
      var title = String(c && c.title || '');
      return h('button', {
        type: 'button', class: 'wz-choice', onclick: () => { send(title); }
      }, [h('span', { class: 'wz-num', text: (i + 1) + '.' }), ' ' + title]);
    }));
  }
  function renderLinks(links) {
    var items = (Array.isArray(links) ? links : []).map((l) => l && link(l.url, l.title))
      .filter(Boolean);
    if (!items.length) return null;
    return h('ul', { class: 'wz-links', 'aria-label': L.links }, items.map((a) => h('li', null, a)));
  }
  function renderCitations(cites) {
    if (!Array.isArray(cites) || !cites.length) return null;
    var p = h('p', { class: 'wz-source' }, h('span', { text: L.source }));
    cites.forEach((c, i) => {
      if (!c) return;
      if (i) p.append('；');
      var title = String(c.title || c.entry_id || '');
      p.append(link(c.url, title) || h('span', { text: title }));
    });
    return p;
  }
  function feedbackBar(seq) {
    if (fbDone.indexOf(seq) >= 0) return null;
    function vote(helpful, btn) {
      return () => {
        if (!transmit({ type: 'feedback', seq: seq, helpful: helpful })) { notice(L.notReady, 'warn'); return; }
        yes.disabled = no.disabled = true;
        btn.setAttribute('aria-pressed', 'true');
        fbWaiting.push(bar);
      };
    }
    var yes = h('button', { type: 'button', class: 'wz-vote', 'aria-label': L.helpfulAria, 'aria-pressed': 'false', text: L.helpful });
    var no = h('button', { type: 'button', class: 'wz-vote', 'aria-label': L.notHelpfulAria, 'aria-pressed': 'false', text: L.notHelpful });
    yes.addEventListener('click', vote(true, yes));
    no.addEventListener('click', vote(false, no));
    var bar = h('div', { class: 'wz-fb', role: 'group', 'aria-label': L.fbAsk }, [h('span', { text: L.fbAsk }), yes, no]);
    return bar;
  }

  // The text repeats the card for plain channels: keep only the lines the card lacks,
  // those before the card's first field above it and the rest below it.
  function cardless(text, card) {
    var shown = {}, parts = [[], []], inCard = false;
    (card.fields || []).forEach((f) => {
      if (!f) return;
      shown[f.label + '：'] = shown[f.label + ':'] = 1;
      String(f.value || '').split('\n').forEach((line) => { shown[line.trim()] = 1; });
    });
    String(text || '').split('\n').forEach((line) => {
      var t = line.trim();
      if (t === '【' + card.title + '】') return;
      if (shown[t]) { inCard = true; return; }
      parts[inCard ? 1 : 0].push(line);
    });
    return parts.map((p) => p.join('\n').trim());
  }
  // "1. 标题" lines repeat the choices, which are shown as buttons.
  function choiceless(text, choices) {
    if (!Array.isArray(choices) || !choices.length) return text;
    var titles = choices.map((c) => String(c && c.title || '').trim());
    return String(text || '').split('\n').filter((line) => {
      var m = /^\s*(\d+)\s*[.、．]\s*(.*)$/.exec(line);
      return !(m && titles[m[1] - 1] === m[2].trim());
    }).join('\n').trim();
  }
  function renderMessage(f) {
    var author = ['citizen', 'bot', 'staff', 'system'].indexOf(f.author) >= 0 ? f.author : 'system';
    var who;
    if (author === 'staff') who = h('p', { class: 'wz-who', text: L.staff + (f.staff_name ? ' · ' + f.staff_name : '') });
    else who = h('span', { class: 'wz-sr', text: author === 'citizen' ? L.you : author === 'bot' ? L.bot : L.system });
    var text = f.card ? cardless(f.text, f.card) : [choiceless(f.text, f.choices), ''];
    function para(t) { return t ? h('p', { class: 'wz-text' }, richText(t)) : null; }
    var bubble = h('div', { class: 'wz-bubble' }, [
      who, para(text[0]), renderCard(f.card), para(text[1]),
      renderLinks(f.links), renderChoices(f.choices), renderCitations(f.citations)
    ]);
    var time = clock(f.created_at);
    var row = h('div', { class: 'wz-row wz-' + author, 'data-seq': String(f.seq), 'data-conv': String(f.conversation_id) }, [
      bubble,
      time ? h('p', { class: 'wz-meta' }, h('time', { datetime: f.created_at, text: time })) : null,
      f.rateable && author === 'bot' ? feedbackBar(f.seq) : null
    ]);
    return row;
  }
  function renderPending(item) {
    var row = h('div', { class: 'wz-row wz-citizen wz-pending' }, [
      h('div', { class: 'wz-bubble' }, [h('span', { class: 'wz-sr', text: L.you }), h('p', { class: 'wz-text' }, richText(item.text))]),
      h('p', { class: 'wz-meta wz-state', text: L.sending })
    ]);
    pendingEls[item.cid] = row;
    return row;
  }

  function onMessage(f) {
    if (typeof f.seq !== 'number' || seen[f.seq]) return;
    seen[f.seq] = true;
    if (f.seq > lastSeq) lastSeq = f.seq;
    anyMessage = true;
    var old = null;
    if (leavePending && f.client_id === leavePending.cid) {
      if (leavePending.el) leavePending.el.remove();
      leavePending = null;
    }
    if (f.author === 'citizen' && f.client_id) {
      old = pendingEls[f.client_id];
      delete pendingEls[f.client_id];
      dropOutbox(f.client_id);
    }
    if (f.author !== 'citizen') typing.hidden = true;
    if (old) old.remove();
    place(renderMessage(f), f.seq);
    if (f.conversation_id != null) {
      curConv = f.conversation_id;
      endBtn.disabled = mode === 'closed';
      if (f.author === 'citizen') askedConv = curConv;
      else if ((f.author === 'bot' || f.author === 'staff') && askedConv === curConv) answeredConv = curConv;
    }
    if (!replaying && f.author !== 'citizen' && panel.hidden) { unread++; updateBadge(); }
  }
  function updateBadge() {
    badge.hidden = !unread;
    badge.textContent = unread > 99 ? '99+' : String(unread);
    launcher.setAttribute('aria-label', L.launcher + (unread ? '（' + unread + L.unread + '）' : ''));
  }

  // ---- outbox ----
  function saveOutbox() {
    save('sessionStorage', KEY + 'outbox', outbox.length ? JSON.stringify(outbox.map((o) => { return { cid: o.cid, text: o.text }; })) : null);
  }
  function dropOutbox(cid) {
    outbox = outbox.filter((o) => o.cid !== cid);
    saveOutbox();
  }
  function flushOutbox() {
    outbox.forEach((o) => { transmit({ type: 'message', client_id: o.cid, text: o.text }); });
  }
  function send(text) {
    text = String(text || '').trim();
    if (!text) return false;
    if (Array.from(text).length > MAX_CHARS) { notice(L.tooLong, 'warn'); return false; }
    var item = { cid: newId(), text: text };
    outbox.push(item);
    saveOutbox();
    log.append(renderPending(item));
    toBottom();
    if (!transmit({ type: 'message', client_id: item.cid, text: text })) connectNow();
    return true;
  }
  function submitInput() {
    if (send(input.value)) {
      input.value = '';
      input.dispatchEvent(new Event('input'));
    }
    input.focus();
  }
  function failMessage(cid, text) {
    var row = pendingEls[cid];
    delete pendingEls[cid];
    var item = outbox.filter((o) => o.cid === cid)[0];
    dropOutbox(cid);
    if (row) {
      row.classList.remove('wz-pending');
      row.classList.add('wz-failed');
      var st = row.querySelector('.wz-state');
      if (st) st.textContent = L.failed;
    }
    if (item) {
      input.value = input.value.trim() ? item.text + '\n' + input.value : item.text;
      input.dispatchEvent(new Event('input'));
    }
    notice(text || L.sendFailed, 'warn');
    return !!(row || item);
  }

  // ---- frames from the server ----
  function onFrame(f) {
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'welcome':
        if (typeof f.token === 'string' && f.token) { token = f.token; save('localStorage', KEY + 'token', token); }
        ready = true; attempt = 0; replaying = true;
        if (transport === 'ws') wsWelcomed = true;
        setConn('open');
        clearTimeout(replayTimer);
        replayTimer = setTimeout(endReplay, 3000);
        break;
      case 'message': onMessage(f); break;
      case 'state': applyState(f); endReplay(); break;
      case 'typing':
        typingText.textContent = f.author === 'staff' ? L.staffTyping : L.typing;
        typing.hidden = !f.on;
        clearTimeout(typingTimer);
        if (f.on) typingTimer = setTimeout(() => { typing.hidden = true; }, 30000);
        break;
      case 'feedback_ok': {
        var row = log.querySelector('[data-seq="' + Number(f.seq) + '"] .wz-fb');
        if (row) row.replaceWith(h('p', { class: 'wz-fb wz-thanks', text: L.fbThanks }));
        fbWaiting = fbWaiting.filter((b) => b !== row);
        if (fbDone.indexOf(f.seq) < 0) fbDone.push(f.seq);
        save('localStorage', KEY + 'feedback', JSON.stringify(fbDone.slice(-100)));
        break;
      }
      case 'rating_ok':
        ratedConv = Math.max(ratedConv, f.conversation_id || curConv || 0);
        save('localStorage', KEY + 'rated', String(ratedConv));
        shadow.querySelectorAll('.wz-rate').forEach((form) => {
          form.replaceWith(h('p', { class: 'wz-thanks', role: 'status', text: L.rateThanks }));
        });
        if (!rateCard.hidden) setTimeout(hideRateCard, 4000);
        break;
      case 'error': onError(f); break;
      default: break; // pong and unknown frames
    }
  }
  function endReplay() {
    clearTimeout(replayTimer);
    if (!replaying) return;
    replaying = false;
    if (!anyMessage && !greeted) {
      greeted = true;
      greetEl = h('div', { class: 'wz-row wz-bot wz-greeting' }, h('div', { class: 'wz-bubble' }, [
        h('span', { class: 'wz-sr', text: L.bot }), h('p', { class: 'wz-text', text: GREETING })
      ]));
      log.prepend(greetEl);
    }
    flushOutbox();
  }
  function onError(f) {
    var cid = f.client_id;
    if (cid && pendingEls[cid]) { failMessage(cid, f.message); return; }
    if (cid && leavePending && leavePending.cid === cid) {
      var back = leavePending;
      leavePending = null;
      if (back.el) back.el.remove();
      showLeaveForm(back);
      notice(f.message || L.sendFailed, 'warn');
      return;
    }
    if (!cid && fbWaiting.length) {
      fbWaiting.forEach((bar) => {
        bar.querySelectorAll('button').forEach((b) => {
          b.disabled = false; b.setAttribute('aria-pressed', 'false');
        });
      });
      fbWaiting = [];
    }
    shadow.querySelectorAll('.wz-rate button').forEach((b) => { b.disabled = false; });
    notice(f.message || L.sendFailed, 'warn');
  }
  function applyState(f) {
    var prev = mode, prevName = staffName;
    mode = f.mode;
    staffName = f.staff_name || null;
    staffAvailable = !!f.staff_available;
    save('sessionStorage', KEY + 'live', mode === 'queued' || mode === 'human' ? '1' : null);
    if (mode !== prev || (mode === 'human' && staffName !== prevName)) {
      if (mode === 'queued') notice(L.queued, 'handoff');
      else if (mode === 'human') notice(staffName ? L.human.replace('{name}', staffName) : L.humanNoName, 'handoff');
      else if (mode === 'bot' && (prev === 'queued' || prev === 'human')) notice(L.backToBot, 'handoff');
      else if (mode === 'closed' && prev) {
        notice(L.closed);
        if (curConv && ratedConv < curConv) {
          offeredConv = Math.max(offeredConv, curConv);
          save('localStorage', KEY + 'offered', String(offeredConv));
          place(ratingForm(null), Infinity);
        }
      }
    }
    endBtn.disabled = !curConv || mode === 'closed';
    if (mode === 'queued' && !staffAvailable) { if (!leavePending) showLeaveForm(null); } else hideLeaveForm();
  }

  function field(label, control) { return h('label', { class: 'wz-label' }, [h('span', { text: label }), control]); }

  // ---- leave a message ----
  function showLeaveForm(values) {
    if (leaveEl && leaveEl.parentNode) return;
    var text = h('textarea', { class: 'wz-field', rows: '3', 'aria-label': L.leaveText, maxlength: String(MAX_CHARS) });
    var phone = h('input', { class: 'wz-field', type: 'tel', autocomplete: 'tel', 'aria-label': L.leavePhone, maxlength: '20' });
    var err = h('p', { class: 'wz-err', role: 'alert' });
    if (values) { text.value = values.text; phone.value = values.phone || ''; }
    leaveEl = h('form', { class: 'wz-row wz-form wz-leave', 'aria-label': L.leaveSubmit }, [
      h('p', { text: L.leaveTitle }), field(L.leaveText, text), field(L.leavePhone, phone), err,
      h('button', { type: 'submit', class: 'wz-primary', text: L.leaveSubmit })
    ]);
    leaveEl.addEventListener('submit', (e) => {
      e.preventDefault();
      var t = text.value.trim(), p = phone.value.trim();
      if (!t) { err.textContent = L.leaveEmpty; text.focus(); return; }
      if (p && !/^[0-9+\-\s()]{5,20}$/.test(p)) { err.textContent = L.phoneBad; phone.focus(); return; }
      var frame = { type: 'leave_message', client_id: newId(), text: t };
      if (p) frame.phone = p;
      if (!transmit(frame)) { err.textContent = L.notReady; return; }
      hideLeaveForm();
      leavePending = { cid: frame.client_id, text: t, phone: p, el: notice(L.leaveSending) };
    });
    place(leaveEl, Infinity);
  }
  function hideLeaveForm() {
    if (leaveEl) leaveEl.remove();
    leaveEl = null;
  }

  // ---- 好差评 ----
  function ratingForm(onSkip) {
    var err = h('p', { class: 'wz-err', role: 'alert' });
    var name = 'wz-level-' + newId();
    var levels = L.levels.map((label, i) => {
      return h('label', { class: 'wz-level' }, [
        h('input', { type: 'radio', name: name, value: String(5 - i) }), h('span', { text: label })
      ]);
    });
    var comment = h('textarea', { class: 'wz-field', rows: '2', maxlength: '500', 'aria-label': L.rateComment });
    var submit = h('button', { type: 'submit', class: 'wz-primary', text: L.rateSubmit });
    var skip = h('button', {
      type: 'button', class: 'wz-secondary', text: L.rateSkip,
      onclick: () => { form.remove(); if (onSkip) onSkip(); }
    });
    var form = h('form', { class: 'wz-row wz-form wz-rate' }, [
      h('fieldset', null, [h('legend', { text: L.rateTitle }), h('div', { class: 'wz-levels' }, levels)]),
      field(L.rateComment, comment), err, h('div', { class: 'wz-actions' }, [submit, skip])
    ]);
    form.addEventListener('change', () => { err.textContent = ''; });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      var checked = form.querySelector('input[type=radio]:checked');
      if (!checked) { err.textContent = L.ratePick; levels[0].querySelector('input').focus(); return; }
      var frame = { type: 'rating', value: Number(checked.value) };
      if (comment.value.trim()) frame.comment = comment.value.trim().slice(0, 500);
      if (!transmit(frame)) { err.textContent = L.notReady; return; }
      err.textContent = '';
      submit.disabled = true;
    });
    return form;
  }
  function showRateCard() {
    rateCard.textContent = '';
    rateCard.append(
      h('button', { type: 'button', class: 'wz-close', 'aria-label': L.rateClose, onclick: () => { hideRateCard(); launcher.focus(); } },
        svg('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z')),
      ratingForm(() => { hideRateCard(); launcher.focus(); }));
    rateCard.hidden = false;
  }
  function hideRateCard() { rateCard.hidden = true; rateCard.textContent = ''; }

  // ---- panel ----
  function openPanel(focus) {
    panel.hidden = false;
    root.classList.add('wz-open');
    launcher.setAttribute('aria-expanded', 'true');
    hideRateCard();
    unread = 0;
    updateBadge();
    save('sessionStorage', KEY + 'open', '1');
    connectNow();
    toBottom();
    if (focus) input.focus();
  }
  function closePanel(byUser) {
    panel.hidden = true;
    root.classList.remove('wz-open');
    launcher.setAttribute('aria-expanded', 'false');
    save('sessionStorage', KEY + 'open', null);
    launcher.focus();
    if (byUser && curConv && answeredConv === curConv && mode !== 'closed' &&
        offeredConv < curConv && ratedConv < curConv && ready) {
      offeredConv = curConv;
      save('localStorage', KEY + 'offered', String(offeredConv));
      showRateCard();
    }
  }
  function endConversation() {
    if (!transmit({ type: 'end' })) notice(L.notReady, 'warn');
  }

  // ---- transports ----
  var ws = null, es = null, ready = false, stopped = false, attempt = 0, timer = 0;
  var transport = PREF === 'sse' ? 'sse' : 'ws', wsWelcomed = false, wsFails = 0;
  var lastRx = 0, pingTimer = 0, typingTimer = 0, retryTimer = 0, greetEl = null;

  function setConn(state) {
    root.dataset.conn = state;
    root.dataset.transport = transport;
    var text = state === 'connecting' ? L.connecting : state === 'reconnecting' ? L.reconnecting :
      state === 'stopped' ? statusText.textContent : null;
    status.hidden = !text;
    retryBtn.hidden = state !== 'reconnecting';
    if (text) statusText.textContent = text;
  }
  function stop(text) {
    stopped = true;
    statusText.textContent = text;
    setConn('stopped');
    notice(text, 'warn');
  }
  function hello() {
    var f = { type: 'hello', site: SITE, last_seq: lastSeq };
    if (token) f.token = token;
    if (USER && USER_HASH) { f.user = USER; f.user_hash = USER_HASH; }
    return f;
  }
  function connect() {
    if (stopped || ws || es || timer) return;
    setConn(lastRx ? 'reconnecting' : 'connecting');
    if (transport === 'sse') openSse(); else openWs();
  }
  function connectNow() {
    if (!timer) { connect(); return; }
    clearTimeout(timer);
    timer = 0;
    attempt = 0;
    connect();
  }
  function schedule(delay) {
    if (stopped) return;
    setConn('reconnecting');
    if (delay == null) {
      delay = Math.random() * Math.min(30000, 500 * Math.pow(2, attempt));
      attempt++;
    }
    clearTimeout(timer);
    timer = setTimeout(() => { timer = 0; connect(); }, delay);
  }
  function dropped(code, welcomed) {
    ready = false;
    typing.hidden = true;
    if (code === 4400) return stop(L.badHello);
    if (code === 4403) return stop(L.refused);
    if (code === 4401) {
      if (!token) return stop(L.authFailed);
      token = null;
      save('localStorage', KEY + 'token', null);
      return schedule(0);
    }
    if (transport === 'ws' && PREF === 'auto' && !wsWelcomed && !welcomed) {
      // Fall back only when the server answers HTTP: a server that is down is no reason.
      setConn('reconnecting');
      fetch(new URL('readyz', BASE).href, { mode: 'no-cors', cache: 'no-store', credentials: 'omit' }).then(() => {
        if (++wsFails < 2) return schedule();
        transport = 'sse';
        attempt = 0;
        schedule(0);
      }, () => { schedule(); });
      return;
    }
    schedule();
  }
  function openWs() {
    var u = new URL('ws/chat', BASE);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('site', SITE);
    var sock, welcomed = false;
    try { sock = new WebSocket(u.href); } catch (e) { schedule(); return; }
    ws = sock;
    sock.onopen = () => { sock.send(JSON.stringify(hello())); };
    sock.onmessage = (e) => {
      if (sock !== ws) return;
      var f;
      try { f = JSON.parse(e.data); } catch (x) { return; }
      lastRx = Date.now();
      if (f && f.type === 'welcome') welcomed = true;
      onFrame(f);
    };
    sock.onclose = (e) => {
      if (sock !== ws) return;
      ws = null;
      dropped(e.code, welcomed);
    };
  }
  function sseUrl() {
    var u = new URL('api/webchat/events', BASE);
    var q = { site: SITE, token: token, last_seq: String(lastSeq), user: USER && USER_HASH ? USER : null, user_hash: USER && USER_HASH ? USER_HASH : null };
    for (var k in q) if (q[k]) u.searchParams.set(k, q[k]);
    return u.href;
  }
  function openSse() {
    var url = sseUrl(), src, welcomed = false;
    try { src = new EventSource(url); } catch (e) { schedule(); return; }
    es = src;
    src.onmessage = (e) => {
      if (src !== es) return;
      var f;
      try { f = JSON.parse(e.data); } catch (x) { return; }
      lastRx = Date.now();
      if (f && f.type === 'welcome') welcomed = true;
      onFrame(f);
    };
    // Reconnect ourselves, with a fresh URL (token and last_seq), rather than by Last-Event-ID.
    src.onerror = () => {
      if (src !== es) return;
      src.close();
      es = null;
      if (welcomed) { dropped(0, true); return; }
      // Never welcomed: ask for the status code, which EventSource hides.
      var ctl = window.AbortController ? new AbortController() : null;
      fetch(url, { signal: ctl && ctl.signal, credentials: 'omit' }).then((r) => {
        if (ctl) ctl.abort();
        dropped(r.status === 401 ? 4401 : r.status === 403 || r.status === 404 ? 4403 : r.status === 400 ? 4400 : 0, false);
      }, () => { dropped(0, false); });
    };
  }
  function post(frame) {
    fetch(new URL('api/webchat/send', BASE).href, {
      method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ site: SITE, token: token, frame: frame })
    }).then((r) => {
      if (r.ok) return;
      return r.json().catch(() => { return {}; }).then((d) => {
        if (r.status === 401 && es) { es.close(); es = null; dropped(4401, true); return; }
        onError({ type: 'error', code: d.error, message: d.detail, client_id: frame.client_id });
      });
    }, () => {
      if (frame.type !== 'message') { onError({ type: 'error' }); return; }
      // the message stays in the outbox: try the outbox again shortly
      if (!retryTimer) retryTimer = setTimeout(() => { retryTimer = 0; if (ready) flushOutbox(); }, 3000);
    });
  }
  function transmit(frame) {
    if (!ready) return false;
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    if (es && token) { post(frame); return true; }
    return false;
  }

  // Keep-alive: a ping every 25 s; a socket silent for 60 s is presumed dead.
  pingTimer = setInterval(() => {
    if (!ws || !ready) return;
    if (Date.now() - lastRx > 60000) {
      var s = ws;
      ws = null;
      s.onclose = null;
      try { s.close(); } catch (e) { /* ignore */ }
      dropped(1006, true);
      return;
    }
    try { ws.send('{"type":"ping"}'); } catch (e) { /* close follows */ }
  }, 25000);
  window.addEventListener('online', connectNow);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && timer) connectNow(); });

  // ---- start ----
  function start() {
    document.body.append(host);
    outbox.forEach((o) => { log.append(renderPending(o)); });
    if (load('sessionStorage', KEY + 'open') === '1') openPanel(false);
    else if (outbox.length || load('sessionStorage', KEY + 'live') === '1') connect();
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
