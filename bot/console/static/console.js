// Staff console: the queue, one conversation, replies, notes, tickets and the supervisor's
// view. Live events arrive on /ws/staff; every view is fetched from /api/staff. All text is
// rendered with textContent, never as HTML.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const CHANNELS = { webchat: '网页', wechat: '微信', rest: '接口' };
  const AUTHORS = { citizen: '市民', bot: '智能助手', staff: '工作人员', system: '系统' };
  const REASONS = { requested: '市民要求', unanswered: '连续未答', not_helpful: '连续差评', topic: '需人工事项' };
  const STATES = { pending: '等待中', assigned: '处理中' };
  const state = { me: null, csrf: '', current: null, detail: null, seen: null, unseen: 0, queue: [] };
  let socket = null, retry = 500, heartbeat = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(label, onClick, className) {
    const node = el('button', className, label);
    node.type = 'button';
    node.addEventListener('click', onClick);
    return node;
  }

  async function api(method, path, body) {
    const headers = { 'X-CSRF-Token': state.csrf };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      window.location.assign('/staff/login');
      throw new Error('not logged in');
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      notify(typeof data.detail === 'string' ? data.detail : '操作失败，请稍后再试');
      throw new Error(String(response.status));
    }
    return data;
  }

  function notify(text) {
    const notice = $('notice');
    notice.textContent = text;
    notice.hidden = false;
  }

  function minutes(seconds) {
    if (seconds < 60) return seconds + '秒';
    return Math.floor(seconds / 60) + '分钟';
  }

  function clock(iso) {
    const when = new Date(iso);
    return isNaN(when) ? '' : when.toLocaleTimeString('zh-CN', { hour12: false });
  }

  // -- the queue ----------------------------------------------------------------------

  async function loadQueue() {
    const data = await api('GET', '/api/staff/queue');
    state.queue = data.items;
    const waiting = data.items.filter((item) => item.status === 'pending');
    announceNew(waiting);
    $('queue-count').textContent = '（等待 ' + waiting.length + '）';
    $('availability').textContent = data.in_hours
      ? (data.staff_available ? '服务时间内，有坐席在线' : '服务时间内，暂无坐席在线')
      : '当前不在人工服务时间';
    renderQueue();
  }

  function announceNew(waiting) {
    const ids = new Set(waiting.map((item) => item.id));
    const fresh = state.seen === null ? [] : waiting.filter((item) => !state.seen.has(item.id));
    state.seen = ids;
    if (!fresh.length) return;
    notify('有 ' + fresh.length + ' 位市民正在等待人工服务');
    chime();
    if (document.hidden || !document.hasFocus()) state.unseen += fresh.length;
    updateTitle();
  }

  // A short two-tone chime for a new waiting citizen; browsers allow sound only after the
  // page has had a click or key press, which logging in provides.
  function chime() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      state.audio = state.audio || new Context();
      const now = state.audio.currentTime;
      [660, 880].forEach((pitch, i) => {
        const tone = state.audio.createOscillator();
        const level = state.audio.createGain();
        tone.frequency.value = pitch;
        level.gain.setValueAtTime(0.12, now + i * 0.18);
        level.gain.exponentialRampToValueAtTime(0.001, now + i * 0.18 + 0.16);
        tone.connect(level).connect(state.audio.destination);
        tone.start(now + i * 0.18);
        tone.stop(now + i * 0.18 + 0.17);
      });
    } catch (err) {
      /* no sound device: the visible notice and the title badge remain */
    }
  }

  function updateTitle() {
    document.title = (state.unseen ? '(' + state.unseen + ') ' : '') + '人工坐席 · 问政助手';
  }

  function renderQueue() {
    const list = $('queue-list');
    list.replaceChildren();
    for (const item of state.queue) {
      const entry = el('li', 'queue-item ' + item.status + (item.overdue ? ' overdue' : ''));
      if (state.current === item.id) entry.classList.add('selected');
      const open = button('', () => select(item.id), 'queue-open');
      open.append(el('span', 'badge', CHANNELS[item.channel] || item.channel),
        el('span', 'state', STATES[item.status] || item.status),
        el('span', 'wait', (item.status === 'pending' ? '已等 ' : '') + minutes(item.waiting_s)),
        el('span', 'question', item.last_question || '（没有文字消息）'));
      if (item.staff_name) open.append(el('span', 'who', '坐席：' + item.staff_name));
      if (item.overdue) open.append(el('span', 'late', '等待超时'));
      entry.append(open);
      list.append(entry);
    }
    if (!state.queue.length) list.append(el('li', 'muted', '暂无等待的会话'));
  }

  // -- one conversation ---------------------------------------------------------------

  async function select(id) {
    state.current = id;
    renderQueue();
    await loadDetail();
  }

  async function loadDetail() {
    if (state.current === null) return;
    const data = await api('GET', '/api/staff/handoffs/' + state.current);
    state.detail = data;
    const handoff = data.handoff;
    const mine = handoff.status === 'assigned' && (handoff.staff === state.me.username || state.me.role === 'supervisor');
    $('conv-title').textContent = (CHANNELS[handoff.channel] || handoff.channel) + '市民 · ' +
      (REASONS[handoff.reason] || handoff.reason) + ' · ' + (STATES[handoff.status] || handoff.status) +
      (handoff.staff_name ? ' · ' + handoff.staff_name : '');
    $('conv-actions').hidden = !['pending', 'assigned'].includes(handoff.status);
    $('claim').hidden = handoff.status !== 'pending';
    for (const id of ['transfer', 'transfer-to', 'resolve']) $(id).hidden = !mine;
    $('reply-form').hidden = !mine;
    $('note-form').hidden = false;
    renderTranscript(data.turns);
    renderDelivery(data.delivery);
    renderSuggestions(data.suggestions, mine);
    renderNotes(data.notes);
  }

  function renderTranscript(turns) {
    const list = $('transcript');
    list.replaceChildren();
    for (const turn of turns) {
      const item = el('li', 'turn ' + turn.author);
      const head = el('div', 'turn-head', (turn.staff_name || AUTHORS[turn.author] || turn.author) + ' · ' + clock(turn.created_at));
      if (turn.intent) head.append(el('span', 'intent', '意图：' + turn.intent));
      item.append(head, el('div', 'turn-text', turn.text));
      if (turn.citations.length) {
        item.append(el('div', 'cites', '引用：' + turn.citations.map((c) => c.title).join('；')));
      }
      if (turn.delivery === 'not_delivered') item.classList.add('undelivered');
      list.append(item);
    }
    list.scrollTop = list.scrollHeight;
  }

  function renderDelivery(rows) {
    const list = $('delivery');
    list.replaceChildren();
    for (const row of rows.filter((r) => r.status !== 'sent')) {
      list.append(el('li', 'undelivered', '未送达（' + row.status + '）：' + (row.reason || '') + ' —— ' + row.text));
    }
  }

  function renderSuggestions(items, mine) {
    const list = $('suggestions');
    list.replaceChildren();
    for (const item of items) {
      const card = el('li', 'card');
      card.append(el('strong', '', item.title), el('p', 'snippet', item.text.slice(0, 160)));
      if (mine) card.append(button('插入回复框', () => insert(item.text)));
      list.append(card);
    }
    if (!items.length) list.append(el('li', 'muted', '没有找到相关条目'));
  }

  function renderNotes(notes) {
    const list = $('notes');
    list.replaceChildren();
    for (const note of notes) list.append(el('li', 'note', note.author + '（' + clock(note.created_at) + '）：' + note.text));
  }

  function insert(text) {
    const box = $('reply-text');
    box.value = box.value ? box.value + '\n' + text : text;
    box.focus();
  }

  async function act(path, body) {
    await api('POST', '/api/staff/handoffs/' + state.current + path, body);
    await Promise.all([loadQueue(), loadDetail()]);
  }

  // -- tickets, team, canned replies, supervisor ----------------------------------------

  async function loadTickets() {
    const data = await api('GET', '/api/staff/tickets');
    const list = $('ticket-list');
    list.replaceChildren();
    for (const ticket of data.items) list.append(ticketItem(ticket));
    if (!data.items.length) list.append(el('li', 'muted', '暂无留言'));
  }

  function ticketItem(ticket) {
    const item = el('li', 'ticket ' + ticket.status);
    item.append(el('div', 'turn-head', ticket.number + ' · ' + (CHANNELS[ticket.channel] || ticket.channel) +
      ' · ' + (ticket.status === 'open' ? '待答复' : '已答复') + (ticket.phone ? ' · 电话 ' + ticket.phone : '')),
    el('p', '', ticket.matter));
    if (ticket.answer) {
      item.append(el('p', 'answer', '答复（' + (ticket.answered_by || '') + '）：' + ticket.answer));
      if (ticket.delivery) item.append(el('p', ticket.delivery === 'delivered' ? 'muted' : 'undelivered',
        ticket.delivery === 'delivered' ? '已送达' : '未送达：' + (ticket.delivery_note || ticket.delivery)));
      return item;
    }
    const box = el('textarea');
    box.rows = 2;
    box.setAttribute('aria-label', '答复 ' + ticket.number);
    item.append(box, button('发送答复', async () => {
      if (!box.value.trim()) return;
      await api('POST', '/api/staff/tickets/' + encodeURIComponent(ticket.number) + '/answer', { text: box.value });
      await loadTickets();
    }));
    return item;
  }

  async function loadTeam() {
    const data = await api('GET', '/api/staff/team');
    const select = $('transfer-to');
    select.replaceChildren(new Option('退回等待队列', ''));
    const team = $('team');
    team.replaceChildren();
    const labels = { online: '在线', away: '离开', offline: '离线' };
    for (const person of data.staff) {
      if (person.username !== state.me.username) select.append(new Option(person.display_name + '（' + labels[person.status] + '）', person.username));
      team.append(el('li', '', person.display_name + ' · ' + labels[person.status] + ' · 处理中 ' + person.load));
    }
  }

  async function loadCanned() {
    const data = await api('GET', '/api/staff/canned');
    const select = $('canned');
    select.replaceChildren(new Option('选择常用语…', ''));
    const list = $('canned-list');
    list.replaceChildren();
    for (const item of data.items) {
      const option = new Option(item.title, String(item.id));
      option.dataset.text = item.text;
      select.append(option);
      const entry = el('li', '', item.title + '：' + item.text);
      if (state.me.role === 'supervisor') entry.append(button('删除', () => api('DELETE', '/api/staff/canned/' + item.id).then(loadCanned)));
      list.append(entry);
    }
  }

  async function loadOverview() {
    if (state.me.role !== 'supervisor') return;
    const data = await api('GET', '/api/staff/overview');
    const f = data.figures;
    const rows = [['等待中', f.waiting], ['今日转人工', f.handoffs], ['今日已处理', f.handled],
      ['平均等待', f.average_wait_s === null ? '—' : minutes(Math.round(f.average_wait_s))],
      ['平均处理时长', f.average_handling_s === null ? '—' : minutes(Math.round(f.average_handling_s))],
      ['今日评价', Object.entries(f.ratings).map(([k, v]) => k + '星×' + v).join('，') || '—']];
    const figures = $('figures');
    figures.replaceChildren();
    for (const [label, value] of rows) figures.append(el('dt', '', label), el('dd', '', value));
    const all = $('all-conversations');
    all.replaceChildren();
    for (const item of data.conversations) all.append(el('li', item.overdue ? 'overdue' : '', (CHANNELS[item.channel] || item.channel) + ' · ' + (STATES[item.status] || item.status) + ' · ' + (item.staff_name || '未接入') + ' · ' + (item.last_question || '')));
  }

  // -- live events ----------------------------------------------------------------------

  function connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(scheme + window.location.host + '/ws/staff');
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ type: 'hello', csrf: state.csrf }));
    });
    socket.addEventListener('message', (event) => onEvent(JSON.parse(event.data)));
    socket.addEventListener('close', (event) => {
      $('link-state').textContent = '连接已断开，正在重连…';
      clearInterval(heartbeat);
      if (event.code === 4401) { window.location.assign('/staff/login'); return; }
      setTimeout(connect, retry + Math.random() * retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  function beat() {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'heartbeat', status: $('presence').value }));
  }

  // The citizen sees "工作人员正在输入": on while typing, off after 3 s of quiet or on send.
  let typingOn = false, typingTimer = null;
  function typed(on) {
    clearTimeout(typingTimer);
    if (on === typingOn || !state.detail) return;
    typingOn = on;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'typing', handoff_id: state.detail.handoff.id, on }));
  }
  function typing() {
    typed(true);
    typingTimer = setTimeout(() => typed(false), 3000);
  }

  const handlers = {
    welcome: () => { retry = 500; $('link-state').textContent = '已连接'; heartbeat = setInterval(beat, 20000); beat(); loadQueue(); loadTeam(); },
    queue: (event) => { loadQueue(); if (event.conversation_id && state.detail && state.detail.handoff.conversation_id === event.conversation_id) loadDetail(); loadOverview(); },
    message: (event) => { if (state.detail && state.detail.handoff.conversation_id === event.conversation_id) loadDetail(); loadQueue(); },
    note: (event) => { if (state.detail && state.detail.handoff.conversation_id === event.conversation_id) loadDetail(); },
    presence: () => { loadTeam(); loadQueue(); },
    ticket: () => loadTickets(),
    canned: () => loadCanned(),
  };

  function onEvent(event) {
    const handler = handlers[event.type];
    if (handler) handler(event);
  }

  // -- wiring ---------------------------------------------------------------------------

  function show(view) {
    for (const tab of document.querySelectorAll('.tab')) tab.setAttribute('aria-pressed', String(tab.dataset.view === view));
    for (const name of ['desk', 'tickets', 'supervisor']) $('view-' + name).hidden = name !== view;
    if (view === 'tickets') loadTickets();
    if (view === 'supervisor') { loadOverview(); loadTeam(); loadCanned(); }
  }

  function wire() {
    for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => show(tab.dataset.view));
    $('claim').addEventListener('click', () => act('/claim'));
    $('resolve').addEventListener('click', () => act('/resolve'));
    $('transfer').addEventListener('click', () => act('/transfer', { to: $('transfer-to').value || null }));
    $('canned').addEventListener('change', (e) => { const o = e.target.selectedOptions[0]; if (o && o.dataset.text) insert(o.dataset.text); e.target.value = ''; });
    $('reply-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = $('reply-text').value.trim();
      if (!text) return;
      typed(false);
      await act('/reply', { text });
      $('reply-text').value = '';
    });
    $('reply-text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.ctrlKey) $('reply-form').requestSubmit(); });
    $('reply-text').addEventListener('input', typing);
    $('note-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = $('note-text').value.trim();
      if (!text) return;
      await act('/notes', { text });
      $('note-text').value = '';
    });
    $('canned-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      await api('POST', '/api/staff/canned', { title: $('canned-title').value, text: $('canned-text').value });
      $('canned-title').value = ''; $('canned-text').value = '';
      await loadCanned();
    });
    $('presence').addEventListener('change', () => { beat(); api('POST', '/api/staff/presence', { status: $('presence').value }); });
    $('logout').addEventListener('click', async () => { await api('POST', '/api/staff/logout'); window.location.assign('/staff/login'); });
    window.addEventListener('focus', () => { state.unseen = 0; updateTitle(); });
    $('notice').addEventListener('click', () => { $('notice').hidden = true; });
    setInterval(() => { for (const item of state.queue) item.waiting_s += 15; renderQueue(); }, 15000);
  }

  async function start() {
    const response = await fetch('/api/staff/me', { credentials: 'same-origin' });
    if (!response.ok) { window.location.assign('/staff/login'); return; }
    state.me = await response.json();
    state.csrf = state.me.csrf;
    $('me-name').textContent = state.me.display_name + (state.me.role === 'supervisor' ? '（主管）' : '');
    $('supervisor-tab').hidden = state.me.role !== 'supervisor';
    wire();
    await Promise.all([loadQueue(), loadCanned(), loadTeam()]);
    connect();
  }

  start();
})();
