// Quality review and dashboards, for supervisors and admins.
//
// Review: filter the scored conversations (agent, team, site, dates, score
// below, auto-failed, reviewed), open one to read its transcript with the
// findings linked to the messages they are about, and override item
// results with a comment: the final score uses the overrides and every
// change is listed with who and when. The agreement between automatic and
// human results (Cohen's kappa per item) is shown beside the list.
//
// Dashboards: per day over a chosen range, for the whole workspace or per
// agent, team or site: average score, auto-fail rate, first-response time
// and CSAT as SVG line charts (title, description and a data table for
// each), and totals with finding counts by type.
import { call } from './api.js';
import { h, s, say } from './dom.js';

const SECTIONS = ['review', 'dashboard', 'rules'];
const PALETTE = ['#0b57d0', '#b3261e', '#146c2e', '#7c4dff', '#8a5000', '#00696f'];
const METRICS = [
  ['avg_score', 'avgScore', (v) => v.toFixed(0)],
  ['auto_fail_rate', 'failRate', (v) => Math.round(v * 100) + '%'],
  ['avg_first_response_seconds', 'frt', (v) => v.toFixed(0) + 's'],
  ['avg_csat', 'csat', (v) => v.toFixed(1)],
];

// dateStr is a local date as YYYY-MM-DD.
function dateStr(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
function daysAgo(n) { const d = new Date(); d.setDate(d.getDate() - n); return dateStr(d); }
const zone = () => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; } };

/** start renders the quality page into ctx.root. */
export function start(ctx) {
  const Q = {
    users: [], teams: [], sites: [],
    filter: { agent: '', team: '', site: '', from: daysAgo(13), to: daysAgo(0), score_below: '', auto_failed: '', reviewed: '' },
    list: null, detail: null, agreement: null,
    dash: null, dashQ: { group_by: 'all', from: daysAgo(13), to: daysAgo(0) },
    rules: null, // the workspace's QA configuration {version, config}
  };
  let T = ctx.T();
  let els = {};
  let section = SECTIONS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'review';
  if (!document.querySelector('link[href="/app/quality.css"]')) {
    document.head.append(h('link', { rel: 'stylesheet', href: '/app/quality.css' }));
  }

  const rule = (r) => (T.qa.rules[r] || r);
  const nameOf = (list, id) => { if (!id) return T.qa.none; const x = list.find((y) => y.id === id); return x ? (x.name || x.email) : id; };
  const groupName = (key) => Q.dash && Q.dash.group_by === 'agent' ? nameOf(Q.users, key)
    : Q.dash && Q.dash.group_by === 'team' ? nameOf(Q.teams, key)
      : Q.dash && Q.dash.group_by === 'site' ? nameOf(Q.sites, key) : T.qa.all;
  const fmtTime = (v) => { const d = new Date(v); return isNaN(d) ? '' : d.toLocaleString(document.documentElement.lang); };
  const result = (it) => !it.applicable ? T.qa.na : it.passed ? T.qa.pass : T.qa.fail;

  function announce(text) { say(els.announce, text); }

  // ---- data ----
  async function loadDirectory() {
    const [u, t, si] = await Promise.all([call('GET', '/api/v1/users'), call('GET', '/api/v1/teams'), call('GET', '/api/v1/sites')]);
    Q.users = u.items; Q.teams = t.items; Q.sites = si.items;
  }
  function query(obj) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(obj)) if (v !== '' && v != null) p.set(k, v);
    p.set('tz', zone());
    return p.toString();
  }
  async function loadList() {
    const [l, a] = await Promise.all([
      call('GET', '/api/v1/quality/scorecards?' + query(Q.filter)),
      call('GET', '/api/v1/quality/agreement?' + query({ from: Q.filter.from, to: Q.filter.to }))]);
    Q.list = l.items; Q.agreement = a;
  }
  // openCard opens the scorecard of one resolution of a conversation (a
  // reopened conversation has one per resolution).
  async function openCard(id, seq) {
    Q.detail = await call('GET', '/api/v1/quality/scorecards/' + encodeURIComponent(id) + (seq ? '?resolved_seq=' + seq : ''));
    drawDetail();
    const h2 = document.getElementById('qa-detail-h');
    if (h2) { h2.focus(); h2.scrollIntoView({ block: 'start' }); }
  }
  async function loadDash() {
    Q.dash = await call('GET', '/api/v1/quality/dashboard?' + query(Q.dashQ));
  }

  // ---- page ----
  function render() {
    T = ctx.T();
    document.title = T.qa.title + ' · Starpost';
    els = {};
    els.announce = h('p', { class: 'sr', 'aria-live': 'polite', id: 'announce' });
    els.body = h('div', { class: 'qa-body' });
    const tabs = h('nav', { class: 'qa-tabs', 'aria-label': T.qa.sections },
      ...SECTIONS.map((x) => h('a', { href: '#' + x, 'data-section': x, 'aria-current': x === section ? 'page' : false, text: T.qa[x] })));
    ctx.root.className = 'page';
    ctx.root.replaceChildren(ctx.topBar('quality'), els.announce,
      h('div', { class: 'page-body' }, h('main', { class: 'qa', id: 'quality' }, h('h1', { text: T.qa.title }), tabs, els.body)));
    draw();
  }

  function draw() {
    if (section === 'review') drawReview(); else if (section === 'rules') drawRules(); else drawDashboard();
  }

  window.addEventListener('hashchange', () => {
    const x = location.hash.slice(1);
    if (!SECTIONS.includes(x) || x === section) return;
    section = x;
    for (const a of document.querySelectorAll('.qa-tabs a')) a.setAttribute('aria-current', a.dataset.section === x ? 'page' : 'false');
    draw();
    refresh();
  });

  // field is a labelled control.
  function field(id, label, control) {
    control.id = id;
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), control);
  }
  function select(options, value) {
    return h('select', {}, ...options.map(([v, t]) => h('option', { value: v, text: t, selected: v === value })));
  }

  // ---- review ----
  function drawReview() {
    const f = Q.filter;
    const agent = select([['', T.qa.any], ...Q.users.filter((u) => u.role === 'agent').map((u) => [u.id, u.name || u.email])], f.agent);
    const team = select([['', T.qa.any], ...Q.teams.map((x) => [x.id, x.name])], f.team);
    const site = select([['', T.qa.any], ...Q.sites.map((x) => [x.id, x.name])], f.site);
    const from = h('input', { type: 'date', value: f.from });
    const to = h('input', { type: 'date', value: f.to });
    const below = h('input', { type: 'number', min: '0', max: '101', value: f.score_below, inputmode: 'numeric' });
    const tri = (v) => select([['', T.qa.any], ['true', T.qa.yes], ['false', T.qa.no]], v);
    const failed = tri(f.auto_failed), reviewed = tri(f.reviewed);
    const err = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'card qa-filters', 'aria-labelledby': 'qa-f-h', onsubmit: async (e) => {
      e.preventDefault();
      Object.assign(Q.filter, { agent: agent.value, team: team.value, site: site.value, from: from.value, to: to.value,
        score_below: below.value, auto_failed: failed.value, reviewed: reviewed.value });
      err.textContent = '';
      try { await loadList(); drawList(); announce(`${T.qa.scored}: ${Q.list.length}`); } catch (x) { err.textContent = x.message; }
    } }, h('h2', { id: 'qa-f-h', text: T.qa.filters }),
    h('div', { class: 'qa-fields' },
      field('qa-agent', T.qa.agent, agent), field('qa-team', T.qa.team, team), field('qa-site', T.qa.site, site),
      field('qa-from', T.qa.from, from), field('qa-to', T.qa.to, to), field('qa-below', T.qa.scoreBelow, below),
      field('qa-failed', T.qa.autoFailed, failed), field('qa-reviewed', T.qa.reviewed, reviewed)),
    err, h('button', { type: 'submit', class: 'primary', text: T.qa.apply }));
    els.list = h('div', { class: 'qa-list' });
    els.agree = h('section', { class: 'card', 'aria-labelledby': 'qa-ag-h' });
    els.detail = h('section', { class: 'card qa-detail', id: 'qa-detail', 'aria-labelledby': 'qa-detail-h', hidden: true });
    els.body.replaceChildren(h('div', { class: 'qa-review' }, h('div', { class: 'stack' }, form, els.list, els.agree), els.detail));
    drawList();
    drawDetail();
  }

  function drawList() {
    if (!els.list) return;
    drawAgreement();
    if (!Q.list) { els.list.replaceChildren(h('p', { class: 'empty', text: T.qa.loading })); return; }
    if (!Q.list.length) { els.list.replaceChildren(h('section', { class: 'card', 'aria-label': T.qa.scored }, h('p', { class: 'empty', text: T.qa.noneScored }))); return; }
    const open = Q.detail && Q.detail.scorecard;
    const rows = Q.list.map((c) => h('tr', { 'data-conv': c.conversation_id,
      class: open && c.conversation_id === open.conversation_id && c.resolved_seq === open.resolved_seq ? 'sel' : false },
      h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linkish', 'data-open': c.conversation_id,
        'aria-label': T.qa.openLabel(c.conversation_id.slice(0, 11)), onclick: () => openCard(c.conversation_id, c.resolved_seq).catch((x) => announce(x.message)),
        text: c.conversation_id.slice(0, 11) })),
      h('td', { text: nameOf(Q.users, c.agent_id) }),
      h('td', { class: 'hide-sm', text: fmtTime(c.resolved_at) }),
      h('td', { class: 'num score' + (c.failed ? ' bad' : ''), text: String(c.score) + (c.failed ? ' ✗' : '') }),
      h('td', { class: 'num hide-sm', text: String(c.auto_score) }),
      h('td', { text: c.review_version > 0 ? T.qa.yes : T.qa.no })));
    els.list.replaceChildren(h('div', { class: 'card table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qa-list-c' },
      h('table', { class: 'grid', id: 'qa-list' }, h('caption', { id: 'qa-list-c', text: `${T.qa.scored} (${Q.list.length})` }),
        h('thead', {}, h('tr', {}, ...[T.qa.conversation, T.qa.agent, T.qa.resolvedAt, T.qa.score, T.qa.autoScore, T.qa.reviewed]
          .map((x, i) => h('th', { scope: 'col', class: i === 2 || i === 4 ? 'hide-sm' : false, text: x })))),
        h('tbody', {}, ...rows))));
  }

  function kappaText(k) { return k == null ? T.qa.undefinedK : k.toFixed(2); }
  function drawAgreement() {
    const a = Q.agreement;
    const head = h('h2', { id: 'qa-ag-h', text: T.qa.agreement });
    if (!a || !a.reviewed) { els.agree.replaceChildren(head, h('p', { class: 'empty', text: T.qa.agreementNone })); return; }
    els.agree.replaceChildren(head, h('p', { class: 'meta', text: T.qa.agreementOver(a.reviewed) }),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qa-ag-h' },
        h('table', { class: 'grid', id: 'qa-agreement' },
          h('thead', {}, h('tr', {}, ...[T.qa.rule, T.qa.n, T.qa.observed, T.qa.kappa, T.qa.changed].map((x) => h('th', { scope: 'col', text: x })))),
          h('tbody', {}, ...a.items.map((it) => h('tr', { 'data-rule': it.rule },
            h('th', { scope: 'row', text: rule(it.rule) }), h('td', { class: 'num', text: String(it.n) }),
            h('td', { class: 'num', text: Math.round(it.observed * 100) + '%' }), h('td', { class: 'num kappa', text: kappaText(it.kappa) }),
            h('td', { class: 'num', text: String(it.changed) })))))));
  }

  function drawDetail() {
    if (!els.detail) return;
    const d = Q.detail;
    if (!d) { els.detail.hidden = true; return; }
    const c = d.scorecard;
    els.detail.hidden = false;
    const byMsg = new Map();
    for (const f of d.findings) { if (!byMsg.has(f.message_seq)) byMsg.set(f.message_seq, []); byMsg.get(f.message_seq).push(f); }
    const findingText = (f) => `${rule(f.rule)} — ${f.pass ? T.qa.pass : T.qa.fail}: ${f.detail}`;
    const msgLink = (seq) => h('a', { href: '#m-' + seq, onclick: (e) => {
      e.preventDefault();
      const m = document.getElementById('m-' + seq);
      if (m) { m.focus(); m.scrollIntoView({ block: 'center' }); }
    }, text: T.qa.atMessage(seq) });

    // Item overrides.
    const ovs = new Map((c.overrides || []).map((o) => [o.rule, o]));
    const controls = [];
    const rows = c.auto_items.map((it) => {
      const o = ovs.get(it.rule);
      const sel = select([['', T.qa.keep], ['pass', T.qa.pass], ['fail', T.qa.fail]], o ? (o.passed ? 'pass' : 'fail') : '');
      sel.id = 'qa-item-' + it.rule;
      sel.setAttribute('aria-label', T.qa.resultFor(rule(it.rule)));
      const note = h('input', { type: 'text', id: 'qa-note-' + it.rule, maxlength: '2000', value: o ? o.comment : '', 'aria-label': T.qa.commentFor(rule(it.rule)),
        placeholder: T.qa.comment });
      controls.push([it, sel, note]);
      return h('tr', { 'data-rule': it.rule },
        h('th', { scope: 'row', text: rule(it.rule) + (it.auto_fail ? ' *' : '') }),
        h('td', { class: 'num hide-sm', text: String(it.weight) }),
        h('td', { class: 'auto ' + (it.applicable ? (it.passed ? 'ok' : 'bad') : ''), text: result(it) }),
        h('td', { class: 'qa-human' }, sel, note));
    });
    const err = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'qa-items', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      const items = controls.filter(([, sel]) => sel.value).map(([it, sel, note]) => ({ rule: it.rule, passed: sel.value === 'pass', comment: note.value.trim() }));
      if (!items.length) { err.textContent = T.qa.nothingChosen; return; }
      try {
        Q.detail = await call('PUT', '/api/v1/quality/scorecards/' + encodeURIComponent(c.conversation_id) + '/review',
          { resolved_seq: c.resolved_seq, version: c.review_version, items });
        const sc = Q.detail.scorecard;
        const row = Q.list && Q.list.find((x) => x.conversation_id === sc.conversation_id && x.resolved_seq === sc.resolved_seq);
        if (row) Object.assign(row, sc);
        drawList();
        drawDetail();
        announce(T.qa.saved(sc.score));
        const st = document.getElementById('qa-score');
        if (st) st.focus();
        call('GET', '/api/v1/quality/agreement?' + query({ from: Q.filter.from, to: Q.filter.to })).then((a) => { Q.agreement = a; drawAgreement(); }).catch(() => {});
      } catch (x) { err.textContent = x.message; }
    } },
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qa-items-c' },
      h('table', { class: 'grid' }, h('caption', { id: 'qa-items-c', text: T.qa.items }),
        h('thead', {}, h('tr', {}, ...[T.qa.rule, T.qa.weight, T.qa.auto, T.qa.human]
          .map((x, i) => h('th', { scope: 'col', class: i === 1 ? 'hide-sm' : false, text: x })))),
        h('tbody', {}, ...rows))),
    h('p', { class: 'note', text: T.qa.autoFailNote }),
    err, h('button', { type: 'submit', class: 'primary', id: 'qa-save', text: T.qa.save }));

    const findings = d.findings.length
      ? h('ul', { class: 'qa-findings' }, ...d.findings.map((f) => h('li', { class: f.pass ? 'ok' : 'bad', 'data-rule': f.rule, 'data-seq': String(f.message_seq) },
        h('span', { text: findingText(f) + ' · ' }), msgLink(f.message_seq))))
      : h('p', { class: 'empty', text: T.qa.noFindings });
    const transcript = h('ol', { class: 'qa-transcript' }, ...d.transcript.map((m) => {
      const fs = byMsg.get(m.seq) || [];
      const who = m.role === 'customer' || m.role === 'simulated_customer' ? 'customer' : m.role === 'agent' ? 'agent' : m.role === 'bot' ? 'bot' : 'system';
      return h('li', { id: 'm-' + m.seq, tabindex: '-1', class: 'qa-msg ' + who + (fs.some((f) => !f.pass) ? ' flagged' : '') },
        h('span', { class: 'who', text: `#${m.seq} · ${T.qa.roles[who] || who} · ${fmtTime(m.at)}` }),
        h('span', { class: 'text', text: m.text }),
        fs.length ? h('ul', { class: 'qa-badges' }, ...fs.map((f) => h('li', { class: f.pass ? 'ok' : 'bad', text: findingText(f) }))) : null);
    }));
    const waits = d.waits && d.waits.length
      ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qa-waits-h' }, h('table', { class: 'grid', id: 'qa-waits' },
        h('thead', {}, h('tr', {}, ...[T.qa.waitFrom, T.qa.waited, T.qa.reply].map((x) => h('th', { scope: 'col', text: x })))),
        h('tbody', {}, ...d.waits.map((x) => h('tr', { class: x.breach ? 'breach' : false },
          h('th', { scope: 'row' }, msgLink(x.message_seq)),
          h('td', { class: 'num' + (x.breach ? ' bad' : ''), text: `${Math.round(x.seconds)}s` + (x.breach ? ' · ' + T.qa.breach : '') }),
          h('td', {}, x.reply_seq ? msgLink(x.reply_seq) : h('span', { class: 'bad', text: T.qa.noReply })))))))
      : h('p', { class: 'empty', text: T.qa.noWaits });
    const history = d.changes.length
      ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qa-hist-h' }, h('table', { class: 'grid', id: 'qa-history' },
        h('thead', {}, h('tr', {}, ...[T.qa.at, T.qa.by, T.qa.rule, T.qa.change, T.qa.comment].map((x) => h('th', { scope: 'col', text: x })))),
        h('tbody', {}, ...d.changes.map((x) => h('tr', {},
          h('td', { text: fmtTime(x.at) }), h('td', { text: nameOf(Q.users, x.by) }), h('th', { scope: 'row', text: rule(x.rule) }),
          h('td', { text: `${x.old_passed == null ? T.qa.na : x.old_passed ? T.qa.pass : T.qa.fail} → ${x.new_passed ? T.qa.pass : T.qa.fail}` }),
          h('td', { text: x.comment || '' }))))))
      : h('p', { class: 'empty', text: T.qa.noHistory });

    els.detail.replaceChildren(
      h('div', { class: 'qa-dhead' },
        h('h2', { id: 'qa-detail-h', tabindex: '-1', text: `${T.qa.conversation} ${c.conversation_id.slice(0, 11)}` }),
        h('button', { type: 'button', class: 'ghost', 'aria-label': T.qa.close, onclick: () => {
          const id = c.conversation_id;
          Q.detail = null; drawDetail(); drawList();
          const b = document.querySelector(`button[data-open="${id}"]`); if (b) b.focus();
        }, text: '✕' })),
      h('p', { class: 'qa-score' + (c.failed ? ' bad' : ''), id: 'qa-score', tabindex: '-1',
        text: T.qa.scoreLine(c.score, c.auto_score) + (c.failed ? ' · ' + T.qa.failed : '') }),
      h('p', { class: 'meta', text: `${T.qa.agent}: ${nameOf(Q.users, c.agent_id)} · ${T.qa.resolvedAt}: ${fmtTime(c.resolved_at)}` }),
      form,
      h('h3', { text: T.qa.findings }), findings,
      h('h3', { id: 'qa-waits-h', text: T.qa.waits }), waits,
      h('h3', { text: T.qa.transcript }), transcript,
      h('h3', { id: 'qa-hist-h', text: T.qa.history }), history);
  }

  // ---- dashboards ----
  function drawDashboard() {
    const q = Q.dashQ;
    const group = select([['all', T.qa.all], ['agent', T.qa.byAgent], ['team', T.qa.byTeam], ['site', T.qa.bySite]], q.group_by);
    const from = h('input', { type: 'date', value: q.from, required: true });
    const to = h('input', { type: 'date', value: q.to, required: true });
    const err = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'card qa-filters', 'aria-labelledby': 'qa-d-h', onsubmit: async (e) => {
      e.preventDefault();
      Object.assign(Q.dashQ, { group_by: group.value, from: from.value, to: to.value });
      err.textContent = '';
      try { await loadDash(); drawCharts(); announce(T.qa.dashboard); } catch (x) { err.textContent = x.message; }
    } }, h('h2', { id: 'qa-d-h', text: T.qa.dashboard }),
    h('div', { class: 'qa-fields' }, field('qd-group', T.qa.groupBy, group), field('qd-from', T.qa.from, from), field('qd-to', T.qa.to, to)),
    err, h('button', { type: 'submit', class: 'primary', text: T.qa.apply }));
    els.charts = h('div', { class: 'qa-charts', id: 'qa-charts' });
    els.body.replaceChildren(h('div', { class: 'stack' }, form, els.charts));
    drawCharts();
  }

  // topSeries keeps the series with the most conversations (a chart stays
  // readable); the tables list them all.
  function topSeries() {
    return [...Q.dash.series].sort((a, b) => b.total.conversations - a.total.conversations).slice(0, PALETTE.length);
  }

  function drawCharts() {
    if (!els.charts) return;
    const d = Q.dash;
    if (!d) { els.charts.replaceChildren(h('p', { class: 'empty', text: T.qa.loading })); return; }
    if (!d.series.length) { els.charts.replaceChildren(h('section', { class: 'card', 'aria-label': T.qa.dashboard }, h('p', { class: 'empty', text: T.qa.noData }))); return; }
    const top = topSeries();
    const figs = METRICS.map(([key, label, fmt], i) => chart('qc-' + i, key, T.qa[label], fmt, top));
    els.charts.replaceChildren(totals(), ...figs, findingTable());
  }

  function chartWidth() {
    const w = els.charts ? els.charts.clientWidth : 0;
    if (!w) return 640;
    const col = window.matchMedia('(max-width: 1000px)').matches ? w : (w - 14) / 2;
    return Math.max(280, Math.round(col - 34));
  }
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (section === 'dashboard' && Q.dash) drawCharts(); }, 200);
  });

  function chart(id, key, title, fmt, series) {
    const days = Q.dash.days;
    // Drawn at the width it is shown at, so its text stays readable on a
    // phone (redrawn when the window is resized).
    const W0 = chartWidth(), H0 = 220, L = 44, R = 12, TOP = 12, B = 28;
    let max = 0;
    for (const sr of series) for (const x of sr.days) if (x[key] != null) max = Math.max(max, x[key]);
    if (key === 'avg_score' || key === 'auto_fail_rate') max = key === 'avg_score' ? 100 : 1; else if (key === 'avg_csat') max = 5;
    max = max || 1;
    const xAt = (i) => L + (days.length === 1 ? (W0 - L - R) / 2 : i * (W0 - L - R) / (days.length - 1));
    const yAt = (v) => TOP + (H0 - TOP - B) * (1 - v / max);
    const grid = [0, 0.5, 1].map((f) => s('g', {},
      s('line', { class: 'gl', x1: L, x2: W0 - R, y1: yAt(max * f), y2: yAt(max * f) }),
      s('text', { class: 'ax', x: L - 6, y: yAt(max * f) + 4, 'text-anchor': 'end', text: fmt(max * f) })));
    const ticks = [0, Math.floor((days.length - 1) / 2), days.length - 1].filter((v, i, a) => a.indexOf(v) === i)
      .map((i, j, a) => s('text', { class: 'ax', x: xAt(i), y: H0 - 8, text: days[i].slice(5),
        'text-anchor': a.length > 1 && j === 0 ? 'start' : a.length > 1 && j === a.length - 1 ? 'end' : 'middle' }));
    const lines = series.map((sr, si) => {
      const pts = sr.days.map((x, i) => x[key] == null ? null : [xAt(i), yAt(x[key])]);
      // The line joins the days that have data; a dot marks each of them
      // (the data table shows the days without any as —).
      const dpath = pts.filter(Boolean).map((p, i) => `${i ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join('');
      return s('g', { class: 'series' },
        s('path', { class: 'ln', d: dpath, stroke: PALETTE[si] }),
        ...pts.filter(Boolean).map((p) => s('circle', { cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 3, fill: PALETTE[si] })));
    });
    const parts = series.map((sr) => {
      const vals = sr.days.filter((x) => x[key] != null);
      if (!vals.length) return null;
      const last = vals[vals.length - 1];
      return `${groupName(sr.key)}: ${fmt(vals[0][key])} (${vals[0].date}) → ${fmt(last[key])} (${last.date})`;
    }).filter(Boolean);
    const desc = parts.length ? T.qa.chartDesc(title, parts.join('; ') + '.') : T.qa.chartNone(title);
    const svg = s('svg', { viewBox: `0 0 ${W0} ${H0}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'qa-chart', 'data-metric': key },
      s('title', { id: id + '-t', text: title }), s('desc', { id: id + '-d', text: desc }), ...grid, ...ticks, ...lines);
    const legend = h('ul', { class: 'qa-legend', 'aria-hidden': 'true' }, ...series.map((sr, si) =>
      h('li', {}, swatch(PALETTE[si]), h('span', { text: groupName(sr.key) }))));
    const table = h('details', { class: 'qa-data' }, h('summary', { text: T.qa.dataTable(title) }),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': T.qa.dataTable(title) },
        h('table', { class: 'grid' }, h('caption', { class: 'sr', text: T.qa.dataTable(title) }),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: T.qa.day }), ...Q.dash.series.map((sr) => h('th', { scope: 'col', text: groupName(sr.key) })))),
          h('tbody', {}, ...days.map((day, i) => h('tr', {}, h('th', { scope: 'row', text: day }),
            ...Q.dash.series.map((sr) => h('td', { class: 'num', text: sr.days[i][key] == null ? '—' : fmt(sr.days[i][key]) }))))))));
    return h('figure', { class: 'card qa-fig', 'aria-labelledby': id + '-cap' },
      h('figcaption', { id: id + '-cap', class: 'qa-figcap', text: title }), svg, legend,
      h('p', { class: 'chart-text', text: desc }), table);
  }

  // swatch is a legend colour (set through the CSSOM: the CSP forbids
  // style attributes).
  function swatch(color) {
    const sw = h('span', { class: 'sw' });
    sw.style.background = color;
    return sw;
  }

  function totals() {
    const d = Q.dash;
    const f1 = (v, fn) => v == null ? '—' : fn(v);
    return h('div', { class: 'card table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qa-tot-c' },
      h('table', { class: 'grid', id: 'qa-totals' }, h('caption', { id: 'qa-tot-c', text: `${T.qa.totals} (${d.from} – ${d.to})` }),
        h('thead', {}, h('tr', {}, ...[({ agent: T.qa.agent, team: T.qa.team, site: T.qa.site })[d.group_by] || T.qa.groupBy, T.qa.conversations, T.qa.avgScore, T.qa.failRate, T.qa.frt, T.qa.csat, T.qa.ratings]
          .map((x) => h('th', { scope: 'col', text: x })))),
        h('tbody', {}, ...d.series.map((sr) => h('tr', { 'data-key': sr.key },
          h('th', { scope: 'row', text: groupName(sr.key) }), h('td', { class: 'num', text: String(sr.total.conversations) }),
          h('td', { class: 'num', text: f1(sr.total.avg_score, (v) => v.toFixed(1)) }),
          h('td', { class: 'num', text: f1(sr.total.auto_fail_rate, (v) => Math.round(v * 100) + '%') }),
          h('td', { class: 'num', text: f1(sr.total.avg_first_response_seconds, (v) => v.toFixed(0)) }),
          h('td', { class: 'num', text: f1(sr.total.avg_csat, (v) => v.toFixed(2)) }),
          h('td', { class: 'num', text: String(sr.total.ratings) }))))));
  }

  function findingTable() {
    const d = Q.dash;
    const rules = Object.keys(T.qa.rules).filter((r) => d.series.some((sr) => sr.total.findings[r]));
    if (!rules.length) return null;
    return h('div', { class: 'card table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qa-fd-c' },
      h('table', { class: 'grid', id: 'qa-finding-types' }, h('caption', { id: 'qa-fd-c', text: T.qa.findingTypes }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: T.qa.rule }), ...d.series.map((sr) => h('th', { scope: 'col', text: groupName(sr.key) })))),
        h('tbody', {}, ...rules.map((r) => h('tr', {}, h('th', { scope: 'row', text: rule(r) }),
          ...d.series.map((sr) => h('td', { class: 'num', text: String(sr.total.findings[r] || 0) })))))));
  }

  // ---- rules (the workspace's QA configuration; admins edit) ----
  async function loadRules() { Q.rules = await call('GET', '/api/v1/quality/config'); }

  // Lines of the text areas: "name: phrase | phrase" for disclosures,
  // "name: phrase" or "name: /pattern/" for forbidden phrases.
  const discLines = (ds) => ds.map((d) => `${d.name}: ${d.phrases.join(' | ')}`).join('\n');
  const forbLines = (fs) => fs.map((f) => `${f.name}: ${f.regex ? '/' + f.regex + '/' : f.phrase}`).join('\n');
  function parseLines(text, field) {
    const out = [];
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (!line) continue;
      const at = line.indexOf(':');
      if (at <= 0 || !line.slice(at + 1).trim()) throw new Error(T.qa.lineError(field, i + 1));
      out.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
    return out;
  }

  function drawRules() {
    if (!Q.rules) { els.body.replaceChildren(h('p', { class: 'empty', text: T.qa.loading })); return; }
    const admin = ctx.me.role === 'admin';
    const c = Q.rules.config;
    const num = (v, min, max) => h('input', { type: 'number', min, max, step: 'any', value: String(v), required: true, disabled: !admin });
    const frt = num(c.first_response_seconds, '1', '604800'), slow = num(c.slow_reply_seconds, '1', '604800');
    const ign = num(c.ignored_after_seconds, '1', '604800'), van = num(c.vanished_after_seconds, '1', '604800');
    const disc = h('textarea', { rows: '4', disabled: !admin, 'aria-describedby': 'qr-disc-hint' });
    disc.value = discLines(c.disclosures || []);
    const forb = h('textarea', { rows: '8', disabled: !admin, 'aria-describedby': 'qr-forb-hint' });
    forb.value = forbLines(c.forbidden || []);
    const items = c.scorecard.map((it) => [it,
      h('input', { type: 'number', min: '0', max: '1000', step: 'any', value: String(it.weight), id: 'qr-w-' + it.rule, disabled: !admin, 'aria-label': T.qa.weightOf(rule(it.rule)) }),
      h('input', { type: 'checkbox', checked: !!it.auto_fail, id: 'qr-af-' + it.rule, disabled: !admin, 'aria-label': T.qa.autoFailOf(rule(it.rule)) })]);
    const err = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'card qa-rules', id: 'qa-rules', 'aria-labelledby': 'qr-h', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        const config = { ...c,
          first_response_seconds: Number(frt.value), slow_reply_seconds: Number(slow.value),
          ignored_after_seconds: Number(ign.value), vanished_after_seconds: Number(van.value),
          disclosures: parseLines(disc.value, T.qa.disclosures).map(([name, rest]) => ({ name, phrases: rest.split('|').map((x) => x.trim()).filter(Boolean) })),
          forbidden: parseLines(forb.value, T.qa.forbidden).map(([name, rest]) => rest.length > 2 && rest.startsWith('/') && rest.endsWith('/')
            ? { name, regex: rest.slice(1, -1) } : { name, phrase: rest }),
          scorecard: items.map(([it, w, af]) => ({ rule: it.rule, weight: Number(w.value), auto_fail: af.checked })),
        };
        Q.rules = await call('PUT', '/api/v1/quality/config', { version: Q.rules.version, config });
        drawRules();
        announce(T.qa.rulesSaved(Q.rules.version));
        const v = document.getElementById('qr-version');
        if (v) v.focus();
      } catch (x) { err.textContent = x.message; }
    } },
    h('h2', { id: 'qr-h', text: T.qa.rulesTitle }),
    h('p', { class: 'meta', id: 'qr-version', tabindex: '-1', text: Q.rules.version ? T.qa.rulesVersion(Q.rules.version, nameOf(Q.users, Q.rules.updated_by), fmtTime(Q.rules.updated_at)) : T.qa.rulesDefault }),
    admin ? null : h('p', { class: 'note', text: T.qa.rulesReadOnly }),
    h('div', { class: 'qa-fields' }, field('qr-frt', T.qa.frtSla, frt), field('qr-slow', T.qa.slowLimit, slow), field('qr-ign', T.qa.ignoredAfter, ign), field('qr-van', T.qa.vanishedAfter, van)),
    h('div', { class: 'field' }, h('label', { for: 'qr-disc', text: T.qa.disclosures }), Object.assign(disc, { id: 'qr-disc' }), h('small', { id: 'qr-disc-hint', text: T.qa.disclosuresHint })),
    h('div', { class: 'field' }, h('label', { for: 'qr-forb', text: T.qa.forbidden }), Object.assign(forb, { id: 'qr-forb' }), h('small', { id: 'qr-forb-hint', text: T.qa.forbiddenHint })),
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'qr-card-c' },
      h('table', { class: 'grid' }, h('caption', { id: 'qr-card-c', text: T.qa.items }),
        h('thead', {}, h('tr', {}, ...[T.qa.rule, T.qa.weight, T.qa.autoFailed].map((x) => h('th', { scope: 'col', text: x })))),
        h('tbody', {}, ...items.map(([it, w, af]) => h('tr', {}, h('th', { scope: 'row', text: rule(it.rule) }), h('td', {}, w), h('td', {}, af)))))),
    err, admin ? h('button', { type: 'submit', class: 'primary', id: 'qr-save', text: T.qa.saveRules }) : null);
    els.body.replaceChildren(form);
  }

  async function refresh() {
    try {
      if (section === 'review') { await loadList(); drawList(); } else if (section === 'rules') { await loadRules(); drawRules(); } else { await loadDash(); drawCharts(); }
    } catch (x) { announce(x.message); }
  }

  render();
  loadDirectory().then(() => { draw(); return refresh(); }).catch((x) => announce(x.message));
  return { render: () => { render(); refresh(); }, stop: () => {} };
}
