// The admin screens: agents, skills, sites, teams, queues, API tokens and
// the chat widget's copy-paste snippet with a preview, and the workspace's
// canned replies. Each section is a create form beside the list it adds to.
import { call } from './api.js';
import { h, s, chatCapacity, say } from './dom.js';

const SECTIONS = ['agents', 'queues', 'skills', 'sites', 'teams', 'tokens', 'widget', 'canned'];

export function start(ctx) {
  const A = { users: [], skills: [], sites: [], teams: [], queues: [], tokens: [], secret: null, canned: [], editing: null };
  let T = ctx.T();
  let els = {};
  let section = SECTIONS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'agents';
  const widget = { color: '#0b57d0', lang: '', greeting: '', title: '', queue: '' };

  async function load() {
    const [u, sk, si, te, q, to] = await Promise.all(['users', 'skills', 'sites', 'teams', 'queues', 'tokens'].map((x) => call('GET', '/api/v1/' + x)));
    A.users = u.items; A.skills = sk.items; A.sites = si.items; A.teams = te.items; A.queues = q.items; A.tokens = to.items;
    A.canned = (await call('GET', '/api/v1/canned')).items;
  }

  function render() {
    T = ctx.T();
    document.title = T.adm.title + ' · Starpost';
    els = {};
    els.announce = h('p', { class: 'sr', 'aria-live': 'polite', id: 'announce' });
    els.body = h('div', { class: 'adm-body' });
    const tabs = h('nav', { class: 'adm-nav', 'aria-label': T.adm.sections },
      h('ul', {}, ...SECTIONS.map((x) => h('li', {}, h('a', { href: '#' + x, 'aria-current': x === section ? 'page' : false, 'data-section': x, text: x === 'canned' ? T.assist.cannedAdmin : T.adm[x] }))),
        h('li', {}, h('a', { href: '/app/kb', id: 'adm-kb', text: T.kb.nav })))); // the knowledge base (kb.js)
    ctx.root.className = 'page';
    ctx.root.replaceChildren(ctx.topBar('admin'), els.announce,
      h('div', { class: 'page-body' }, h('main', { class: 'admin', id: 'admin' }, h('h1', { class: 'sr', text: T.adm.title }), tabs, els.body)));
    draw();
  }

  window.addEventListener('hashchange', () => {
    const x = location.hash.slice(1);
    if (!SECTIONS.includes(x)) return;
    section = x;
    A.secret = null;
    for (const a of document.querySelectorAll('.adm-nav a')) a.setAttribute('aria-current', a.dataset.section === x ? 'page' : 'false');
    draw();
    const h2 = els.body.querySelector('h2');
    if (h2) h2.focus();
  });

  function announce(text) { say(els.announce, text); }

  function draw() {
    const f = { agents: drawAgents, skills: () => drawNamed('skills', T.adm.createSkill), sites: drawSites, teams: () => drawNamed('teams', T.adm.createTeam),
      queues: drawQueues, tokens: drawTokens, widget: drawWidget, canned: drawCanned }[section];
    els.body.replaceChildren(...f());
  }

  // field is a labelled form control.
  function field(id, label, control, hint) {
    control.id = id;
    if (hint) control.setAttribute('aria-describedby', id + '-hint');
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hint ? h('small', { id: id + '-hint', text: hint }) : null);
  }
  function input(attrs) { return h('input', { type: 'text', ...attrs }); }
  function select(options, value) {
    return h('select', {}, ...options.map(([v, t]) => h('option', { value: v, text: t, selected: v === value })));
  }
  // form wraps a create form: it posts, reloads, announces and shows errors.
  function form(id, title, fields, submit) {
    const err = h('p', { class: 'error', role: 'alert' });
    const btn = h('button', { type: 'submit', class: 'primary', text: T.adm.create });
    return h('form', { class: 'card adm-form', id, 'aria-labelledby': id + '-h', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      btn.disabled = true;
      try {
        const name = await submit();
        await load();
        draw();
        announce(T.adm.created(name));
        const again = document.getElementById(id);
        if (again) { const first = again.querySelector('input, select'); if (first) first.focus(); }
      } catch (x) {
        err.textContent = x.message;
        btn.disabled = false;
      }
    } }, h('h2', { id: id + '-h', tabindex: '-1', text: title }), ...fields, err, btn);
  }
  function listTable(id, caption, heads, rows) {
    if (!rows.length) return h('section', { class: 'card', 'aria-label': caption }, h('p', { class: 'empty', text: T.adm.noneYet }));
    return h('div', { class: 'card table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': id },
      h('table', { class: 'grid' }, h('caption', { id, text: caption }),
        h('thead', {}, h('tr', {}, ...heads.map((x) => h('th', { scope: 'col', text: x })))),
        h('tbody', {}, ...rows)));
  }
  const byId = (list, id) => { const x = list.find((y) => y.id === id); return x ? x.name : '—'; };
  const skillList = (xs, key) => (xs || []).map((x) => `${byId(A.skills, x.skill_id)} ${key === 'min_level' ? '≥ ' : ''}${x[key]}`).join(', ') || '—';

  // ---- agents ----
  function drawAgents() {
    const name = input({ required: true, maxlength: '200', autocomplete: 'off' });
    const email = input({ type: 'email', required: true, autocomplete: 'off' });
    const pw = input({ type: 'password', required: true, minlength: '8', autocomplete: 'new-password' });
    const role = select(['agent', 'supervisor', 'admin'].map((r) => [r, T.adm.roles[r]]), 'agent');
    const site = select([['', T.adm.none], ...A.sites.map((x) => [x.id, x.name])], '');
    const team = select([['', T.adm.none], ...A.teams.map((x) => [x.id, x.name])], '');
    const cap = input({ type: 'number', min: '0', max: '50', value: '3', required: true });
    const levels = A.skills.map((sk) => [sk, input({ type: 'number', min: '0', max: '5', value: '0', 'data-skill': sk.id })]);
    const skills = h('fieldset', { class: 'levels' }, h('legend', { text: T.adm.skills_ }), h('small', { id: 'ag-lv-hint', text: T.adm.levelHint }),
      ...levels.map(([sk, inp]) => { inp.setAttribute('aria-describedby', 'ag-lv-hint'); return field('ag-skill-' + sk.id, sk.name, inp); }));
    const f = form('agent-form', T.adm.createAgent, [
      field('ag-name', T.adm.name, name), field('ag-email', T.adm.email, email), field('ag-password', T.adm.password, pw),
      field('ag-role', T.adm.role, role), field('ag-site', T.adm.site, site), field('ag-team', T.adm.team, team),
      field('ag-capacity', T.adm.capacity, cap), skills,
    ], async () => {
      const u = await call('POST', '/api/v1/users', {
        name: name.value.trim(), email: email.value.trim(), password: pw.value, role: role.value,
        site_id: site.value, team_id: team.value, capacity: { chat: Number(cap.value) },
        skills: levels.filter(([, inp]) => Number(inp.value) > 0).map(([sk, inp]) => ({ skill_id: sk.id, level: Number(inp.value) })),
      });
      return u.name || u.email;
    });
    const rows = A.users.map((u) => h('tr', { 'data-user': u.id },
      h('th', { scope: 'row' }, u.name, h('br'), h('small', { class: 'email', text: u.email })), h('td', { text: T.adm.roles[u.role] || u.role }),
      h('td', { text: byId(A.sites, u.site_id) }), h('td', { text: byId(A.teams, u.team_id) }),
      h('td', { text: skillList(u.skills, 'level') }), h('td', { class: 'num', text: String(chatCapacity(u)) })));
    return [f, listTable('ag-cap', T.adm.agents, [T.adm.name + ' / ' + T.adm.email, T.adm.role, T.adm.site, T.adm.team, T.adm.skills_, T.adm.capacity], rows)];
  }

  // ---- skills, teams (a name each), sites ----
  function drawNamed(kind, title) {
    const name = input({ required: true, maxlength: '200', autocomplete: 'off' });
    const f = form(kind + '-form', title, [field(kind + '-name', T.adm.label, name)], async () => {
      const x = await call('POST', '/api/v1/' + kind, { name: name.value.trim() });
      return x.name;
    });
    const rows = A[kind].map((x) => h('tr', {}, h('th', { scope: 'row', text: x.name })));
    return [f, listTable(kind + '-cap', T.adm[kind], [T.adm.label], rows)];
  }
  function drawSites() {
    const name = input({ required: true, maxlength: '200', autocomplete: 'off' });
    const tz = input({ value: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', required: true });
    const f = form('sites-form', T.adm.createSite, [field('site-name', T.adm.label, name), field('site-tz', T.adm.timeZone, tz)], async () => {
      const x = await call('POST', '/api/v1/sites', { name: name.value.trim(), time_zone: tz.value.trim() });
      return x.name;
    });
    const rows = A.sites.map((x) => h('tr', {}, h('th', { scope: 'row', text: x.name }), h('td', { text: x.time_zone })));
    return [f, listTable('sites-cap', T.adm.sites, [T.adm.label, T.adm.timeZone], rows)];
  }

  // ---- queues ----
  function drawQueues() {
    const name = input({ required: true, maxlength: '200', autocomplete: 'off' });
    const prio = input({ type: 'number', min: '0', max: '100', value: '0', required: true });
    const pct = input({ type: 'number', min: '0', max: '100', value: '80', required: true });
    const secs = input({ type: 'number', min: '0', max: '86400', value: '20', required: true });
    const offer = input({ type: 'number', min: '0', max: '3600', value: '30', required: true });
    const reply = input({ type: 'number', min: '0', max: '86400', value: '0', required: true });
    const mins = A.skills.map((sk) => [sk, input({ type: 'number', min: '0', max: '5', value: '0', 'data-skill': sk.id })]);
    const skills = h('fieldset', { class: 'levels' }, h('legend', { text: T.adm.skills_ }), h('small', { id: 'q-lv-hint', text: T.adm.minLevelHint }),
      ...mins.map(([sk, inp]) => { inp.setAttribute('aria-describedby', 'q-lv-hint'); return field('q-skill-' + sk.id, T.adm.minLevel(sk.name), inp); }));
    const steps = h('ol', { class: 'steps' });
    let n = 0;
    const addStep = () => {
      const i = n++;
      const after = input({ type: 'number', min: '1', max: '86400', value: String(60 * (steps.children.length + 1)), required: true, class: 'after' });
      const drop = input({ type: 'number', min: '0', max: '5', value: '1', class: 'drop' });
      const any = h('input', { type: 'checkbox', class: 'any' });
      const q = select([['', T.adm.none], ...A.queues.map((x) => [x.id, x.name])], '');
      q.classList.add('also');
      const li = h('li', { class: 'step' },
        field(`st-after-${i}`, T.adm.after, after), field(`st-drop-${i}`, T.adm.levelDrop, drop),
        h('div', { class: 'field check' }, any, h('label', { for: `st-any-${i}`, text: T.adm.anySite })),
        field(`st-q-${i}`, T.adm.alsoQueue, q),
        h('button', { type: 'button', class: 'ghost small', onclick: () => { li.remove(); addBtn.focus(); }, text: T.adm.removeStep }));
      any.id = `st-any-${i}`;
      steps.append(li);
      after.focus();
    };
    const addBtn = h('button', { type: 'button', class: 'small', onclick: addStep, text: '+ ' + T.adm.addStep });
    const overflow = h('fieldset', { class: 'overflow' }, h('legend', { text: T.adm.overflow }), steps, addBtn);
    // Business hours: open around the clock, or per weekday in a time zone
    // (outside them the widget offers its offline form).
    const always = h('input', { type: 'checkbox', id: 'q-always', checked: true });
    const hoursTz = input({ value: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', required: true });
    const dayInputs = [1, 2, 3, 4, 5, 6, 0].map((d) => [d, input({ value: d >= 1 && d <= 5 ? '09:00-18:00' : '', placeholder: T.adm.closed,
      pattern: '^\\s*(\\d{2}:\\d{2}-\\d{2}:\\d{2}\\s*(,\\s*\\d{2}:\\d{2}-\\d{2}:\\d{2}\\s*)*)?$', 'aria-describedby': 'q-hours-hint', 'data-day': String(d) })]);
    const days = h('div', { class: 'hours-days' }, ...dayInputs.map(([d, inp]) => field('q-day-' + d, T.adm.weekdays[d], inp)));
    const hoursBody = h('div', { class: 'hours-body', hidden: true }, field('q-hours-tz', T.adm.timeZone, hoursTz),
      h('small', { id: 'q-hours-hint', text: T.adm.hoursHint }), days);
    always.addEventListener('change', () => { hoursBody.hidden = always.checked; hoursTz.required = !always.checked; });
    const hours = h('fieldset', { class: 'hours' }, h('legend', { text: T.adm.hours }),
      h('div', { class: 'field check' }, always, h('label', { for: 'q-always', text: T.adm.alwaysOpen })), hoursBody);
    const businessHours = () => always.checked ? null : {
      time_zone: hoursTz.value.trim(),
      days: Object.fromEntries(dayInputs.map(([d, inp]) => [d, inp.value.split(',').map((x) => x.trim()).filter(Boolean)]).filter(([, spans]) => spans.length)),
    };
    // The bot (package bot): answers first, hands over after failed turns.
    const bot = h('input', { type: 'checkbox', id: 'q-bot', 'aria-describedby': 'q-bot-hint' });
    const botFailed = input({ type: 'number', min: '0', max: '10', value: '2', required: true });
    const f = form('queue-form', T.adm.createQueue, [
      field('q-name', T.adm.label, name), field('q-priority', T.adm.priority, prio),
      h('div', { class: 'pair' }, field('q-sl-pct', T.adm.slPercent, pct), field('q-sl-secs', T.adm.slSeconds, secs)),
      h('div', { class: 'pair' }, field('q-offer', T.adm.offerTimeout, offer), field('q-reply', T.adm.replyTimeout, reply)),
      skills, overflow, hours,
      h('div', { class: 'field' }, h('div', { class: 'field check' }, bot, h('label', { for: 'q-bot', text: T.bot.queueBot })), h('small', { id: 'q-bot-hint', text: T.bot.queueBotHint })),
      field('q-bot-failed', T.bot.maxFailed, botFailed),
    ], async () => {
      const q = await call('POST', '/api/v1/queues', {
        name: name.value.trim(), priority: Number(prio.value),
        service_level: { percent: Number(pct.value), seconds: Number(secs.value) },
        offer_timeout: Number(offer.value), reply_timeout: Number(reply.value),
        bot: bot.checked, bot_max_failed_turns: Number(botFailed.value), business_hours: businessHours(),
        skills: mins.filter(([, inp]) => Number(inp.value) > 0).map(([sk, inp]) => ({ skill_id: sk.id, min_level: Number(inp.value) })),
        overflow: [...steps.children].map((li) => ({
          after_seconds: Number(li.querySelector('.after').value), min_level_drop: Number(li.querySelector('.drop').value),
          any_site: li.querySelector('.any').checked, queue_id: li.querySelector('.also').value || undefined,
        })),
      });
      return q.name;
    });
    const rows = A.queues.map((q) => h('tr', { 'data-queue': q.id },
      h('th', { scope: 'row', text: q.name }), h('td', { text: skillList(q.skills, 'min_level') }), h('td', { class: 'num', text: String(q.priority) }),
      h('td', { text: `${q.service_level.percent}% / ${q.service_level.seconds}s` }),
      h('td', { text: `${q.offer_timeout || 30}s / ${q.reply_timeout ? q.reply_timeout + 's' : '—'}` }),
      h('td', { text: (q.overflow || []).length ? T.adm.steps(q.overflow.length) : '—' }),
      h('td', { text: hoursText(q.business_hours) }),
      h('td', {}, botToggle(q))));
    return [f, listTable('q-cap', T.adm.queues, [T.adm.label, T.adm.skills_, T.adm.prio, T.adm.sl, T.adm.timeouts, T.adm.overflow, T.adm.hours, T.bot.column], rows)];
  }
  // hoursText summarises business hours: "24/7", or the open weekdays' spans.
  function hoursText(bh) {
    if (!bh || !bh.days) return T.adm.alwaysOpenShort;
    const parts = [1, 2, 3, 4, 5, 6, 0].filter((d) => (bh.days[d] || []).length).map((d) => `${T.adm.weekdaysShort[d]} ${bh.days[d].join(', ')}`);
    return parts.length ? parts.join(' · ') + ` (${bh.time_zone})` : T.adm.closed;
  }
  // botToggle switches a queue's bot on or off in place.
  function botToggle(q) {
    const box = h('input', { type: 'checkbox', class: 'bot-toggle', 'aria-label': T.bot.queueBotOf(q.name), checked: !!q.bot });
    box.addEventListener('change', async () => {
      box.disabled = true;
      try {
        Object.assign(q, await call('PATCH', '/api/v1/queues/' + encodeURIComponent(q.id), { bot: box.checked }));
        announce(T.bot.saved(q.name, box.checked));
      } catch (x) {
        box.checked = !box.checked;
        announce(x.message);
      } finally {
        box.disabled = false;
      }
    });
    return box;
  }

  // ---- API tokens ----
  function drawTokens() {
    const name = input({ required: true, maxlength: '200', autocomplete: 'off' });
    const role = select(['agent', 'supervisor', 'admin'].map((r) => [r, T.adm.roles[r]]), 'agent');
    const f = form('tokens-form', T.adm.createToken, [field('tok-name', T.adm.label, name), field('tok-role', T.adm.role, role)], async () => {
      const t = await call('POST', '/api/v1/tokens', { name: name.value.trim(), role: role.value });
      A.secret = { name: t.name, secret: t.secret };
      return t.name;
    });
    const out = [];
    if (A.secret) {
      const code = h('code', { id: 'token-secret', text: A.secret.secret });
      out.push(h('section', { class: 'card secret', role: 'status', 'aria-labelledby': 'secret-h' },
        h('h2', { id: 'secret-h', text: `${T.adm.secret}: ${A.secret.name}` }), h('p', { text: T.adm.secretOnce }),
        h('pre', {}, code), copyButton(() => A.secret.secret)));
    }
    const rows = A.tokens.map((t) => h('tr', { 'data-token': t.id },
      h('th', { scope: 'row', text: t.name }), h('td', { text: T.adm.roles[t.role] || t.role }),
      h('td', { text: new Date(t.created_at).toLocaleString(ctx.lang()) }),
      h('td', {}, h('button', { type: 'button', class: 'small danger', 'aria-label': T.adm.delLabel(t.name), onclick: async () => {
        if (!confirm(T.adm.confirmDelete(t.name))) return;
        try {
          await call('DELETE', '/api/v1/tokens/' + encodeURIComponent(t.id));
          A.secret = null;
          await load();
          draw();
          announce(T.adm.del + ': ' + t.name);
          document.getElementById('tokens-form-h').focus();
        } catch (x) { announce(x.message); }
      }, text: T.adm.del }))));
    out.push(listTable('tok-cap', T.adm.tokens, [T.adm.label, T.adm.role, T.adm.createdAt, T.adm.actions], rows));
    return [f, h('div', { class: 'stack' }, ...out)];
  }
  function copyButton(get) {
    const b = h('button', { type: 'button', class: 'small', text: T.adm.copy, onclick: async () => {
      try { await navigator.clipboard.writeText(get()); announce(T.adm.copied); b.textContent = T.adm.copied; } catch (_) { /* the text stays selectable */ }
    } });
    return b;
  }

  // ---- widget settings ----
  function drawWidget() {
    const code = h('code', { id: 'widget-snippet' });
    const pv = h('div', { class: 'wprev', 'aria-hidden': 'true' });
    const color = h('input', { type: 'color', value: widget.color });
    const lang = select([['', T.adm.langAuto], ['zh-CN', '简体中文'], ['en', 'English']], widget.lang);
    const greeting = input({ maxlength: '500', value: widget.greeting, placeholder: T.adm.defaultGreeting });
    const title = input({ maxlength: '100', value: widget.title, placeholder: T.adm.previewTitle });
    const queue = select([['', T.adm.queueDefault], ...A.queues.map((q) => [q.id, q.name])], widget.queue);
    const esc = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const update = () => {
      Object.assign(widget, { color: color.value, lang: lang.value, greeting: greeting.value.trim(), title: title.value.trim(), queue: queue.value });
      const attrs = [`src="${location.origin}/widget.js"`, `data-workspace="${esc(ctx.me.workspace_id)}"`, `data-color="${widget.color}"`];
      if (widget.lang) attrs.push(`data-lang="${widget.lang}"`);
      if (widget.greeting) attrs.push(`data-greeting="${esc(widget.greeting)}"`);
      if (widget.title) attrs.push(`data-title="${esc(widget.title)}"`);
      if (widget.queue) attrs.push(`data-queue="${esc(widget.queue)}"`);
      code.textContent = `<script ${attrs.join(' ')} defer></script>`;
      pv.style.setProperty('--wc', widget.color);
      pv.replaceChildren(
        h('div', { class: 'wp-panel' },
          h('div', { class: 'wp-head', text: widget.title || T.adm.previewTitle }),
          h('div', { class: 'wp-body' }, h('p', { class: 'wp-bubble', text: widget.greeting || T.adm.defaultGreeting })),
          h('div', { class: 'wp-input', text: T.adm.typeMessage })),
        h('div', { class: 'wp-launcher' }, s('svg', { viewBox: '0 0 24 24', width: '26', height: '26' },
          s('path', { d: 'M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z', fill: '#fff' }))));
    };
    for (const c of [color, lang, greeting, title, queue]) { c.addEventListener('input', update); c.addEventListener('change', update); }
    update();
    return [
      h('section', { class: 'card adm-form', 'aria-labelledby': 'widget-h' },
        h('h2', { id: 'widget-h', tabindex: '-1', text: T.adm.widget }),
        field('w-color', T.adm.color, color), field('w-lang', T.adm.lang, lang), field('w-greeting', T.adm.greeting, greeting),
        field('w-title', T.adm.wtitle, title), field('w-queue', T.adm.queue, queue)),
      h('section', { class: 'card', 'aria-labelledby': 'snip-h' },
        h('h2', { id: 'snip-h', text: T.adm.snippet }), h('p', { text: T.adm.widgetIntro }),
        h('pre', { class: 'snippet', tabindex: '0' }, code), copyButton(() => code.textContent),
        h('h3', { text: T.adm.preview }), pv),
      identityCard(),
    ];
  }

  // identityCard explains identified visitors and shows the workspace's
  // identity secret on request (it is never drawn until asked for).
  function identityCard() {
    const out = h('div', { class: 'identity-out', 'aria-live': 'polite' });
    const show = h('button', { type: 'button', class: 'small', id: 'identity-show', text: T.adm.identityShow, onclick: async () => {
      show.disabled = true;
      try {
        const x = await call('GET', '/api/v1/widget-identity');
        const secret = h('code', { id: 'identity-secret', text: x.secret });
        const example = h('code', { text: `user_hash = hex(HMAC_SHA256(key = "${x.secret}", message = user_id))\n` +
          `<script src="${location.origin}/widget.js" data-workspace="${ctx.me.workspace_id}" data-user-id="USER_ID" data-user-hash="USER_HASH" defer></script>` });
        out.replaceChildren(h('p', { text: T.adm.identitySecret }), h('pre', { class: 'snippet', tabindex: '0' }, secret), copyButton(() => x.secret),
          h('p', { text: T.adm.identityHow }), h('pre', { class: 'snippet', tabindex: '0' }, example));
        secret.focus();
      } catch (err) {
        out.replaceChildren(h('p', { class: 'error', role: 'alert', text: err.message }));
        show.disabled = false;
      }
    } });
    return h('section', { class: 'card', 'aria-labelledby': 'identity-h' },
      h('h2', { id: 'identity-h', text: T.adm.identity }), h('p', { text: T.adm.identityIntro }), show, out);
  }

  // ---- canned replies ----
  function drawCanned() {
    const ed = A.editing ? A.canned.find((x) => x.id === A.editing) : null;
    const title = input({ required: true, maxlength: '200', autocomplete: 'off', value: ed ? ed.title : '' });
    const shortcut = input({ required: true, maxlength: '33', autocomplete: 'off', value: ed ? ed.shortcut : '' });
    const body = h('textarea', { required: true, rows: '4', maxlength: '4000' });
    body.value = ed ? ed.body : '';
    const lang = select([['', T.assist.cLangAny], ['zh', '简体中文'], ['en', 'English']], ed ? ed.lang : '');
    const team = select([['', T.assist.cTeamAll], ...A.teams.map((x) => [x.id, x.name])], ed ? ed.team_id : '');
    const f = form('canned-form', ed ? T.assist.editCanned : T.assist.createCanned, [
      field('cn-title', T.assist.cTitle, title), field('cn-shortcut', T.assist.cShortcut, shortcut, T.assist.cShortcutHint),
      field('cn-body', T.assist.cBody, body, T.assist.cBodyHint),
      h('div', { class: 'pair' }, field('cn-lang', T.assist.cLang, lang), field('cn-team', T.assist.cTeam, team)),
    ], async () => {
      const req = { title: title.value.trim(), shortcut: shortcut.value.trim(), body: body.value, lang: lang.value, team_id: team.value };
      const x = ed ? await call('PATCH', '/api/v1/canned/' + encodeURIComponent(ed.id), req) : await call('POST', '/api/v1/canned', req);
      A.editing = null;
      return '/' + x.shortcut;
    });
    if (ed) {
      f.querySelector('button[type=submit]').textContent = T.assist.save;
      f.append(h('button', { type: 'button', class: 'ghost', onclick: () => { A.editing = null; draw(); document.getElementById('canned-form-h').focus(); }, text: T.assist.cancel }));
    }
    const teamName = (id) => (id ? byId(A.teams, id) : T.assist.cTeamAll);
    const key = (x) => x.shortcut + (x.lang ? ' (' + x.lang + ')' : '');
    const rows = A.canned.map((x) => h('tr', { 'data-canned': x.id },
      h('th', { scope: 'row' }, h('kbd', { text: '/' + x.shortcut }), ' ', x.title),
      h('td', { class: 'ctext', text: x.body }),
      h('td', { text: x.lang || T.assist.cLangAny }), h('td', { text: teamName(x.team_id) }),
      h('td', { class: 'act' },
        h('button', { type: 'button', class: 'small', 'aria-label': T.assist.editLabel(key(x)), onclick: () => {
          A.editing = x.id; draw(); document.getElementById('cn-title').focus();
        }, text: T.assist.edit }), ' ',
        h('button', { type: 'button', class: 'small danger', 'aria-label': T.assist.delLabel(key(x)), onclick: async () => {
          if (!confirm(T.assist.confirmDelete(key(x)))) return;
          try {
            await call('DELETE', '/api/v1/canned/' + encodeURIComponent(x.id));
            if (A.editing === x.id) A.editing = null;
            await load();
            draw();
            announce(T.assist.deleted(key(x)));
            document.getElementById('canned-form-h').focus();
          } catch (err) { announce(err.message); }
        }, text: T.adm.del }))));
    return [f, listTable('cn-cap', T.assist.cannedAdmin, [T.assist.cShortcut + ' / ' + T.assist.cTitle, T.assist.cBody, T.assist.cLang, T.assist.cTeam, T.adm.actions], rows)];
  }

  render();
  load().then(draw).catch((x) => announce(x.message));
  return { render };
}
