// Workforce management. Planners (supervisors and admins) see a queue's
// day — forecast vs actual and requirement vs scheduled, as SVG charts
// with a data table behind each — the week's schedules (generate,
// publish), the published schedule grid (agents × time, per site) and
// adherence. Agents see their own shifts this week, their overtime and
// time-off offers and the open slots they may claim, laid out for a phone
// first. All of it reads /api/v1/wfm/*. A queue's day is its local day
// (the queue's time zone, 23 or 25 hours on a daylight-saving change) and
// an agent's week is in the agent's site's time zone: every time is shown
// in that zone, not the browser's. Open slots are for flexible agents
// (灵活用工): an agent opts in, a planner marks agents flexible.
import { call } from './api.js';
import { h, s } from './dom.js';
import { calendarSection } from './wfmcal.js';

const DAY = 86400e3;

/** start renders the page into root. */
export function start(ctx) {
  if (!document.getElementById('wfm-css')) {
    document.head.append(h('link', { rel: 'stylesheet', href: '/app/wfm.css', id: 'wfm-css' }));
  }
  const planner = ctx.me.role === 'supervisor' || ctx.me.role === 'admin';
  const P = {
    queues: [], users: [], sites: [],
    queue: '', day: '', // the day: '' until the server says which is today in the queue's zone
    plan: null, schedules: [], shifts: [], adherence: [], profiles: [],
    mine: null, busy: false,
  };
  let T = ctx.T();
  let els = {};

  // ---- helpers ----
  // The time zone times are shown in: the queue's for a planner, the
  // agent's own for an agent (the browser's until the server said).
  const zone = () => (planner ? P.plan && P.plan.time_zone : P.mine && P.mine.time_zone) || undefined;
  const fmtTime = (t) => new Date(t).toLocaleTimeString(ctx.lang(), { hour: '2-digit', minute: '2-digit', timeZone: zone() });
  const fmtDay = (t) => new Date(t).toLocaleDateString(ctx.lang(), { weekday: 'short', month: 'short', day: 'numeric', timeZone: zone() });
  const expired = (x) => x.status === 'expired';
  const closesEarly = (x) => x.expires_at && Date.parse(x.expires_at) < Date.parse(x.start);
  const span = (a, b) => `${fmtTime(a)}–${fmtTime(b)}`;
  const hours = (a, b) => ((Date.parse(b) - Date.parse(a)) / 3600e3);
  const userName = (id) => { const u = P.users.find((x) => x.id === id); return u ? u.name : id; };
  const queueName = (id) => { const q = P.queues.find((x) => x.id === id); return q ? q.name : ''; };
  function announce(text) {
    if (!els.announce) return;
    els.announce.textContent = '';
    requestAnimationFrame(() => { els.announce.textContent = text; });
  }
  function fail(err) { announce(err.message); if (els.error) els.error.textContent = err.message; }

  // ---- data ----
  async function loadPlanner() {
    if (!P.queues.length) {
      const [q, u, si] = await Promise.all([call('GET', '/api/v1/queues'), call('GET', '/api/v1/users'), call('GET', '/api/v1/sites')]);
      P.queues = q.items; P.users = u.items; P.sites = si.items;
      P.queue = P.queue || (P.queues[0] && P.queues[0].id) || '';
    }
    if (!P.queue) return;
    const q = encodeURIComponent(P.queue);
    // The day's bounds are the queue's local midnights: read the plan first.
    const plan = await call('GET', `/api/v1/wfm/queues/${q}/day` + (P.day ? `?date=${P.day}` : ''));
    P.day = plan.day;
    const week = mondayOf(P.day);
    const [sch, sh, adh, prof] = await Promise.all([
      call('GET', `/api/v1/wfm/schedules?week_start=${week}`),
      call('GET', `/api/v1/wfm/shifts?from=${encodeURIComponent(plan.start)}&to=${encodeURIComponent(plan.end)}`),
      call('GET', `/api/v1/wfm/adherence?date=${P.day}&queue_id=${q}`),
      call('GET', '/api/v1/wfm/agents')]);
    P.plan = plan; P.schedules = sch.items; P.shifts = sh.items; P.adherence = adh.items; P.profiles = prof.items;
  }
  async function loadMine() {
    // The server starts the week at today's midnight in the agent's zone.
    P.mine = await call('GET', '/api/v1/wfm/me');
  }
  async function reload() {
    try {
      if (planner) await loadPlanner(); else await loadMine();
      if (els.error) els.error.textContent = '';
    } catch (err) { fail(err); }
    draw();
  }

  // ---- actions ----
  async function act(btn, fn, done) {
    btn.disabled = true;
    try {
      await fn();
      announce(done);
      await reload();
    } catch (err) {
      fail(err);
      btn.disabled = false;
    }
  }
  const claim = (sl, btn) => act(btn, () => call('POST', `/api/v1/wfm/slots/${encodeURIComponent(sl.id)}/claim`),
    T.wfm.claimed(fmtDay(sl.start), span(sl.start, sl.end)));
  const answer = (o, accept, btn) => act(btn, () => call('POST', `/api/v1/wfm/offers/${encodeURIComponent(o.id)}/${accept ? 'accept' : 'decline'}`),
    accept ? T.wfm.accepted : T.wfm.declined);
  const generate = (btn) => act(btn, () => call('POST', `/api/v1/wfm/queues/${encodeURIComponent(P.queue)}/schedules`, { week_start: nextMonday(P.day) }), T.wfm.generated);
  const publish = (sc, btn) => act(btn, () => call('POST', `/api/v1/wfm/schedules/${encodeURIComponent(sc.id)}/publish`), T.wfm.published);
  const optIn = (on, box) => act(box, () => call('PUT', '/api/v1/wfm/me/profile', { opted_in: on }), on ? T.wfm.optedIn : T.wfm.optedOut);
  const setFlexible = (u, on, box) => act(box, () => call('PUT', `/api/v1/wfm/agents/${encodeURIComponent(u.id)}`, { flexible: on }), T.wfm.flexSaved(u.name, on));
  const setWeekHours = (u, h, input) => act(input, () => call('PUT', `/api/v1/wfm/agents/${encodeURIComponent(u.id)}`, { max_week_hours: h }), T.wfm.weekSaved(u.name, h));

  // ---- render ----
  function render() {
    T = ctx.T();
    document.title = T.wfm.title + ' · Starpost';
    els = {};
    els.announce = h('p', { class: 'sr', 'aria-live': 'polite', id: 'wfm-announce' });
    els.error = h('p', { class: 'error', role: 'alert' });
    els.body = h('div', { class: 'wfm-body' });
    const main = h('main', { class: 'wfm' + (planner ? ' planner' : ' mine'), id: 'wfm' },
      h('h1', { text: planner ? T.wfm.title : T.wfm.mine }), els.error, els.body);
    ctx.root.className = 'page';
    ctx.root.replaceChildren(ctx.topBar('wfm'), els.announce, h('div', { class: 'page-body' }, main));
    draw();
  }

  function draw() {
    if (!els.body) return;
    if (planner) drawPlanner(); else drawMine();
  }

  // ---- agent view ----
  function drawMine() {
    const m = P.mine;
    if (!m) { els.body.replaceChildren(h('p', { class: 'empty', text: T.wfm.loading })); return; }
    const offers = h('section', { class: 'card', 'aria-labelledby': 'wfm-off' }, h('h2', { id: 'wfm-off', text: T.wfm.offers }),
      m.offers.length ? h('ul', { class: 'wfm-cards' }, ...m.offers.map((o) => {
        const what = o.kind === 'vto' ? T.wfm.vto : T.wfm.overtime;
        const when = `${fmtDay(o.start)} ${span(o.start, o.end)}`;
        if (expired(o)) {
          return h('li', { class: 'wfm-card offer expired', 'data-offer': o.id }, h('p', { class: 'what', text: what }), h('p', { class: 'when', text: when }),
            h('p', { class: 'meta tag-expired', text: T.wfm.expired }));
        }
        const yes = h('button', { type: 'button', class: 'primary small', 'aria-label': `${T.wfm.accept}: ${what} ${when}`, text: T.wfm.accept });
        const no = h('button', { type: 'button', class: 'small', 'aria-label': `${T.wfm.decline}: ${what} ${when}`, text: T.wfm.decline });
        yes.addEventListener('click', () => answer(o, true, yes));
        no.addEventListener('click', () => answer(o, false, no));
        return h('li', { class: 'wfm-card offer', 'data-offer': o.id }, h('p', { class: 'what', text: what }), h('p', { class: 'when', text: when }),
          closesEarly(o) ? h('p', { class: 'meta', text: T.wfm.answerBy(`${fmtDay(o.expires_at)} ${fmtTime(o.expires_at)}`) }) : null,
          h('div', { class: 'acts' }, yes, no));
      })) : h('p', { class: 'empty', text: T.wfm.noOffers }));
    const byDay = new Map();
    for (const sh of m.shifts) {
      const k = fmtDay(sh.start);
      if (!byDay.has(k)) byDay.set(k, []);
      byDay.get(k).push(sh);
    }
    const shifts = h('section', { class: 'card', 'aria-labelledby': 'wfm-my' }, h('h2', { id: 'wfm-my', text: T.wfm.myShifts }),
      m.shifts.length ? h('ul', { class: 'wfm-days' }, ...[...byDay].map(([d, list]) => h('li', {},
        h('h3', { text: d }),
        h('ul', { class: 'wfm-cards' }, ...list.map((sh) => h('li', { class: 'wfm-card shift' + (sh.kind === 'slot' ? ' extra' : '') },
          h('p', { class: 'when', text: span(sh.start, sh.end) }),
          h('p', { class: 'meta', text: [sh.break_start ? T.wfm.breakAt(span(sh.break_start, sh.break_end)) : '', sh.kind === 'slot' ? T.wfm.claimedSlot : ''].filter(Boolean).join(' · ') || T.wfm.noBreak }))))))) :
        h('p', { class: 'empty', text: T.wfm.noShifts }));
    const prof = m.profile || { flexible: false, opted_in: false, week_limit: 0 };
    let flex;
    if (prof.flexible) {
      flex = h('p', { class: 'hint', id: 'wfm-flex', text: T.wfm.flexible(prof.week_limit) });
    } else {
      const box = h('input', { type: 'checkbox', id: 'wfm-optin', checked: prof.opted_in });
      box.addEventListener('change', () => optIn(box.checked, box));
      flex = h('div', { class: 'wfm-optin' }, h('p', { class: 'hint', id: 'wfm-optin-hint', text: T.wfm.optInHint(prof.week_limit) }),
        h('label', { for: 'wfm-optin', class: 'check' }, box, ' ', T.wfm.optIn));
      box.setAttribute('aria-describedby', 'wfm-optin-hint');
    }
    const may = prof.flexible || prof.opted_in;
    const slots = h('section', { class: 'card', 'aria-labelledby': 'wfm-open' }, h('h2', { id: 'wfm-open', text: T.wfm.openSlots }),
      flex,
      may ? h('p', { class: 'hint', text: T.wfm.slotsHint }) : null,
      !may ? null : m.open_slots.length ? h('ul', { class: 'wfm-cards' }, ...m.open_slots.map((sl) => {
        const when = `${fmtDay(sl.start)} ${span(sl.start, sl.end)}`;
        const meta = h('p', { class: 'meta', text: T.wfm.slotMeta(hours(sl.start, sl.end).toFixed(1), sl.reason === 'surge') });
        if (expired(sl)) {
          return h('li', { class: 'wfm-card slot expired', 'data-slot': sl.id },
            h('p', { class: 'when', text: when }), meta, h('p', { class: 'meta tag-expired', text: T.wfm.expired }));
        }
        const btn = h('button', { type: 'button', class: 'primary claim', 'aria-label': T.wfm.claimLabel(when), text: T.wfm.claim });
        btn.addEventListener('click', () => claim(sl, btn));
        return h('li', { class: 'wfm-card slot', 'data-slot': sl.id },
          h('p', { class: 'when', text: when }), meta,
          closesEarly(sl) ? h('p', { class: 'meta', text: T.wfm.claimBy(`${fmtDay(sl.expires_at)} ${fmtTime(sl.expires_at)}`) }) : null,
          btn);
      })) : h('p', { class: 'empty', text: T.wfm.noSlots }));
    // Offers only when there are some: a phone screen is short.
    els.body.replaceChildren(...(m.offers.length ? [offers] : []), shifts, slots);
  }

  // ---- planner view ----
  function drawPlanner() {
    const qsel = h('select', { id: 'wfm-queue' }, ...P.queues.map((q) => h('option', { value: q.id, text: q.name, selected: q.id === P.queue })));
    qsel.addEventListener('change', () => { P.queue = qsel.value; reload(); });
    const dsel = h('input', { id: 'wfm-day', type: 'date', value: P.day });
    dsel.addEventListener('change', () => { if (dsel.value) { P.day = dsel.value; reload(); } });
    const controls = h('div', { class: 'wfm-controls' },
      h('label', { for: 'wfm-queue', text: T.wfm.queue }), qsel,
      h('label', { for: 'wfm-day', text: T.wfm.day }), dsel,
      P.plan ? h('span', { class: 'meta', id: 'wfm-zone', text: T.wfm.zone(P.plan.time_zone) }) : null);
    if (!P.plan) { els.body.replaceChildren(controls, h('p', { class: 'empty', text: T.wfm.loading })); return; }
    const items = P.plan.items;
    const now = Date.parse(P.plan.now);
    const idx = items.map((_, i) => i);
    const fcChart = chart('fc', T.wfm.fcChart, T.wfm.fcDesc(P.plan.method, sum(items, 'forecast'), sum(items, 'actual'), P.plan.factor), items, [
      { key: 'forecast', cls: 'l-fc', label: T.wfm.forecast },
      { key: 'reforecast', cls: 'l-re', label: T.wfm.reforecast },
      { key: 'actual', cls: 'l-act', label: T.wfm.actual, bars: true, upto: now },
    ]);
    const reqChart = chart('rq', T.wfm.reqChart, T.wfm.reqDesc(shortIntervals(items)), items, [
      { key: 'required', cls: 'l-fc', label: T.wfm.required, step: true },
      { key: 're_required', cls: 'l-re', label: T.wfm.reRequired, step: true },
      { key: 'scheduled', cls: 'l-sch', label: T.wfm.scheduled, step: true, area: true },
      { key: 'open', cls: 'l-open', label: T.wfm.open, step: true },
    ]);
    const rows = idx.filter((i) => i % 4 === 0).map((i) => {
      const hr = items.slice(i, i + 4);
      return h('tr', {}, h('th', { scope: 'row', text: fmtTime(items[i].start) }),
        ...['forecast', 'reforecast', 'actual'].map((k) => h('td', { class: 'num', text: sum(hr, k).toFixed(1) })),
        ...['required', 're_required', 'scheduled', 'open'].map((k) => h('td', { class: 'num', text: String(Math.max(...hr.map((x) => x[k]))) })));
    });
    const table = h('details', { class: 'wfm-table' }, h('summary', { text: T.wfm.dataTable }),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'wfm-tcap' },
        h('table', { class: 'grid' }, h('caption', { id: 'wfm-tcap', text: T.wfm.tableCaption }),
          h('thead', {}, h('tr', {}, ...[T.wfm.hour, T.wfm.forecast, T.wfm.reforecast, T.wfm.actual, T.wfm.required, T.wfm.reRequired, T.wfm.scheduled, T.wfm.open]
            .map((t, i) => h('th', { scope: 'col', class: i ? 'num' : '', text: t })))),
          h('tbody', {}, ...rows))));
    const gen = h('button', { type: 'button', class: 'primary small', text: T.wfm.generate(nextMonday(P.day)) });
    gen.addEventListener('click', () => generate(gen));
    const schedules = h('section', { class: 'card', 'aria-labelledby': 'wfm-sch' }, h('h2', { id: 'wfm-sch', text: T.wfm.schedules }),
      h('div', { class: 'acts' }, gen),
      P.schedules.length ? h('ul', { class: 'wfm-list' }, ...P.schedules.map((sc) => {
        const pub = sc.status === 'draft' ? h('button', { type: 'button', class: 'small', 'aria-label': T.wfm.publishLabel(queueName(sc.queue_id), sc.week_start), text: T.wfm.publish }) : null;
        if (pub) pub.addEventListener('click', () => publish(sc, pub));
        return h('li', {}, h('span', { text: `${queueName(sc.queue_id)} · ${sc.week_start} · ${T.wfm.status[sc.status] || sc.status}` }),
          h('span', { class: 'meta', text: T.wfm.cost(sc.paid_hours.toFixed(1), sc.lower_bound.toFixed(1), (100 * sc.gap).toFixed(2)) }), pub);
      })) : h('p', { class: 'empty', text: T.wfm.noSchedules(mondayOf(P.day)) }));
    els.body.replaceChildren(controls,
      h('section', { class: 'card', 'aria-labelledby': 'wfm-fc' }, h('h2', { id: 'wfm-fc', text: T.wfm.fcChart }), fcChart),
      h('section', { class: 'card', 'aria-labelledby': 'wfm-rq' }, h('h2', { id: 'wfm-rq', text: T.wfm.reqChart }), reqChart, table),
      grid(), schedules, slotForm(), calendarSection({ T, call, queueID: P.queue, queueName: queueName(P.queue), act }), flexAgents(), adherence());
  }

  // chart draws series of per-interval values over the day.
  function chart(id, title, desc, items, series) {
    // Drawn at about its displayed width, so labels stay readable on a phone.
    const cols = window.innerWidth > 760 ? 2 : 1;
    const W0 = Math.max(300, Math.min(720, Math.round((els.body.clientWidth || 720) / cols) - 34)), H0 = 220, padL = 36, padR = 14, padT = 10, padB = 24;
    const n = items.length;
    const max = Math.max(2, ...series.flatMap((sr) => items.map((x) => x[sr.key])));
    const x = (i) => padL + ((W0 - padL - padR) * i) / n;
    const y = (v) => H0 - padB - ((H0 - padT - padB) * v) / max;
    const parts = [];
    const ticks = [0, Math.round(max / 2), Math.ceil(max)];
    for (const g of ticks) {
      parts.push(s('line', { x1: padL, x2: W0 - padR, y1: y(g), y2: y(g), class: 'gl' }),
        s('text', { x: padL - 4, y: y(g) + 4, 'text-anchor': 'end', class: 'ax', text: String(g) }));
    }
    // Ticks every 6 hours of elapsed time, labelled with the local clock
    // (a daylight-saving day has 92 or 100 intervals).
    for (let i = 0; i <= n; i += 24) {
      const at = i < n ? items[i].start : P.plan.end;
      parts.push(s('text', { x: x(i), y: H0 - 6, 'text-anchor': i === 0 ? 'start' : n - i < 12 ? 'end' : 'middle', class: 'ax', text: fmtTime(at) }));
    }
    for (const sr of series) {
      if (sr.bars) {
        items.forEach((it, i) => {
          if (Date.parse(it.start) >= sr.upto || !it[sr.key]) return;
          parts.push(s('rect', { x: x(i).toFixed(1), y: y(it[sr.key]).toFixed(1), width: Math.max(1, x(1) - x(0) - 0.5).toFixed(1), height: (y(0) - y(it[sr.key])).toFixed(1), class: sr.cls }));
        });
        continue;
      }
      let d = '';
      items.forEach((it, i) => {
        const v = it[sr.key];
        if (sr.step) d += `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}L${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`;
        else d += `${i ? 'L' : 'M'}${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`;
      });
      if (sr.area) parts.push(s('path', { d: `${d}L${x(n).toFixed(1)},${y(0)}L${x(0).toFixed(1)},${y(0)}Z`, class: sr.cls + ' area' }));
      else parts.push(s('path', { d, class: sr.cls + ' line' }));
    }
    const svg = s('svg', { viewBox: `0 0 ${W0} ${H0}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'wfm-chart' },
      s('title', { id: `${id}-t`, text: title }), s('desc', { id: `${id}-d`, text: desc }), ...parts);
    const legend = h('ul', { class: 'legend', 'aria-hidden': 'true' }, ...series.map((sr) => h('li', {}, h('span', { class: 'sw ' + sr.cls }), sr.label)));
    return h('figure', { class: 'chart', id: 'wfm-' + id }, svg, legend, h('figcaption', { class: 'chart-text', text: desc }));
  }

  // grid is the published schedule of the day: agents × time, per site.
  function grid() {
    // The queue's local day: 23, 24 or 25 hours.
    const day0 = Date.parse(P.plan.start), len = Date.parse(P.plan.end) - day0;
    const pct = (t) => Math.max(0, Math.min(100, ((Date.parse(t) - day0) / len) * 100));
    const byAgent = new Map();
    for (const sh of P.shifts) {
      if (!byAgent.has(sh.agent_id)) byAgent.set(sh.agent_id, []);
      byAgent.get(sh.agent_id).push(sh);
    }
    const siteOf = (id) => { const u = P.users.find((x) => x.id === id); return (u && u.site_id) || ''; };
    const groups = [...P.sites.map((si) => [si.id, si.name]), ['', T.wfm.noSite]];
    const hoursRow = h('div', { class: 'g-hours', 'aria-hidden': 'true' }, ...[0, 3, 6, 9, 12, 15, 18, 21].map((hr) => place(h('span', { text: fmtTime(day0 + hr * 3600e3) }), ((hr * 3600e3) / len) * 100)));
    const body = [];
    for (const [sid, sname] of groups) {
      const agents = [...byAgent.keys()].filter((a) => siteOf(a) === sid);
      if (!agents.length) continue;
      body.push(h('tr', { class: 'g-site' }, h('th', { scope: 'colgroup', colspan: '2', text: sname })));
      for (const a of agents) {
        const list = byAgent.get(a);
        const text = list.map((sh) => span(sh.start, sh.end) + (sh.break_start ? ` (${T.wfm.breakAt(span(sh.break_start, sh.break_end))})` : '') + (sh.kind === 'slot' ? ` ${T.wfm.claimedSlot}` : '')).join(', ');
        body.push(h('tr', {}, h('th', { scope: 'row', text: userName(a) }),
          h('td', { class: 'g-track' }, h('span', { class: 'sr', text }),
            ...list.flatMap((sh) => [
              place(h('span', { class: 'g-shift' + (sh.kind === 'slot' ? ' extra' : ''), 'aria-hidden': 'true', title: text }), pct(sh.start), pct(sh.end) - pct(sh.start)),
              sh.break_start ? place(h('span', { class: 'g-break', 'aria-hidden': 'true' }), pct(sh.break_start), pct(sh.break_end) - pct(sh.break_start)) : null]))));
      }
    }
    return h('section', { class: 'card', 'aria-labelledby': 'wfm-grid' }, h('h2', { id: 'wfm-grid', text: T.wfm.grid(fmtDay(day0)) }),
      body.length ? h('div', { class: 'table-wrap g-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'wfm-gcap' },
        h('table', { class: 'wfm-grid' }, h('caption', { id: 'wfm-gcap', class: 'sr', text: T.wfm.grid(fmtDay(day0)) }),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: T.wfm.agent }), h('th', { scope: 'col' }, h('span', { class: 'sr', text: T.wfm.shifts }), hoursRow))),
          h('tbody', {}, ...body))) : h('p', { class: 'empty', text: T.wfm.noGrid }));
  }

  // slotForm publishes an open slot of the selected queue by hand.
  function slotForm() {
    const startIn = h('input', { id: 'wfm-slot-start', type: 'datetime-local', step: '900', required: true });
    const len = h('select', { id: 'wfm-slot-len' }, ...[1, 2, 3, 4, 6, 8].map((n) => h('option', { value: String(n), text: String(n), selected: n === 2 })));
    const btn = h('button', { type: 'submit', class: 'small', text: T.wfm.openSlotBtn });
    const form = h('form', { class: 'wfm-controls', 'aria-labelledby': 'wfm-os' },
      h('label', { for: 'wfm-slot-start', text: T.wfm.slotStart }), startIn,
      h('label', { for: 'wfm-slot-len', text: T.wfm.slotHours }), len, btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      // The wall-clock time is in the queue's time zone.
      const t = startIn.value ? zonedToUTC(startIn.value, P.plan.time_zone) : NaN;
      if (Number.isNaN(t)) { fail(new Error(T.wfm.slotStart)); return; }
      const start = new Date(t).toISOString();
      const end = new Date(t + Number(len.value) * 3600e3).toISOString();
      act(btn, () => call('POST', '/api/v1/wfm/slots', { queue_id: P.queue, start, end }), T.wfm.slotOpened);
    });
    return h('section', { class: 'card', 'aria-labelledby': 'wfm-os' }, h('h2', { id: 'wfm-os', text: T.wfm.openSlotTitle(queueName(P.queue)) }), form);
  }

  // flexAgents marks agents as working flexibly (灵活用工): only they, and
  // agents who opted in, see and claim open slots.
  function flexAgents() {
    const agents = P.users.filter((u) => u.role === 'agent' && !u.disabled);
    const profOf = (id) => P.profiles.find((p) => p.agent_id === id) || { flexible: false, opted_in: false };
    return h('section', { class: 'card', 'aria-labelledby': 'wfm-flexh' }, h('h2', { id: 'wfm-flexh', text: T.wfm.flexAgents }),
      h('p', { class: 'hint', text: T.wfm.flexHint }),
      h('ul', { class: 'wfm-list wfm-flex' }, ...agents.map((u) => {
        const p = profOf(u.id);
        const id = 'wfm-flex-' + u.id;
        const box = h('input', { type: 'checkbox', id, checked: p.flexible, 'data-agent': u.id });
        box.addEventListener('change', () => setFlexible(u, box.checked, box));
        // The agent's own weekly cap (empty or 0: the workspace rule).
        const hid = 'wfm-week-' + u.id;
        const hrs = h('input', { type: 'number', id: hid, min: '0', max: '80', step: '1', inputmode: 'numeric', class: 'wfm-hours',
          value: p.max_week_hours ? String(p.max_week_hours) : '', placeholder: String(p.week_limit || ''), 'data-agent-hours': u.id });
        hrs.addEventListener('change', () => {
          const v = hrs.value === '' ? 0 : Number(hrs.value);
          if (!Number.isFinite(v) || v < 0 || v > 80) { fail(new Error(T.wfm.weekHoursBad)); return; }
          setWeekHours(u, v, hrs);
        });
        return h('li', {}, h('label', { for: id, class: 'check' }, box, ' ', T.wfm.flexLabel(u.name)),
          h('label', { for: hid, class: 'meta', text: T.wfm.weekHours(u.name) }), hrs,
          p.opted_in ? h('span', { class: 'meta', text: T.wfm.optedInTag }) : null);
      })));
  }

  function adherence() {
    const rows = P.adherence.map((a) => h('tr', {}, h('th', { scope: 'row', text: userName(a.agent_id) }),
      h('td', { class: 'num', text: a.scheduled_minutes ? a.percent.toFixed(0) + '%' : '—' }),
      h('td', { text: a.out.length ? a.out.map((o) => `${span(o.start, o.end)} ${T.wfm.outKind[o.kind] || o.kind}`).join('; ') : T.wfm.none })));
    return h('section', { class: 'card', 'aria-labelledby': 'wfm-adh' }, h('h2', { id: 'wfm-adh', text: T.wfm.adherence }),
      rows.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'wfm-acap' },
        h('table', { class: 'grid' }, h('caption', { id: 'wfm-acap', class: 'sr', text: T.wfm.adherence }),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: T.wfm.agent }), h('th', { scope: 'col', class: 'num', text: T.wfm.inAdherence }), h('th', { scope: 'col', text: T.wfm.outPeriods }))),
          h('tbody', {}, ...rows))) : h('p', { class: 'empty', text: T.wfm.noAdherence }));
  }

  function shortIntervals(items) {
    let n = 0;
    for (const it of items) if (it.scheduled + it.open < Math.max(it.required, it.re_required)) n++;
    return n;
  }

  render();
  reload();
  const timer = setInterval(reload, 60e3);
  // Charts are drawn at their displayed width: redraw after a resize.
  let resizeTimer = 0;
  const onResize = () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 200); };
  if (planner) window.addEventListener('resize', onResize);
  return { render, stop: () => { clearInterval(timer); window.removeEventListener('resize', onResize); } };
}

/** place positions an absolutely placed element in percent (through the
 * CSSOM: the content security policy refuses inline style attributes). */
function place(el, left, width) {
  el.style.left = left + '%';
  if (width != null) el.style.width = width + '%';
  return el;
}

function sum(items, k) { return items.reduce((a, x) => a + x[k], 0); }

/** zoneOffset is the offset (ms) of the time zone tz from UTC at instant t. */
function zoneOffset(t, tz) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
}

/** zonedToUTC turns a wall-clock time "YYYY-MM-DDTHH:MM" in tz into an
 * instant (ms): a repeated time is its first occurrence, a time skipped
 * by a daylight-saving change moves forward by the change. */
export function zonedToUTC(wall, tz) {
  const w = Date.parse(wall + ':00Z');
  if (Number.isNaN(w) || !tz) return Date.parse(wall);
  const t1 = w - zoneOffset(w, tz);
  const t2 = w - zoneOffset(t1, tz);
  const shows = (t) => t + zoneOffset(t, tz) === w;
  // The earlier when it shows the wall time; else the later, which does
  // or, in a skipped hour, is the time after the change.
  return shows(Math.min(t1, t2)) ? Math.min(t1, t2) : Math.max(t1, t2);
}

/** isoDay is the UTC date (YYYY-MM-DD) of t. */
function isoDay(t) { return new Date(t).toISOString().slice(0, 10); }

/** mondayOf is the Monday (YYYY-MM-DD) of the week containing the day. */
function mondayOf(day) {
  const d = new Date(day + 'T00:00:00Z');
  return isoDay(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY);
}

/** nextMonday is the Monday after the day's week. */
function nextMonday(day) { return isoDay(Date.parse(mondayOf(day) + 'T00:00:00Z') + 7 * DAY); }
