// The supervisor wall: live per queue (waiting, longest wait, service level
// today, abandoned today), agents by state with load and handled today, the
// same per site, a chart of queue depth over the last hour, and the live
// conversations, each of which a supervisor can read (monitor), join or
// force-assign, and a live list of the emotion engine's alerts (abusive or
// angry customers) with a button to monitor each conversation. It is built
// from the REST lists and kept live by the workspace stream, on which
// supervisors see every event.
import { call, newKey, Stream, fetchMe } from './api.js';
import { h, s, fmtDur, startOfToday, ts, chatCapacity, say } from './dom.js';

const OPEN = new Set(['bot', 'queued', 'offered', 'assigned', 'waiting']);
const WAITING = new Set(['queued', 'offered']);
const STATES = ['available', 'busy', 'break', 'offline'];

/** start renders the wall into root and keeps it live. */
export function start(ctx) {
  const W = {
    queues: [], users: [], sites: [], teams: [],
    presence: new Map(), // agent id -> presence
    convs: new Map(),
    contacts: new Map(),
    monitor: null, // {id, events: Map, joined}
    stream: null,
    online: false,
    loadedAt: 0,
    alerts: [], // the emotion engine's alerts of the last hours, then live ones, newest first
  };
  let T = ctx.T();
  let els = {};

  // ---- data ----
  async function loadDirectory() {
    const [q, u, si, p] = await Promise.all([
      call('GET', '/api/v1/queues'), call('GET', '/api/v1/users'), call('GET', '/api/v1/sites'), call('GET', '/api/v1/presence')]);
    W.queues = q.items; W.users = u.items; W.sites = si.items;
    W.presence = new Map(p.items.map((x) => [x.agent_id, x.presence]));
  }
  async function loadConversations() {
    // Open ones (the live picture) and the recent ones (today's figures).
    const [open, all] = await Promise.all([
      call('GET', '/api/v1/conversations?open=true&limit=500'), call('GET', '/api/v1/conversations?limit=500')]);
    const m = new Map();
    for (const c of all.items) m.set(c.id, c);
    for (const c of open.items) m.set(c.id, c);
    W.convs = m;
    W.loadedAt = Date.now();
  }

  // Stream events mark the picture stale; a refresh runs at most every
  // 300 ms, so a burst (the replay after a reconnect, a surge) costs one.
  let refreshTimer = 0, refreshing = false, again = false, dirDirty = false;
  function refreshSoon(directory) {
    if (directory) dirDirty = true;
    if (refreshTimer || refreshing) { again = true; return; }
    refreshTimer = setTimeout(refresh, 300);
  }
  async function refresh() {
    refreshTimer = 0;
    refreshing = true;
    again = false;
    try {
      if (dirDirty) { dirDirty = false; await loadDirectory(); }
      await loadConversations();
      draw();
    } catch (err) {
      announce(err.message);
      again = true;
    } finally {
      refreshing = false;
      if (again) refreshSoon(false);
    }
  }

  function onEvent(e) {
    const b = e.body || {};
    if (e.kind === 'presence' && e.actor) {
      W.presence.set(e.actor.id, b.presence);
      draw();
      return;
    }
    if (e.kind === 'directory') { refreshSoon(true); return; }
    if (!e.conversation_id || e.kind === 'typing' || e.kind === 'connection') return;
    if (W.monitor && W.monitor.id === e.conversation_id && e.seq) addMonitorEvent(e);
    // Abuse alerts, and the coaching of a customer whose anger escalates.
    if (e.kind === 'alert' || (e.kind === 'coaching' && (e.body || {}).reason === 'escalating')) addAlert(e);
    refreshSoon(false);
  }

  // ---- figures ----
  function waitStart(c) { return ts(c.queued_at) || ts(c.created_at); }
  function queueStats(q) {
    const today = startOfToday();
    const now = Date.now();
    let waiting = 0, longest = 0, answered = 0, within = 0, abandoned = 0;
    const target = (q.service_level && q.service_level.seconds) || 0;
    for (const c of W.convs.values()) {
      if (c.queue_id !== q.id) continue;
      if (WAITING.has(c.state)) { waiting++; longest = Math.max(longest, now - waitStart(c)); }
      const at = ts(c.assigned_at);
      if (at >= today) { answered++; if (at - waitStart(c) <= target * 1000) within++; }
      if (!at && (c.state === 'resolved' || c.state === 'closed') && ts(c.created_at) >= today) abandoned++;
    }
    return { waiting, longest, answered, within, abandoned };
  }
  function agentState(u) {
    const p = W.presence.get(u.id) || 'offline';
    return p === 'after_work' ? 'busy' : p;
  }
  function agentStats(u) {
    const today = startOfToday();
    let load = 0, handled = 0;
    for (const c of W.convs.values()) {
      if (c.agent_id !== u.id) continue;
      if (c.state === 'assigned' || c.state === 'waiting') load++;
      if (ts(c.resolved_at) >= today) handled++;
    }
    return { load, handled, capacity: chatCapacity(u) };
  }
  function agents() { return W.users.filter((u) => u.role === 'agent' && !u.disabled); }
  function userName(id) { const u = W.users.find((x) => x.id === id); return u ? u.name || u.email : id; }
  function queueName(id) { const q = W.queues.find((x) => x.id === id); return q ? q.name : '—'; }
  function siteName(id) { const x = W.sites.find((y) => y.id === id); return x ? x.name : '—'; }
  function contactName(id) {
    if (!id) return T.customer;
    const v = W.contacts.get(id);
    if (typeof v === 'string') return v;
    if (!v) {
      W.contacts.set(id, call('GET', '/api/v1/contacts/' + encodeURIComponent(id))
        .then((ct) => { W.contacts.set(id, ct.name || `${T.visitor} ${id.slice(-4)}`); drawSoon(); })
        .catch(() => W.contacts.set(id, `${T.visitor} ${id.slice(-4)}`)));
    }
    return `${T.visitor} ${id.slice(-4)}`;
  }

  // depthSeries is, for each minute of the last hour, the most customers
  // waiting at once during it, rebuilt from when each conversation queued
  // and was answered (or left).
  function depthSeries() {
    const now = Date.now();
    const from = now - 3600e3;
    const marks = [];
    for (const c of W.convs.values()) {
      const a = waitStart(c);
      if (!a) continue;
      let b = ts(c.assigned_at);
      if (!b || b < a) b = WAITING.has(c.state) ? Infinity : (ts(c.resolved_at) || ts(c.updated_at) || a);
      if (b < from || b <= a) continue;
      marks.push([a, 1], [b, -1]);
    }
    marks.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // ends before starts at the same instant
    const pts = [];
    let depth = 0, i = 0;
    while (i < marks.length && marks[i][0] <= from) depth += marks[i++][1];
    for (let m = 59; m >= 0; m--) {
      const end = now - m * 60e3;
      let peak = depth;
      while (i < marks.length && marks[i][0] <= end) { depth += marks[i++][1]; peak = Math.max(peak, depth); }
      pts.push([end, peak]);
    }
    return pts;
  }

  // ---- drawing ----
  let drawPending = false;
  function drawSoon() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; draw(); });
  }

  function render() {
    T = ctx.T();
    document.title = T.wall.title + ' · Starpost';
    els = {};
    els.banner = h('p', { class: 'banner', role: 'status', hidden: W.online || !W.stream, text: T.reconnecting });
    els.announce = h('p', { class: 'sr', 'aria-live': 'polite', id: 'announce' });
    els.queues = h('tbody');
    els.states = h('ul', { class: 'tiles', 'aria-label': T.wall.agentsByState });
    els.agents = h('tbody');
    els.sites = h('tbody');
    els.convs = h('tbody');
    els.noConvs = h('p', { class: 'empty', text: T.wall.none });
    els.chart = h('figure', { class: 'chart' });
    els.slChart = h('figure', { class: 'chart' });
    els.updated = h('span', { class: 'updated' });
    els.panel = h('section', { class: 'monitor', 'aria-labelledby': 'mon-h', hidden: true });
    const th = (t, cls) => h('th', { scope: 'col', class: cls, text: t });
    const table = (caption, id, heads, body) => h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': id },
      h('table', { class: 'grid' }, h('caption', { id, text: caption }), h('thead', {}, h('tr', {}, ...heads)), body));
    const main = els.main = h('main', { class: 'wall', id: 'wall' },
      h('div', { class: 'wall-head' }, h('h1', { text: T.wall.title }), h('span', { class: 'live', text: '● ' + T.wall.live }), els.updated),
      els.alerts = h('section', { class: 'card span2 alerts', id: 'alerts', 'aria-labelledby': 'alh' }),
      h('section', { class: 'card span2', 'aria-labelledby': 'qh' },
        h('h2', { id: 'qh', text: T.wall.queues }),
        table(T.wall.queues, 'qcap', [th(T.wall.queue), th(T.wall.waiting, 'num'), th(T.wall.longest, 'num'), th(T.wall.sl, 'num'), th(T.wall.abandoned, 'num')], els.queues)),
      h('section', { class: 'card', 'aria-labelledby': 'ch' }, h('h2', { id: 'ch', text: T.wall.chart }), els.chart),
      h('section', { class: 'card', 'aria-labelledby': 'slh' }, h('h2', { id: 'slh', text: T.wall.slChart }), els.slChart),
      h('section', { class: 'card span2', 'aria-labelledby': 'sh' }, h('h2', { id: 'sh', text: T.wall.agentsByState }), els.states),
      h('section', { class: 'card span2', 'aria-labelledby': 'lh' },
        h('h2', { id: 'lh', text: T.wall.conversations }),
        table(T.wall.conversations, 'lcap', [th(T.wall.customer), th(T.wall.queue, 'hide-sm'), th(T.wall.state), th(T.wall.agent), th(T.wall.age, 'num'), th(T.adm.actions, 'act')], els.convs), els.noConvs),
      h('section', { class: 'card span2', 'aria-labelledby': 'ah' },
        h('h2', { id: 'ah', text: T.wall.agents }),
        table(T.wall.agents, 'acap', [th(T.wall.agent), th(T.wall.site, 'hide-sm'), th(T.wall.state), th(T.wall.load, 'num'), th(T.wall.handled, 'num')], els.agents)),
      h('section', { class: 'card span2', 'aria-labelledby': 'sih' },
        h('h2', { id: 'sih', text: T.wall.sites }),
        table(T.wall.sites, 'scap', [th(T.wall.site), ...STATES.map((st) => th(T[st], 'num')), th(T.wall.activeChats, 'num'), th(T.wall.handled, 'num')], els.sites)));
    main.querySelectorAll('caption').forEach((c) => c.classList.add('sr'));
    drawAlerts();
    ctx.root.className = 'page';
    ctx.root.replaceChildren(ctx.topBar('wall'), els.banner, els.announce, h('div', { class: 'page-body' }, main, els.panel));
    draw();
    if (W.monitor) drawMonitor();
  }

  function draw() {
    if (!els.queues) return;
    drawAlerts();
    const now = Date.now();
    els.updated.textContent = W.loadedAt ? T.wall.updated(new Date(W.loadedAt).toLocaleTimeString(ctx.lang())) : '';
    els.queues.replaceChildren(...W.queues.map((q) => {
      const st = queueStats(q);
      const sl = st.answered ? Math.round((100 * st.within) / st.answered) : null;
      const goal = q.service_level || {};
      const bad = sl !== null && sl < (goal.percent || 0);
      return h('tr', { 'data-queue': q.id },
        h('th', { scope: 'row', text: q.name }),
        h('td', { class: 'num waiting' + (st.waiting ? ' hot' : ''), text: String(st.waiting) }),
        h('td', { class: 'num longest', text: st.waiting ? fmtDur(st.longest) : '—' }),
        h('td', { class: 'num sl' + (bad ? ' bad' : '') },
          h('span', { text: sl === null ? '—' : `${sl}%` }),
          h('small', { text: ' ' + T.wall.slTarget(goal.percent || 0, goal.seconds || 0) })),
        h('td', { class: 'num abandoned', text: String(st.abandoned) }));
    }));
    const counts = Object.fromEntries(STATES.map((x) => [x, 0]));
    for (const u of agents()) counts[agentState(u)] = (counts[agentState(u)] || 0) + 1;
    els.states.replaceChildren(...STATES.map((x) => h('li', { class: 'tile st-' + x, 'data-state': x },
      h('span', { class: 'n', text: String(counts[x]) }), h('span', { class: 'l', text: T[x] }))));
    els.agents.replaceChildren(...agents().map((u) => {
      const st = agentStats(u);
      const state = W.presence.get(u.id) || 'offline';
      return h('tr', { 'data-agent': u.id },
        h('th', { scope: 'row', text: u.name || u.email }),
        h('td', { class: 'hide-sm', text: siteName(u.site_id) }),
        h('td', {}, h('span', { class: 'dot st-' + agentState(u), text: T[state] || state })),
        h('td', { class: 'num' }, meter(st.load, st.capacity)),
        h('td', { class: 'num handled', text: String(st.handled) }));
    }));
    els.sites.replaceChildren(...W.sites.map((site) => {
      const c = Object.fromEntries(STATES.map((x) => [x, 0]));
      let load = 0, handled = 0;
      for (const u of agents()) {
        if (u.site_id !== site.id) continue;
        c[agentState(u)]++;
        const st = agentStats(u);
        load += st.load; handled += st.handled;
      }
      return h('tr', { 'data-site': site.id }, h('th', { scope: 'row', text: site.name }),
        ...STATES.map((x) => h('td', { class: 'num', text: String(c[x]) })),
        h('td', { class: 'num', text: String(load) }), h('td', { class: 'num', text: String(handled) }));
    }));
    const live = [...W.convs.values()].filter((c) => OPEN.has(c.state)).sort((a, b) => waitStart(a) - waitStart(b));
    const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.open;
    els.convs.replaceChildren(...live.map((c) => {
      const who = contactName(c.contact_id);
      return h('tr', { 'data-conv': c.id, class: W.monitor && W.monitor.id === c.id ? 'sel' : false },
        h('th', { scope: 'row', text: who }),
        h('td', { class: 'hide-sm', text: queueName(c.queue_id) }),
        h('td', {}, h('span', { class: 'state s-' + c.state, text: T.state[c.state] || c.state })),
        h('td', { text: c.agent_id ? userName(c.agent_id) : c.offered_to ? userName(c.offered_to) : T.wall.noAgent }),
        h('td', { class: 'num', text: fmtDur(now - (ts(c.created_at) || now)) }),
        h('td', { class: 'act' }, h('button', { type: 'button', class: 'small', 'data-open': c.id, 'aria-label': T.wall.openLabel(who), onclick: () => openMonitor(c.id), text: T.wall.open })));
    }));
    if (focused) { const b = els.convs.querySelector(`[data-open="${CSS.escape(focused)}"]`); if (b) b.focus(); }
    els.noConvs.hidden = live.length > 0;
    drawChart();
    drawSLChart();
    if (W.monitor) drawMonitorHead();
  }

  function meter(load, cap) {
    return h('span', { class: 'meter' },
      h('span', { class: 'meter-text', text: cap ? `${load} / ${cap}` : String(load) }),
      cap ? h('progress', { max: String(cap), value: String(Math.min(load, cap)), 'aria-hidden': 'true' }) : null);
  }

  function drawChart() {
    const pts = depthSeries();
    const W0 = Math.max(280, Math.round(els.chart.clientWidth) || 600), H0 = 180, pad = 28;
    const max = Math.max(3, ...pts.map((p) => p[1]));
    const x = (i) => pad + ((W0 - pad - 8) * i) / (pts.length - 1);
    const y = (n) => H0 - 22 - ((H0 - 40) * n) / max;
    const line = pts.map((p, i) => `${x(i).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    let peak = pts[0];
    for (const p of pts) if (p[1] > peak[1]) peak = p;
    const fmt = (t) => new Date(t).toLocaleTimeString(ctx.lang(), { hour: '2-digit', minute: '2-digit' });
    const nowN = [...W.convs.values()].filter((c) => WAITING.has(c.state)).length;
    const desc = peak[1] ? T.wall.chartDesc(nowN, peak[1], fmt(peak[0]), pts[0][1]) : T.wall.chartNone;
    const grid = [0, Math.round(max / 2), max];
    const svg = s('svg', { viewBox: `0 0 ${W0} ${H0}`, role: 'img', 'aria-labelledby': 'chart-t chart-d', class: 'depth' },
      s('title', { id: 'chart-t', text: T.wall.chart }),
      s('desc', { id: 'chart-d', text: desc }),
      ...grid.map((g) => s('g', {}, s('line', { x1: pad, x2: W0 - 8, y1: y(g), y2: y(g), class: 'gl' }),
        s('text', { x: pad - 6, y: y(g) + 4, 'text-anchor': 'end', class: 'ax', text: String(g) }))),
      s('polygon', { points: `${x(0)},${y(0)} ${line} ${x(pts.length - 1)},${y(0)}`, class: 'area' }),
      s('polyline', { points: line, class: 'ln' }),
      s('text', { x: pad, y: H0 - 4, class: 'ax', text: T.wall.minutesAgo }),
      s('text', { x: W0 - 8, y: H0 - 4, 'text-anchor': 'end', class: 'ax', text: T.wall.now }));
    els.chart.replaceChildren(svg, h('figcaption', { class: 'chart-text', text: desc }));
  }

  // drawSLChart draws today's service level hour by hour: of the
  // conversations answered in each hour, the share answered within their
  // queue's target.
  function drawSLChart() {
    const today = startOfToday();
    const hours = Math.max(1, Math.floor((Date.now() - today) / 3600e3) + 1);
    const first = Math.max(0, hours - 12); // at most the last 12 hours
    const answered = new Array(hours).fill(0), within = new Array(hours).fill(0);
    const target = new Map(W.queues.map((q) => [q.id, ((q.service_level && q.service_level.seconds) || 0) * 1000]));
    for (const c of W.convs.values()) {
      const at = ts(c.assigned_at);
      if (at < today) continue;
      const i = Math.floor((at - today) / 3600e3);
      if (i >= hours) continue;
      answered[i]++;
      if (at - waitStart(c) <= (target.get(c.queue_id) || 0)) within[i]++;
    }
    const W0 = Math.max(280, Math.round(els.slChart.clientWidth) || 600), H0 = 180, pad = 46;
    const n = hours - first;
    const bw = (W0 - pad - 8) / n;
    const y = (p) => H0 - 22 - ((H0 - 40) * p) / 100;
    const label = (i) => `${String(i).padStart(2, '0')}:00`;
    const parts = [];
    const said = [];
    for (let i = first; i < hours; i++) {
      const x = pad + (i - first) * bw;
      if (answered[i]) {
        const p = Math.round((100 * within[i]) / answered[i]);
        parts.push(s('rect', { x: (x + bw * 0.15).toFixed(1), y: y(p).toFixed(1), width: (bw * 0.7).toFixed(1), height: (y(0) - y(p)).toFixed(1), class: 'bar' }));
        said.push(`${label(i)} ${p}%`);
      }
      if ((i - first) % Math.ceil(n / 6) === 0) parts.push(s('text', { x: (x + bw / 2).toFixed(1), y: H0 - 4, 'text-anchor': 'middle', class: 'ax', text: label(i) }));
    }
    const desc = said.length ? T.wall.slDesc(said.join(', ')) : T.wall.slNone;
    const svg = s('svg', { viewBox: `0 0 ${W0} ${H0}`, role: 'img', 'aria-labelledby': 'sl-t sl-d', class: 'depth' },
      s('title', { id: 'sl-t', text: T.wall.slChart }),
      s('desc', { id: 'sl-d', text: desc }),
      ...[0, 50, 100].map((g) => s('g', {}, s('line', { x1: pad, x2: W0 - 8, y1: y(g), y2: y(g), class: 'gl' }),
        s('text', { x: pad - 6, y: y(g) + 4, 'text-anchor': 'end', class: 'ax', text: g + '%' }))),
      ...parts);
    els.slChart.replaceChildren(svg, h('figcaption', { class: 'chart-text', text: desc }));
  }

  // ---- alerts (emotion engine) ----
  function alertReason(e) { return e.kind === 'coaching' ? 'anger' : (e.body || {}).reason || 'abuse'; }
  function addAlert(e, quiet) {
    if (W.alerts.some((a) => a.cursor === e.cursor)) return;
    W.alerts.unshift(e);
    W.alerts.length = Math.min(W.alerts.length, 50);
    drawAlerts();
    if (quiet) return;
    const b = e.body || {};
    const c = W.convs.get(e.conversation_id);
    announce(T.assist.alertReason[alertReason(e)] + ': ' + (c ? contactName(c.contact_id) : ''));
  }
  let alertsSig = '';
  function drawAlerts() {
    if (!els.alerts) return;
    // Redrawn when an alert comes or a name becomes known (keeps focus).
    const sig = W.alerts.map((e) => e.cursor + ':' + (W.convs.has(e.conversation_id) ? contactName(W.convs.get(e.conversation_id).contact_id) : '')).join() + '|' + T.assist.alerts;
    if (sig === alertsSig && els.alerts.firstChild) return;
    alertsSig = sig;
    const items = W.alerts.map((e) => {
      const b = e.body || {};
      const c = W.convs.get(e.conversation_id);
      const who = c ? contactName(c.contact_id) : T.customer;
      return h('li', { class: 'alert-item r-' + alertReason(e), 'data-conv': e.conversation_id },
        h('p', { class: 'alert-top' },
          h('span', { 'aria-hidden': 'true', text: '⚠ ' }),
          h('strong', { text: T.assist.alertReason[alertReason(e)] || alertReason(e) }), ' · ', who, ' · ',
          h('time', { datetime: e.at, text: new Date(e.at).toLocaleTimeString(ctx.lang(), { hour: '2-digit', minute: '2-digit' }) })),
        b.excerpt ? h('p', { class: 'alert-excerpt', text: b.excerpt }) : null,
        h('p', { class: 'alert-meta' }, b.agent_id ? T.assist.alertAgent(userName(b.agent_id)) : '', ' ',
          h('button', { type: 'button', class: 'small monitor-alert', 'aria-label': T.assist.monitorLabel(who), onclick: () => openMonitor(e.conversation_id), text: T.assist.monitor })));
    });
    els.alerts.replaceChildren(h('h2', { id: 'alh', text: T.assist.alerts + (W.alerts.length ? ` (${W.alerts.length})` : '') }),
      items.length ? h('ul', { class: 'alert-list' }, ...items) : h('p', { class: 'empty', text: T.assist.alertsNone }));
  }

  // ---- monitor, join, force-assign ----
  async function openMonitor(id) {
    W.monitor = { id, events: new Map(), joined: false };
    drawMonitor();
    els.panel.querySelector('h2').focus();
    try {
      let after = 0;
      for (;;) {
        const page = await call('GET', `/api/v1/conversations/${encodeURIComponent(id)}/events?after=${after}`);
        if (!W.monitor || W.monitor.id !== id) return;
        for (const e of page.items) addMonitorEvent(e);
        if (!page.has_more) break;
        after = page.next_cursor;
      }
    } catch (err) {
      announce(err.message);
    }
  }
  function closeMonitor() {
    const id = W.monitor && W.monitor.id;
    W.monitor = null;
    els.panel.hidden = true;
    setInert();
    draw();
    const b = id && els.convs.querySelector(`[data-open="${CSS.escape(id)}"]`);
    if (b) b.focus();
  }
  // On tablets and phones the monitor covers the wall: the wall behind it
  // is inert, so focus and screen readers stay in the panel.
  const narrow = matchMedia('(max-width: 1100px)');
  function setInert() { if (els.main) els.main.inert = !!W.monitor && narrow.matches; }
  narrow.addEventListener('change', setInert);

  function drawMonitor() {
    const m = W.monitor;
    els.panel.hidden = !m;
    setInert();
    if (!m) return;
    els.monHead = h('div', { class: 'mon-head' });
    els.monLog = h('ol', { class: 'log', 'aria-live': 'polite', 'aria-label': T.wall.monitor, tabindex: '0' });
    const agentSel = h('select', { id: 'assign-agent' }, h('option', { value: '', text: T.wall.pickAgent }),
      ...agents().map((u) => h('option', { value: u.id, text: `${u.name || u.email} · ${T[W.presence.get(u.id) || 'offline']}` })));
    const assignForm = h('form', { class: 'assign', onsubmit: async (e) => {
      e.preventDefault();
      if (!agentSel.value) { agentSel.focus(); return; }
      try {
        await call('POST', `/api/v1/conversations/${encodeURIComponent(m.id)}/assign`, { agent_id: agentSel.value });
        announce(T.wall.assigned(userName(agentSel.value)));
        refreshSoon(false);
      } catch (err) { announce(err.message); }
    } }, h('label', { for: 'assign-agent', text: T.wall.assignTo }), agentSel, h('button', { type: 'submit', text: T.wall.assign }));
    const msg = h('textarea', { id: 'mon-msg', rows: '2', maxlength: '4000', placeholder: T.wall.message });
    els.monReply = h('form', { class: 'reply', hidden: !m.joined, onsubmit: async (e) => {
      e.preventDefault();
      const text = msg.value.trim();
      if (!text) return;
      try {
        const ev = await call('POST', `/api/v1/conversations/${encodeURIComponent(m.id)}/messages`, { text, idempotency_key: newKey('sv') });
        msg.value = '';
        addMonitorEvent(ev);
      } catch (err) { announce(err.message); }
    } }, h('label', { for: 'mon-msg', class: 'sr', text: T.wall.message }), msg, h('button', { type: 'submit', class: 'primary', text: T.wall.send }));
    els.panel.replaceChildren(els.monHead, els.monLog, h('div', { class: 'mon-actions' },
      els.joinBtn = h('button', { type: 'button', class: 'join', hidden: m.joined, onclick: async () => {
        try {
          await call('POST', `/api/v1/conversations/${encodeURIComponent(m.id)}/join`, {});
          m.joined = true;
          announce(T.wall.joined);
          drawMonitor();
          document.getElementById('mon-msg').focus();
        } catch (err) { announce(err.message); }
      }, text: T.wall.join }), assignForm), els.monReply);
    drawMonitorHead();
    for (const e of [...m.events.values()].sort((a, b) => a.seq - b.seq)) appendMonitor(e);
  }
  function drawMonitorHead() {
    const c = W.convs.get(W.monitor.id);
    const who = c ? contactName(c.contact_id) : '';
    els.monHead.replaceChildren(
      h('h2', { id: 'mon-h', tabindex: '-1', text: T.wall.monitoring(who) }),
      c ? h('span', { class: 'state s-' + c.state, text: T.state[c.state] || c.state }) : null,
      h('button', { type: 'button', class: 'ghost', 'aria-label': T.wall.closePanel, onclick: closeMonitor, text: '✕' }));
  }
  function addMonitorEvent(e) {
    const m = W.monitor;
    if (!m || m.events.has(e.seq)) return;
    m.events.set(e.seq, e);
    if (e.kind === 'joined' && e.body && e.body.id === ctx.me.id && !m.joined) {
      // Already in: offer the message box, not a second join.
      m.joined = true;
      if (els.joinBtn) els.joinBtn.hidden = true;
      if (els.monReply) els.monReply.hidden = false;
    }
    appendMonitor(e);
  }
  function appendMonitor(e) {
    if (!els.monLog) return;
    const b = e.body || {};
    let li = null;
    const at = new Date(e.at).toLocaleTimeString(ctx.lang(), { hour: '2-digit', minute: '2-digit' });
    if (e.kind === 'message' || e.kind === 'note') {
      const role = e.actor.role;
      const who = role === 'customer' ? T.customer : userName(e.actor.id);
      li = h('li', { class: 'msg ' + (e.kind === 'note' ? 'note' : role === 'customer' ? 'them' : 'agent'), 'data-seq': String(e.seq) },
        h('span', { class: 'who', text: `${who} · ${at}` }), h('span', { class: 'text', text: b.text || '' }));
    } else if (e.kind === 'assigned') li = sys(T.wall.assignedTo(userName(b.agent_id)), at, e);
    else if (e.kind === 'created') li = sys(T.ev.created, at, e);
    else if (e.kind === 'joined') li = sys(T.wall.joinedBy(userName(b.id)), at, e);
    else if (e.kind === 'state') li = sys(T.state[b.state] || b.state, at, e);
    if (!li) return;
    const after = [...els.monLog.querySelectorAll('[data-seq]')].find((n) => Number(n.dataset.seq) > e.seq);
    if (after) els.monLog.insertBefore(li, after); else els.monLog.append(li);
    els.monLog.scrollTop = els.monLog.scrollHeight;
  }
  function sys(text, at, e) { return h('li', { class: 'sys', 'data-seq': String(e.seq), text: `${text} · ${at}` }); }

  function announce(text) { say(els.announce, text); }

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && W.monitor) { e.preventDefault(); closeMonitor(); }
  });

  // ---- boot ----
  render();
  (async () => {
    // The cursor is taken before the REST state is read, so the stream
    // starts at what that state may lack and never replays older history.
    let cursor = 0;
    try {
      cursor = (await fetchMe()).cursor || 0;
      await loadDirectory();
      await loadConversations();
      // Alerts raised before the wall opened (oldest first, so the list
      // ends newest first), without announcing each one again.
      const recent = await call('GET', '/api/v1/alerts');
      for (const e of (recent.items || []).slice().reverse()) addAlert(e, true);
    } catch (err) {
      announce(err.message);
    }
    draw();
    W.stream = new Stream(onEvent, (st) => {
      W.online = st === 'online';
      if (els.banner) els.banner.hidden = W.online;
      if (W.online) refreshSoon(true); // catch up on what a drop hid
    }, cursor);
    W.stream.connect();
  })();
  // Waiting times and the chart move with the clock.
  setInterval(() => { if (!document.hidden) draw(); }, 5000);
  window.addEventListener('resize', drawSoon);

  return { render, stop: () => W.stream && W.stream.close() };
}
