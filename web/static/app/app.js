// The agent workspace: sign-in, presence, an inbox of the agent's own
// conversations sorted by urgency, incoming offers with a countdown, and the
// conversation view with history, reply, internal notes, canned replies,
// transfer, contact details and resolve, and the assist panel (suggested
// answers, the customer's emotion, coaching, abusive-word masking) with the
// agent's well-being count. Its state is loaded over REST, then kept live by
// the realtime stream, which starts at GET /me's cursor and resumes after
// drops from the last cursor seen.
import { call, newKey, Stream, APIError, fetchMe } from './api.js';
import { dictionaries, languages, pickLanguage } from './i18n.js';
import { topBar, say } from './dom.js';
import { panel as assistPanel, assistState, maskParts, maskedText, fill } from './assist.js';
import { draftButton, requestDraft, drawSources } from './draft.js';
import * as att from './attachments.js'; // widget feature: attachments, receipts, ratings
import { handoffCard } from './handoff.js';
import { intentSection } from './intent.js';

let lang = pickLanguage();
let T = dictionaries[lang];
att.setup(() => T);

/** h builds an element: h('p', {class: 'x', text: 'hi'}, child...). */
function h(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') n.textContent = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (v === true) n.setAttribute(k, '');
    else if (v !== false && v != null) n.setAttribute(k, v);
  }
  for (const c of kids) if (c != null) n.append(c);
  return n;
}

const app = document.getElementById('app');

// ---- state ----
const S = {
  me: null,
  presence: 'offline',
  convs: new Map(), // id -> conversation record
  selected: '',
  page: null, // the wall or admin page, when one is open
  stream: null,
  online: false,
  contacts: new Map(), // contact id -> name (or a promise while loading)
  mode: 'reply', // the composer writes a 'reply' or an internal 'note'
  contactOpen: false,
  alerts: localStorage.getItem('starpost.alerts') === 'on',
  mask: true, // mask abusive words (the agent's preference, per user)
  assistOpen: false, // the assist section on tablet and phone
  wellbeing: null, // GET /me/wellbeing
  breakDismissed: 0, // the hostile count at which "not now" was chosen
  canned: [], // GET /canned
};
const maskKey = () => 'starpost.mask.' + S.me.id;
const readKey = (id) => 'starpost.read.' + id;

function conv(id) {
  let c = S.convs.get(id);
  if (!c) {
    c = { id, state: '', contact: '', subject: '', queue: '', offer: null, events: new Map(), mine: false,
      loaded: false, loading: null, typingUntil: 0, outbox: [], emotions: new Map(), readSeq: Number(localStorage.getItem(readKey(id)) || 0) };
    S.convs.set(id, c);
  }
  return c;
}

// ---- boot ----
async function boot() {
  try {
    const me = await call('GET', '/api/v1/me');
    if (!me.user) throw new APIError(401, null);
    S.me = me.user;
    S.features = me.features || [];
    S.workspace = me.workspace_id;
    enter();
  } catch (err) {
    renderLogin(err instanceof APIError && err.status === 401 ? '' : T.errors.network);
  }
}

function setLang(l) {
  lang = l;
  T = dictionaries[l];
  localStorage.setItem('starpost.lang', l);
  document.documentElement.lang = l;
  if (S.page) S.page.render();
  else if (S.me) renderWorkspace(); else renderLogin('');
}

// enter opens the page of the URL the signed-in user may see: the wall and
// the knowledge base (supervisors and admins), the admin screens (admins) or
// the workspace.
async function enter() {
  const p = location.pathname.replace(/\/+$/, '');
  const role = S.me.role;
  const mod = p === '/app/wall' && (role === 'supervisor' || role === 'admin') ? './wall.js'
    : p === '/app/quality' && (role === 'supervisor' || role === 'admin') ? './quality.js'
    : p === '/app/admin' && role === 'admin' ? './admin.js'
    : p === '/app/kb' && (role === 'supervisor' || role === 'admin') ? './kb.js'
    : p === '/app/wfm' ? './wfm.js' : '';
  if (mod) {
    document.documentElement.lang = lang;
    const m = await import(mod);
    S.page = m.start({
      root: app, me: S.me, T: () => T, lang: () => lang,
      topBar: (page) => topBar(T, S.me, page, lang, languages, setLang, signOut),
    });
    return;
  }
  if (p !== '/app') history.replaceState(null, '', '/app/');
  S.mask = localStorage.getItem(maskKey()) !== 'off';
  renderWorkspace();
  loadState();
  loadCanned();
  loadWellbeing();
  loadPreferences();
}

// loadPreferences applies the user's own settings kept on the server (they
// follow the user to every device); the browser's copy shows meanwhile.
async function loadPreferences() {
  try {
    const p = await call('GET', '/api/v1/me/preferences');
    if (typeof p.mask_abuse === 'boolean' && p.mask_abuse !== S.mask) {
      S.mask = p.mask_abuse;
      localStorage.setItem(maskKey(), S.mask ? 'on' : 'off');
      drawConversation(true);
    }
  } catch { /* the browser's copy stays */ }
}

// loadState reads the user's presence, the workspace's newest cursor and
// the open conversations over REST, then starts the stream at that cursor:
// no history is replayed on page load.
async function loadState() {
  let cursor = 0;
  try {
    const me = await fetchMe();
    cursor = me.cursor || 0;
    S.presence = (me.presence && me.presence.presence) || 'offline';
    syncPresence();
    const list = await call('GET', '/api/v1/conversations?open=true');
    for (const x of list.items || []) applyConversation(x);
  } catch (err) {
    announce(err.message);
  }
  for (const c of S.convs.values()) if (c.mine && isOpen(c)) load(c);
  scheduleDraw();
  startStream(cursor);
}

function applyConversation(x) {
  const c = conv(x.id);
  c.contact = x.contact_id; c.queue = x.queue_id; c.subject = x.subject || ''; c.state = x.state;
  c.mine = x.agent_id === S.me.id || x.offered_to === S.me.id;
  return c;
}

function syncPresence() {
  for (const r of document.querySelectorAll('input[name=presence]')) r.checked = r.value === S.presence;
  drawWellbeing();
}

function langSelect(id) {
  const sel = h('select', { id, onchange: (e) => setLang(e.target.value) },
    ...languages.map(([v, name]) => h('option', { value: v, text: name, selected: v === lang })));
  return [h('label', { for: id, class: 'sr', text: T.language }), sel];
}

// ---- sign-in ----
function renderLogin(error) {
  document.documentElement.lang = lang;
  document.title = T.signIn + ' · Starpost';
  const err = h('p', { class: 'error', role: 'alert', id: 'login-error', text: error || '' });
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true });
  const pw = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit', class: 'primary', text: T.signIn });
  const form = h('form', { class: 'login-card', 'aria-labelledby': 'login-h', onsubmit: async (e) => {
    e.preventDefault();
    btn.disabled = true;
    btn.textContent = T.signingIn;
    err.textContent = '';
    try {
      const res = await call('POST', '/api/v1/login', { email: email.value, password: pw.value });
      S.me = res.user;
      const me = await call('GET', '/api/v1/me').catch(() => ({}));
      S.features = me.features || [];
      S.workspace = me.workspace_id;
      enter();
    } catch (x) {
      err.textContent = T.errors[x.code] || x.message;
      btn.disabled = false;
      btn.textContent = T.signIn;
      pw.focus();
    }
  } },
  h('h1', { id: 'login-h' }, h('span', { class: 'logo', 'aria-hidden': 'true', text: '✦' }), ' ' + T.appName),
  h('p', { class: 'sub', text: T.signInTitle }),
  h('label', { for: 'email', text: T.email }), email,
  h('label', { for: 'password', text: T.password }), pw,
  err, btn,
  h('div', { class: 'login-lang' }, ...langSelect('login-lang')));
  app.className = 'login';
  app.replaceChildren(h('main', {}, form));
  email.focus();
}

// ---- workspace skeleton ----
let els = {};

function renderWorkspace() {
  document.documentElement.lang = lang;
  document.title = T.inbox + ' · Starpost';
  const keep = els.reply ? els.reply.value : '';
  const presence = h('fieldset', { class: 'presence' },
    h('legend', { class: 'sr', text: T.presence }),
    ...['available', 'break', 'offline'].map((p) => h('label', { class: 'seg', 'data-p': p },
      h('input', { type: 'radio', name: 'presence', value: p, checked: S.presence === p, onchange: () => setPresence(p) }),
      h('span', { text: T[p] }))));
  const helpBtn = h('button', { type: 'button', class: 'ghost help-btn', 'aria-haspopup': 'dialog', 'aria-label': T.shortcuts, title: T.shortcuts, onclick: () => showHelp() },
    h('span', { 'aria-hidden': 'true', text: '⌨' }), h('span', { class: 'label', text: ' ' + T.shortcuts }));
  const out = h('button', { type: 'button', class: 'ghost', onclick: signOut, text: T.signOut });
  const alertsBtn = h('button', { type: 'button', class: 'ghost alerts-btn', id: 'alerts', 'aria-pressed': String(S.alerts), 'aria-label': T.ws.alerts,
    title: S.alerts ? T.ws.alertsOn : T.ws.alertsOff, onclick: toggleAlerts },
  h('span', { 'aria-hidden': 'true', text: '♪' }), h('span', { class: 'label', text: ' ' + T.ws.alerts }));
  const nav = h('nav', { class: 'pages', 'aria-label': T.nav.label },
    h('a', { href: '/app/', 'aria-current': 'page', text: T.nav.inbox }),
    S.me.role === 'agent' ? null : h('a', { href: '/app/wall', text: T.nav.wall }),
    S.me.role === 'agent' ? null : h('a', { href: '/app/quality', text: T.qa.nav }),
    S.me.role === 'admin' ? h('a', { href: '/app/admin', text: T.nav.admin }) : null,
    S.me.role === 'agent' ? null : h('a', { href: '/app/kb', text: T.kb.nav }),
    h('a', { href: '/app/wfm', text: T.wfm.nav }));
  const top = h('header', { class: 'top' },
    h('span', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true', text: '✦' }), ' Starpost'),
    nav, presence,
    h('span', { class: 'spacer' }),
    h('span', { class: 'who', text: S.me.name || S.me.email }),
    h('span', { class: 'lang' }, ...langSelect('app-lang')),
    alertsBtn, helpBtn, out);
  els = {};
  els.banner = h('p', { class: 'banner', role: 'status', hidden: S.online || !S.stream });
  els.banner.textContent = T.reconnecting;
  els.announce = h('p', { class: 'sr', 'aria-live': 'assertive', id: 'announce' });
  els.offers = h('ul', { class: 'offers', 'aria-label': T.offers });
  els.list = h('ul', { class: 'list', 'aria-label': T.inbox });
  els.inboxCount = h('span', { class: 'count' });
  els.empty = h('p', { class: 'empty', text: T.noConversations });
  els.wellbeing = h('div', { class: 'wellbeing', id: 'wellbeing' });
  const inbox = h('section', { class: 'inbox', 'aria-labelledby': 'inbox-h' },
    h('h2', { id: 'inbox-h' }, T.inbox + ' ', els.inboxCount), els.wellbeing, els.offers, els.list, els.empty);
  els.convHead = h('div', { class: 'conv-head' });
  els.log = h('ol', { class: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': T.inbox, tabindex: '0' });
  els.typing = h('p', { class: 'typing', hidden: true, text: T.customerTyping });
  els.reply = h('textarea', { id: 'reply', rows: '2', maxlength: '4000', 'aria-describedby': 'canned-hint', 'aria-autocomplete': 'list', 'aria-controls': 'canned-list',
    onkeydown: replyKey, oninput: replyInput, onclick: drawCannedMatches });
  els.reply.value = keep;
  els.send = h('button', { type: 'submit', class: 'primary' });
  els.modes = h('fieldset', { class: 'modes' }, h('legend', { class: 'sr', text: T.ws.composeMode }),
    ...[['reply', T.ws.replyMode], ['note', T.ws.noteMode]].map(([m, text]) => h('label', { class: 'seg', 'data-m': m },
      h('input', { type: 'radio', name: 'mode', value: m, checked: S.mode === m, onchange: () => setMode(m) }), h('span', { text }))));
  els.cannedList = h('ul', { class: 'canned-list', id: 'canned-list', role: 'listbox', 'aria-label': T.assist.cannedTitle, hidden: true });
  els.cannedLive = h('p', { class: 'sr', 'aria-live': 'polite', id: 'canned-live' });
  els.cannedBtn = h('button', { type: 'button', class: 'ghost small', 'aria-haspopup': 'dialog', onclick: showCanned, text: '⚡ ' + T.ws.canned });
  els.draftBtn = draftButton(T, S.features, draftReply);
  els.draftSources = h('p', { class: 'draft-sources', id: 'draft-sources', 'aria-live': 'polite', hidden: true });
  const attUI = att.attachButton(() => S.convs.get(S.selected), () => S.mode);
  els.form = h('form', { class: 'reply', onsubmit: (e) => { e.preventDefault(); sendReply(); } },
    h('div', { class: 'compose-bar' }, els.modes, h('span', { class: 'spacer' }), els.draftBtn, attUI.btn, attUI.input, els.cannedBtn), attUI.status,
    h('p', { class: 'sr', id: 'canned-hint', text: T.ws.cannedHint }),
    els.cannedList, els.cannedLive,
    h('div', { class: 'compose-row' }, h('label', { for: 'reply', class: 'sr', text: T.reply }), els.reply, els.send), els.draftSources);
  attUI.wire(els.form);
  els.none = h('p', { class: 'empty center', text: T.noSelection });
  els.assist = h('aside', { class: 'assist', id: 'assist', 'aria-labelledby': 'assist-h', hidden: true });
  els.conv = h('section', { class: 'conv', 'aria-labelledby': 'conv-h' }, els.convHead, els.log, els.typing, els.assist, els.form, els.none);
  els.contact = h('aside', { class: 'contact', id: 'contact-panel', 'aria-labelledby': 'contact-h', hidden: true });
  els.main = h('div', { class: 'main', 'data-pane': S.selected ? 'conv' : 'inbox' }, inbox, els.conv, els.contact);
  els.help = helpDialog();
  els.transfer = h('dialog', { class: 'help transfer', 'aria-labelledby': 'transfer-h' });
  els.canned = h('dialog', { class: 'help canned', 'aria-labelledby': 'canned-h' });
  app.className = 'ws';
  app.replaceChildren(top, els.banner, els.announce, els.main, els.help, els.transfer, els.canned);
  setMode(S.mode);
  drawInbox();
  drawConversation(true);
  drawWellbeing();
}

function helpDialog() {
  const d = h('dialog', { class: 'help', 'aria-labelledby': 'help-h' },
    h('h2', { id: 'help-h', text: T.shortcuts }),
    h('table', {}, h('tbody', {}, ...T.keys.concat(T.assist.keys, els.draftBtn ? [T.draft.key] : []).map(([k, what]) => h('tr', {}, h('th', { scope: 'row' }, h('kbd', { text: k })), h('td', { text: what }))))),
    h('form', { method: 'dialog' }, h('button', { class: 'primary', text: T.close })));
  return d;
}
function showHelp() { if (!els.help.open) els.help.showModal(); }

async function signOut() {
  try { await call('POST', '/api/v1/logout'); } catch (_) { /* the cookie goes anyway */ }
  if (S.stream) S.stream.close();
  location.reload();
}

async function setPresence(p) {
  const prev = S.presence;
  S.presence = p;
  try {
    await call('PUT', '/api/v1/me/presence', { presence: p });
  } catch (err) {
    S.presence = prev;
    announce(err.message);
    for (const r of document.querySelectorAll('input[name=presence]')) r.checked = r.value === prev;
  }
}

function announce(text) { say(els.announce, text); }

// ---- realtime ----
function startStream(cursor) {
  if (S.stream) return;
  S.stream = new Stream(onEvent, (st) => {
    S.online = st === 'online';
    if (els.banner) els.banner.hidden = S.online;
    if (S.online) for (const c of S.convs.values()) if (c.outbox.length) flushOutbox(c);
  }, cursor);
  S.stream.connect();
}

function body(e) { return e.body || {}; }

function onEvent(e) {
  const me = S.me.id;
  if (!e.conversation_id) {
    if (e.kind === 'presence' && e.actor.id === me) {
      S.presence = body(e).presence;
      syncPresence();
    }
    return;
  }
  const c = conv(e.conversation_id);
  const b = body(e);
  switch (e.kind) {
    case 'created':
      c.contact = b.contact_id; c.queue = b.queue_id; c.subject = b.subject || ''; c.state = b.state || 'queued';
      break;
    case 'offer':
      if (b.agent_id === me) {
        c.state = 'offered'; c.offer = { expires: Date.parse(b.expires_at) }; c.mine = true;
        if (Date.now() < c.offer.expires) { announce(T.newChat); alertUser(T.newChat, ''); }
        hydrateSoon();
      }
      break;
    case 'offer.ended':
      if (b.agent_id === me) { c.offer = null; c.mine = false; c.state = 'queued'; }
      break;
    case 'assigned':
      c.offer = null;
      c.mine = b.agent_id === me;
      c.state = 'assigned';
      if (c.mine) hydrateSoon();
      break;
    case 'unassigned':
      if (b.agent_id === me) c.mine = false;
      c.state = 'queued';
      break;
    case 'transferred':
      if (b.to_agent_id === me) {
        c.mine = true; c.state = 'assigned'; c.offer = null;
        announce(T.ws.transferredToYou);
        alertUser(T.ws.transferredToYou, b.note || '');
        hydrateSoon();
      } else {
        if (c.mine && S.selected === c.id && b.to_agent_id) c.state = 'assigned';
        c.mine = false;
        if (b.to_queue_id) c.state = 'queued';
      }
      break;
    case 'state':
      c.state = b.state === 'queued' ? (c.mine ? 'assigned' : 'queued') : b.state;
      break;
    case 'typing':
      if (e.actor.role === 'customer') {
        c.typingUntil = Date.now() + 5000;
        if (S.selected === c.id) els.typing.hidden = false;
      }
      return;
    case 'message':
      if (e.actor.role === 'customer') {
        c.typingUntil = 0;
        if (c.state === 'waiting') c.state = 'assigned';
        if (c.mine && (document.hidden || S.selected !== c.id)) alertUser(T.ws.newMessage(contactName(c.contact)), body(e).text || '');
      }
      break;
    case 'coaching':
      if (b.agent_id === me) {
        if (S.selected === c.id) announce(T.assist.coachingNew);
        wellbeingSoon();
      }
      break;
    case 'alert':
      if (b.agent_id === me) wellbeingSoon();
      break;
    case 'read': case 'csat': // widget feature: only the log changes, no redraw
      if (e.seq) addEvent(c, e);
      return;
  }
  if (e.seq) addEvent(c, e);
  scheduleDraw();
}

function addEvent(c, e) {
  if (c.events.has(e.seq)) return;
  c.events.set(e.seq, e);
  if (e.kind === 'emotion') c.emotions.set(body(e).message_seq, body(e));
  if (S.selected === c.id && els.log) {
    appendEvent(e);
    if (e.kind === 'message' && e.actor.role === 'customer') markRead(c);
    if (e.kind === 'message' && e.actor.role === 'customer') els.typing.hidden = true;
  }
}

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; drawInbox(); drawConvHead(); drawAssist(false); });
}

// hydrate loads, after the stream's burst of replayed events, the details
// and history of each conversation the agent holds or is offered.
let hydrateTimer = 0;
function hydrateSoon() {
  clearTimeout(hydrateTimer);
  hydrateTimer = setTimeout(() => { for (const c of S.convs.values()) if (c.mine && isOpen(c)) load(c); }, 50);
}

function load(c) {
  if (c.loaded) return Promise.resolve();
  if (c.loading) return c.loading;
  c.loading = (async () => {
    try {
      let after = 0;
      for (;;) {
        const page = await call('GET', `/api/v1/conversations/${encodeURIComponent(c.id)}/events?after=${after}`);
        for (const e of page.items) {
          const b = body(e);
          if (e.kind === 'created') { c.contact = b.contact_id; c.queue = c.queue || b.queue_id; c.subject = b.subject || ''; }
          if (e.kind === 'transferred' && b.to_queue_id) c.queue = b.to_queue_id;
          if (e.kind === 'offer' && b.agent_id === S.me.id && c.state === 'offered') c.offer = { expires: Date.parse(b.expires_at) };
          if ((e.kind === 'offer.ended' || e.kind === 'assigned') && c.offer) c.offer = null;
          addEvent(c, e);
        }
        if (!page.has_more) break;
        after = page.next_cursor;
      }
      c.loaded = true;
      if (S.selected === c.id) drawConversation(true);
      contactName(c.contact);
      scheduleDraw();
    } catch (err) {
      if (!(err instanceof APIError) || err.status !== 404) setTimeout(() => { c.loading = null; load(c); }, 2000);
    } finally {
      c.loading = null;
    }
  })();
  return c.loading;
}

function contactName(id) {
  if (!id) return T.customer;
  const v = S.contacts.get(id);
  if (typeof v === 'string') return v;
  if (!v) {
    S.contacts.set(id, call('GET', '/api/v1/contacts/' + encodeURIComponent(id)).then((ct) => {
      S.contacts.set(id, ct.name || `${T.visitor} ${id.slice(-4)}`);
      scheduleDraw();
      const sel = S.convs.get(S.selected);
      if (sel && sel.contact === id) drawConversation(true);
    }).catch(() => S.contacts.set(id, `${T.visitor} ${id.slice(-4)}`)));
  }
  return `${T.visitor} ${id.slice(-4)}`;
}

// ---- inbox ----
function isOpen(c) { return c.state !== 'closed' && c.state !== 'resolved' && c.state !== 'queued' && c.state !== ''; }

function lastMessage(c) {
  let last = null;
  for (const e of c.events.values()) if (e.kind === 'message' && (!last || e.seq > last.seq)) last = e;
  return last;
}
function unreadCount(c) {
  let n = 0;
  for (const e of c.events.values()) if (e.kind === 'message' && e.actor.role === 'customer' && e.seq > c.readSeq) n++;
  return n;
}
// waitingSince is when the customer's unanswered messages began, or 0.
function waitingSince(c) {
  let since = 0;
  const evs = [...c.events.values()].sort((a, b) => a.seq - b.seq);
  for (const e of evs) {
    if (e.kind !== 'message') continue;
    if (e.actor.role === 'customer') { if (!since) since = Date.parse(e.at); } else since = 0;
  }
  return since;
}
function fmtDur(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function inboxItems() {
  const offers = [];
  const held = [];
  for (const c of S.convs.values()) {
    if (!c.mine) continue;
    if (c.state === 'offered' && c.offer && c.offer.expires > Date.now()) offers.push(c);
    else if (c.state === 'assigned' || c.state === 'waiting') held.push(c);
  }
  offers.sort((a, b) => a.offer.expires - b.offer.expires);
  // Most urgent first: the customer who has waited longest for an answer,
  // then conversations waiting on the customer, newest activity first.
  held.sort((a, b) => {
    const wa = waitingSince(a) || Infinity;
    const wb = waitingSince(b) || Infinity;
    if (wa !== wb) return wa - wb;
    const la = lastMessage(a), lb = lastMessage(b);
    return (lb ? Date.parse(lb.at) : 0) - (la ? Date.parse(la.at) : 0);
  });
  return { offers, held };
}

function preview(c) {
  const m = lastMessage(c);
  return m ? displayText(c, m.seq) : '';
}

function drawInbox() {
  if (!els.list) return;
  const { offers, held } = inboxItems();
  els.offers.replaceChildren(...offers.map((c) => {
    const left = Math.max(0, Math.ceil((c.offer.expires - Date.now()) / 1000));
    return h('li', { class: 'offer', 'data-id': c.id },
      h('div', { class: 'offer-top' },
        h('strong', { text: T.newChat }),
        h('span', { class: 'countdown', 'data-expires': String(c.offer.expires), text: T.expiresIn(left) })),
      h('p', { class: 'name', text: contactName(c.contact) }),
      h('p', { class: 'preview', text: preview(c) }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary accept', onclick: () => accept(c), text: T.accept }),
        h('button', { type: 'button', class: 'ghost decline', onclick: () => decline(c), text: T.decline })));
  }));
  els.list.replaceChildren(...held.map((c) => {
    const n = c.id === S.selected ? 0 : unreadCount(c);
    const w = waitingSince(c);
    // The accessible name is the visible text (name, unread, preview,
    // waiting), with the unread badge spelled out for screen readers.
    return h('li', {},
      h('button', { type: 'button', class: 'item' + (w ? ' urgent' : ''), 'data-id': c.id, 'aria-current': c.id === S.selected ? 'true' : false, onclick: () => select(c.id) },
        h('span', { class: 'row' },
          h('span', { class: 'name', text: contactName(c.contact) }),
          n ? h('span', { class: 'unread', 'aria-hidden': 'true', text: String(n) }) : null,
          n ? h('span', { class: 'sr', text: ', ' + T.unread(n) + ',' }) : null),
        h('span', { class: 'preview', text: preview(c) }),
        h('span', { class: 'meta' + (w ? ' late' : ''), 'data-since': w ? String(w) : false, text: w ? T.waiting(fmtDur(Date.now() - w)) : T.state[c.state] || c.state })));
  }));
  els.inboxCount.textContent = held.length ? `(${held.length})` : '';
  els.empty.hidden = offers.length + held.length > 0;
}

// Countdown and waiting times tick every second.
setInterval(() => {
  let expired = false;
  for (const n of document.querySelectorAll('.countdown')) {
    const left = Math.ceil((Number(n.dataset.expires) - Date.now()) / 1000);
    if (left <= 0) expired = true;
    n.textContent = T.expiresIn(Math.max(0, left));
  }
  for (const n of document.querySelectorAll('.meta[data-since]')) n.textContent = T.waiting(fmtDur(Date.now() - Number(n.dataset.since)));
  if (expired) drawInbox();
  const c = S.convs.get(S.selected);
  if (c && els.typing) els.typing.hidden = c.typingUntil < Date.now();
}, 1000);

async function accept(c) {
  try {
    await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/accept`, {});
    c.state = 'assigned'; c.offer = null;
    select(c.id);
  } catch (err) {
    announce(err.message);
  }
}
async function decline(c) {
  try {
    await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/decline`, {});
    c.offer = null; c.mine = false;
    drawInbox();
  } catch (err) {
    announce(err.message);
  }
}

// ---- conversation view ----
function select(id) {
  S.selected = id;
  const c = S.convs.get(id);
  if (c) { load(c); markRead(c); }
  els.main.setAttribute('data-pane', id ? 'conv' : 'inbox');
  drawConversation(true);
  drawInbox();
  if (id) els.reply.focus();
}

function back() {
  const id = S.selected;
  S.selected = '';
  els.main.setAttribute('data-pane', 'inbox');
  drawConversation(true);
  drawInbox();
  const item = els.list.querySelector(`[data-id="${CSS.escape(id)}"]`);
  (item || els.list.querySelector('button') || document.getElementById('inbox-h')).focus();
}

function markRead(c) {
  const last = lastMessage(c);
  if (last && last.seq > c.readSeq) {
    c.readSeq = last.seq;
    localStorage.setItem(readKey(c.id), String(c.readSeq));
    att.sendRead(c, last.seq);
  }
}

function drawConvHead() {
  if (!els.convHead) return;
  const c = S.convs.get(S.selected);
  els.main.toggleAttribute('data-contact', S.contactOpen && !!c);
  if (!c) { els.convHead.replaceChildren(); els.contact.hidden = true; return; }
  els.contact.hidden = !S.contactOpen;
  if (S.contactOpen && els.contact.dataset.id !== c.id) drawContact(c);
  const canResolve = c.mine && (c.state === 'assigned' || c.state === 'waiting');
  els.convHead.replaceChildren(
    h('button', { type: 'button', class: 'ghost back', onclick: back, 'aria-label': T.back, text: '←' }),
    h('div', { class: 'title' },
      h('h2', { id: 'conv-h', text: contactName(c.contact) }),
      h('span', { class: 'state s-' + c.state, text: T.state[c.state] || c.state })),
    h('button', { type: 'button', class: 'contact-btn', 'aria-expanded': String(S.contactOpen), 'aria-controls': 'contact-panel', onclick: () => toggleContact(), text: T.ws.contact }),
    canResolve ? h('button', { type: 'button', class: 'transfer-btn', 'aria-haspopup': 'dialog', onclick: () => showTransfer(c), text: '⇄ ' + T.ws.transfer }) : null,
    canResolve ? h('button', { type: 'button', class: 'resolve', onclick: () => resolve(c), text: '✓ ' + T.resolve }) : null);
  els.form.hidden = !(c.mine && c.state !== 'closed' && c.state !== 'offered');
}

function drawConversation(full) {
  if (!els.log) return;
  const c = S.convs.get(S.selected);
  els.none.hidden = !!c;
  els.log.hidden = !c;
  els.form.hidden = !c;
  els.typing.hidden = !c || c.typingUntil < Date.now();
  drawConvHead();
  drawAssist(full);
  if (!c || !full) return;
  els.log.replaceChildren();
  for (const e of [...c.events.values()].sort((a, b) => a.seq - b.seq)) appendEvent(e);
  for (const m of c.outbox) els.log.append(m.el);
  els.log.scrollTop = els.log.scrollHeight;
}

function time(at) {
  const d = new Date(at);
  return h('time', { datetime: d.toISOString(), text: d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' }) });
}

function appendEvent(e) {
  const b = body(e);
  let li = null;
  switch (e.kind) {
    case 'message': {
      const mine = e.actor.role === 'agent' && e.actor.id === S.me.id;
      const pend = mine && e.idempotency_key && document.querySelector(`[data-key="${CSS.escape(e.idempotency_key)}"]`);
      if (pend) pend.remove();
      const who = e.actor.role === 'customer' ? contactName(S.convs.get(e.conversation_id).contact) : mine ? T.you : colleague(e.actor);
      const rating = e.actor.role === 'customer' && /^\[(?:Rating|评分) ([1-5])\/5\]/.exec(b.text || '');
      li = h('li', { class: 'msg ' + (e.actor.role === 'customer' ? 'them' : mine ? 'me' : 'agent') + (rating ? ' rating' : ''), 'data-seq': String(e.seq) },
        h('span', { class: 'who' }, who + ' · ', time(e.at)),
        rating ? h('span', { class: 'stars', text: T.ws.rating(rating[1]) }) : null,
        ...messageText(S.convs.get(e.conversation_id), e), att.attachmentList(e));
      break;
    }
    case 'emotion': {
      // The analysis of a customer message arrives after it: mask it now.
      const c = S.convs.get(e.conversation_id);
      const m = c && c.events.get(b.message_seq);
      const old = m && els.log.querySelector(`.msg.them[data-seq="${b.message_seq}"]`);
      if (old) {
        for (const n of old.querySelectorAll('.text, .mask-note')) n.remove();
        const atts = old.querySelector('.atts');
        if (atts) atts.before(...messageText(c, m)); else old.append(...messageText(c, m));
      }
      return;
    }
    case 'csat': li = att.csatItem(e, time); break;
    case 'read': att.drawReceipt(els.log, S.convs.get(e.conversation_id)); break;
    case 'note': {
      const mine = e.actor.id === S.me.id;
      li = h('li', { class: 'msg note', 'data-seq': String(e.seq) },
        h('span', { class: 'who' }, T.ws.noteLabel + ' (' + T.ws.noteHint + ') · ' + (mine ? T.you + ' · ' : ''), time(e.at)),
        h('span', { class: 'text', text: b.text || '' }), att.attachmentList(e));
      break;
    }
    case 'created': li = sys(T.ev.created, e); break;
    case 'bot.handoff': li = handoffCard(e, T, time); break;
    case 'intent.tagged': li = sys(T.bot.taggedLog(b.intent_title || b.intent), e); break;
    case 'assigned': if (b.agent_id === S.me.id) li = sys(T.ev.assigned, e); break;
    case 'transferred':
      li = b.note ? h('li', { class: 'msg note transfer-note', 'data-seq': String(e.seq) },
        h('span', { class: 'who' }, h('span', { 'aria-hidden': 'true', text: '⇄ ' }), (b.to_agent_id === S.me.id ? T.ws.transferredToYou : T.ev.transferred) + ' · ', time(e.at)),
        h('span', { class: 'text', text: b.note })) : sys(b.to_agent_id === S.me.id ? T.ws.transferredToYou : T.ev.transferred, e);
      break;
    case 'state':
      if (b.state === 'resolved') li = sys(T.ev.resolvedBy, e);
      else if (b.state === 'queued' && b.reason !== 'bot_handoff') li = sys(T.ev.reopened, e);
      break;
  }
  if (!li) return;
  // Keep the log in seq order even when history arrives after live events.
  const after = [...els.log.querySelectorAll('[data-seq]')].find((n) => Number(n.dataset.seq) > e.seq);
  if (after) els.log.insertBefore(li, after);
  else {
    const firstPending = els.log.querySelector('[data-key]');
    if (firstPending) els.log.insertBefore(li, firstPending); else els.log.append(li);
  }
  els.log.scrollTop = els.log.scrollHeight;
}
// colleague names another agent or supervisor: by name when the directory
// is readable (supervisors), else by role.
function colleague(actor) {
  const u = directory && directory.agents.find((x) => x.id === actor.id);
  if (u) return u.name;
  return actor.role === 'supervisor' ? T.ws.supervisor : actor.role === 'system' ? T.system : actor.role === 'bot' ? T.bot.bot : T.ws.colleague;
}
function sys(text, e) { return h('li', { class: 'sys', 'data-seq': String(e.seq) }, text + ' · ', time(e.at)); }

let lastTyping = 0;
function replyInput() {
  drawCannedMatches();
  const now = Date.now();
  if (S.mode === 'reply' && S.selected && now - lastTyping > 3000 && S.stream) {
    lastTyping = now;
    S.stream.send({ type: 'typing', conversation_id: S.selected });
  }
}
function replyKey(e) {
  if (cannedKey(e)) return;
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey) {
    e.preventDefault();
    sendReply();
  }
}

function sendReply() {
  const c = S.convs.get(S.selected);
  const text = els.reply.value.trim();
  if (!c || !text) return;
  els.reply.value = '';
  drawSources(T, els.draftSources, [], '');
  hideCanned();
  if (S.mode === 'note') { sendNote(c, text); return; }
  const m = { key: newKey('ag'), text, el: null };
  m.el = h('li', { class: 'msg me pending', 'data-key': m.key },
    h('span', { class: 'who', text: T.you + ' · ' + T.sending }), h('span', { class: 'text', text }));
  els.log.append(m.el);
  els.log.scrollTop = els.log.scrollHeight;
  c.outbox.push(m);
  flushOutbox(c);
}

// flushOutbox posts the conversation's unsent replies in order; a retry
// reuses the idempotency key, so a reply is stored once however often it
// is sent.
async function flushOutbox(c) {
  if (c.flushing) return;
  c.flushing = true;
  try {
    while (c.outbox.length) {
      const m = c.outbox[0];
      try {
        const e = await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/messages`, { text: m.text, idempotency_key: m.key });
        c.outbox.shift();
        if (S.selected === c.id) addEvent(c, e); else c.events.set(e.seq, e);
        m.el.remove();
      } catch (err) {
        m.el.querySelector('.who').textContent = T.you + ' · ' + T.notSent;
        if (err instanceof APIError && err.status >= 400 && err.status < 500 && err.status !== 429) {
          c.outbox.shift();
          m.el.querySelector('.who').textContent = T.you + ' · ' + err.message;
          continue;
        }
        setTimeout(() => flushOutbox(c), 2000);
        return;
      }
    }
  } finally {
    c.flushing = false;
  }
  scheduleDraw();
}

async function resolve(c) {
  try {
    await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/resolve`, {});
    c.state = 'resolved';
    back();
  } catch (err) {
    announce(err.message);
  }
}

// ---- internal notes ----
function setMode(m) {
  S.mode = m;
  if (!els.reply) return;
  for (const r of els.modes.querySelectorAll('input')) r.checked = r.value === m;
  els.form.classList.toggle('note-mode', m === 'note');
  els.reply.placeholder = m === 'note' ? T.ws.notePlaceholder : T.replyPlaceholder;
  els.send.textContent = m === 'note' ? T.ws.addNote : T.send;
}

// sendNote posts an internal note: stored as a note event, which the
// widget API never shows to the customer.
async function sendNote(c, text) {
  const key = newKey('nt');
  const el = h('li', { class: 'msg note pending', 'data-key': key },
    h('span', { class: 'who', text: T.ws.noteLabel + ' · ' + T.sending }), h('span', { class: 'text', text }));
  els.log.append(el);
  els.log.scrollTop = els.log.scrollHeight;
  try {
    const e = await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/notes`, { text, idempotency_key: key });
    el.remove();
    if (S.selected === c.id) addEvent(c, e); else c.events.set(e.seq, e);
  } catch (err) {
    el.querySelector('.who').textContent = T.ws.noteLabel + ' · ' + err.message;
  }
}

// ---- canned replies (the workspace's, GET /api/v1/canned) ----
let cannedAt0 = 0; // when the list was loaded
async function loadCanned() {
  cannedAt0 = Date.now();
  try {
    S.canned = (await call('GET', '/api/v1/canned')).items || [];
  } catch (_) { /* keep what we have; the list is retried when the dialog opens */ }
}
// cannedFresh reloads the list, at most once a minute, when the agent
// starts a shortcut, so an admin's edits reach open workspaces.
function cannedFresh() {
  if (Date.now() - cannedAt0 > 60000) loadCanned().then(() => { if (cannedQuery()) drawCannedMatches(); });
}

// customerLang is the language the emotion engine saw in the customer's
// latest message ('zh' or 'en'), or ''.
function customerLang(c) {
  let last = null;
  if (c) for (const e of c.events.values()) if (e.kind === 'emotion' && (!last || e.seq > last.seq)) last = e;
  return last ? body(last).lang || '' : '';
}

function cannedVars() {
  const c = S.convs.get(S.selected);
  return { 'customer.name': c ? contactName(c.contact) : '', 'agent.name': S.me.name || '', 'conversation.subject': c ? c.subject : '' };
}

// cannedQuery finds the "/word" being typed just before the caret.
function cannedQuery() {
  const v = els.reply.value;
  const pos = els.reply.selectionStart == null ? v.length : els.reply.selectionStart;
  const m = /(^|\s)\/([^\s/]*)$/.exec(v.slice(0, pos));
  return m ? { q: m[2].toLowerCase(), from: pos - m[2].length - 1, to: pos } : null;
}

let cannedSel = 0;
let cannedShown = [];
let cannedAt = null;
function drawCannedMatches() {
  if (S.mode !== 'reply' && S.mode !== 'note') return;
  const at = cannedQuery();
  if (!at) { hideCanned(); return; }
  cannedFresh();
  // The customer's language first (else the agent's), then "any".
  const want = customerLang(S.convs.get(S.selected)) || (lang === 'zh-CN' ? 'zh' : 'en');
  const rank = (x) => (x.shortcut.startsWith(at.q) ? 0 : 2) + (x.lang === want ? 0 : x.lang === '' ? 0.5 : 1);
  cannedShown = S.canned.filter((x) => x.shortcut.startsWith(at.q) || (at.q && x.title.toLowerCase().includes(at.q)))
    .sort((a, b) => rank(a) - rank(b) || a.shortcut.localeCompare(b.shortcut)).slice(0, 8);
  if (!cannedShown.length) { hideCanned(); return; }
  cannedAt = at;
  cannedSel = Math.min(cannedSel, cannedShown.length - 1);
  els.cannedList.replaceChildren(...cannedShown.map((x, i) => h('li', { id: 'canned-opt-' + i, role: 'option', 'aria-selected': String(i === cannedSel),
    class: i === cannedSel ? 'sel' : '', 'data-k': x.shortcut, onmousedown: (e) => { e.preventDefault(); insertCanned(x); } },
  h('kbd', { text: '/' + x.shortcut }), x.lang ? h('span', { class: 'badge', text: x.lang }) : null, ' ', h('strong', { text: x.title }), ' ',
  h('span', { class: 'ctext', text: fill(x.body, cannedVars()) }))));
  const wasHidden = els.cannedList.hidden;
  els.cannedList.hidden = false;
  els.reply.setAttribute('aria-activedescendant', 'canned-opt-' + cannedSel);
  els.cannedList.querySelector('.sel')?.scrollIntoView({ block: 'nearest' });
  if (wasHidden || els.cannedLive.dataset.n !== String(cannedShown.length)) {
    els.cannedLive.dataset.n = String(cannedShown.length);
    els.cannedLive.textContent = T.ws.cannedMatches(cannedShown.length) + ' /' + cannedShown[cannedSel].shortcut + ': ' + cannedShown[cannedSel].title;
  }
}
function hideCanned() {
  if (!els.cannedList) return;
  els.cannedList.hidden = true;
  els.reply.removeAttribute('aria-activedescendant');
  cannedShown = [];
  cannedSel = 0;
  cannedAt = null;
  delete els.cannedLive.dataset.n;
}
// insertCanned puts the reply, placeholders filled, where its "/word" was
// (or at the caret), ready to edit.
function insertCanned(x) {
  const text = fill(x.body, cannedVars());
  const v = els.reply.value;
  const at = cannedAt || cannedQuery() || { from: els.reply.selectionStart ?? v.length, to: els.reply.selectionEnd ?? v.length };
  els.reply.value = v.slice(0, at.from) + text + v.slice(at.to);
  hideCanned();
  els.reply.focus();
  const end = at.from + text.length;
  els.reply.setSelectionRange(end, end);
}
// cannedKey handles the keys of the open match list; true when it did.
function cannedKey(e) {
  if (els.cannedList.hidden || !cannedShown.length) return false;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    cannedSel = (cannedSel + (e.key === 'ArrowDown' ? 1 : cannedShown.length - 1)) % cannedShown.length;
    drawCannedMatches();
    els.cannedLive.textContent = '/' + cannedShown[cannedSel].shortcut + ': ' + cannedShown[cannedSel].title;
    return true;
  }
  if ((e.key === 'Tab' && !e.shiftKey) || (e.key === 'Enter' && !e.shiftKey && !e.isComposing)) {
    e.preventDefault();
    insertCanned(cannedShown[cannedSel]);
    return true;
  }
  if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); hideCanned(); return true; }
  return false;
}

async function showCanned() {
  const d = els.canned;
  await loadCanned();
  const vars = cannedVars();
  d.replaceChildren(
    h('h2', { id: 'canned-h', text: T.ws.canned }),
    h('p', { class: 'hint', text: T.ws.cannedHint + ' ' + T.assist.cannedManaged }),
    S.canned.length ? h('ul', { class: 'canned-all' }, ...S.canned.map((x) => h('li', {},
      h('kbd', { text: '/' + x.shortcut }), h('span', { class: 'ctext' }, h('strong', { text: x.title }), x.lang ? ' (' + x.lang + ')' : '', h('br'), fill(x.body, vars)),
      els.form.hidden ? null : h('button', { type: 'button', class: 'small', 'aria-label': T.assist.insert + ' /' + x.shortcut, text: T.assist.insert,
        onclick: () => { d.close(); cannedAt = null; insertCanned(x); } }))))
      : h('p', { class: 'empty', text: T.assist.cannedNone }),
    h('div', { class: 'dlg-actions' },
      S.me.role === 'admin' ? h('a', { href: '/app/admin#canned', class: 'button-link', text: T.assist.cannedAdmin + ' → ' + T.nav.admin }) : null,
      h('button', { type: 'button', class: 'primary', onclick: () => d.close(), text: T.close })));
  if (!d.open) d.showModal();
}

// ---- assist panel, feedback, masking, well-being ----
let assistSig = '';
function drawAssist(force) {
  if (!els.assist) return;
  const c = S.convs.get(S.selected);
  els.assist.hidden = !c;
  els.conv.classList.toggle('has-assist', !!c);
  if (!c) { assistSig = ''; return; }
  const st = assistState(c, S.me.id);
  const sig = [c.id, st.sugg && st.sugg.seq, st.emo && st.emo.seq, st.coach && st.coach.seq, [...st.verdicts].join(), S.mask, S.assistOpen, lang, !els.form.hidden].join('|');
  if (!force && sig === assistSig) return;
  assistSig = sig;
  const a = document.activeElement;
  const fk = a && els.assist.contains(a) ? a.dataset.fk || (a.classList.contains('assist-toggle') ? 'toggle' : '') : '';
  els.assist.classList.toggle('open', S.assistOpen);
  els.assist.replaceChildren(...assistPanel({
    T, lang, state: st, mask: S.mask, open: S.assistOpen,
    message: (seq) => displayText(c, seq),
    onInsert: (it) => insertSuggestion(it),
    onFeedback: (sg, it, helpful) => sendFeedback(c, sg, it, helpful),
    onMask: setMask,
    onToggle: () => { S.assistOpen = !S.assistOpen; drawAssist(true); els.assist.querySelector('.assist-toggle').focus(); },
  }));
  for (const b of els.assist.querySelectorAll('.sugg-insert')) b.disabled = els.form.hidden;
  if (fk === 'toggle') els.assist.querySelector('.assist-toggle').focus();
  else if (fk) els.assist.querySelector(`[data-fk="${fk}"]`)?.focus();
}

// displayText is a message's text as the agent should see it (masked when
// the agent masks abusive words).
function displayText(c, seq) {
  const m = c.events.get(seq);
  if (!m) return '';
  const text = body(m).text || '';
  const parts = S.mask && m.actor.role === 'customer' ? maskParts(text, c.emotions.get(seq)) : null;
  if (!parts) return text;
  return parts.length === 1 && parts[0].whole ? T.assist.maskedWhole : maskedText(parts);
}

// messageText renders a message's text: for a customer message the agent
// masks, the abusive words as ＊ with a button that shows them.
function messageText(c, e) {
  const text = body(e).text || '';
  const parts = c && S.mask && e.actor.role === 'customer' ? maskParts(text, c.emotions.get(e.seq)) : null;
  if (!parts) return [h('span', { class: 'text', text })];
  const whole = parts.length === 1 && parts[0].whole;
  const hidden = whole ? T.assist.maskedWhole : maskedText(parts);
  const span = h('span', { class: 'text masked', text: hidden });
  const btn = h('button', { type: 'button', class: 'small show-masked', 'aria-expanded': 'false', text: T.assist.showMasked });
  btn.addEventListener('click', () => {
    const open = btn.getAttribute('aria-expanded') !== 'true';
    btn.setAttribute('aria-expanded', String(open));
    span.textContent = open ? text : hidden;
    span.classList.toggle('masked', !open);
    btn.textContent = open ? T.assist.hideMasked : T.assist.showMasked;
  });
  return [span, h('span', { class: 'mask-note' }, whole ? null : h('span', { text: T.assist.masked + ' ' }), btn)];
}

function setMask(on) {
  S.mask = on;
  localStorage.setItem(maskKey(), on ? 'on' : 'off');
  drawConversation(true);
  document.getElementById('mask-toggle')?.focus();
  call('PUT', '/api/v1/me/preferences', { mask_abuse: on }).catch((err) => announce(err.message));
}

// draftReply asks for a reply draft of the selected conversation and puts
// it in the reply box (draft.js).
function draftReply() {
  if (!S.selected || els.form.hidden) return;
  if (S.mode !== 'reply') setMode('reply');
  requestDraft({ T, call, convID: S.selected, workspaceID: S.workspace, button: els.draftBtn, sourcesEl: els.draftSources,
    announce, insert: (text) => { els.reply.value = text; els.reply.focus(); els.reply.setSelectionRange(text.length, text.length); } });
}

function insertSuggestion(it) {
  if (els.form.hidden) return;
  if (S.mode !== 'reply') setMode('reply');
  const text = it.answer || it.snippet || it.title || '';
  const cur = els.reply.value;
  els.reply.value = cur.trim() ? cur.replace(/\s*$/, '\n') + text : text;
  els.reply.focus();
  els.reply.setSelectionRange(els.reply.value.length, els.reply.value.length);
  announce(T.assist.inserted);
}

async function sendFeedback(c, sg, it, helpful) {
  try {
    const e = await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/suggestions/${sg.seq}/feedback`, { id: it.id, helpful });
    addEvent(c, e);
    drawAssist(false);
    announce(T.assist.thanks);
  } catch (err) {
    announce(err.message);
  }
}

let wellbeingTimer = 0;
function wellbeingSoon() {
  clearTimeout(wellbeingTimer);
  wellbeingTimer = setTimeout(loadWellbeing, 400);
}
async function loadWellbeing() {
  try {
    S.wellbeing = await call('GET', '/api/v1/me/wellbeing');
  } catch (_) {
    return;
  }
  drawWellbeing();
}
function drawWellbeing() {
  const el = els.wellbeing;
  if (!el) return;
  const w = S.wellbeing;
  el.hidden = !w || !w.hostile;
  if (el.hidden) { el.replaceChildren(); return; }
  const suggest = w.suggest_break && S.presence !== 'break' && S.breakDismissed < w.hostile;
  el.replaceChildren(
    h('p', { class: 'wb-count', text: T.assist.hostileToday(w.hostile) }),
    suggest ? h('div', { class: 'break-card', role: 'status' },
      h('p', { text: T.assist.breakSuggest(w.hostile) }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary small take-break', onclick: () => { S.breakDismissed = w.hostile; setPresence('break'); drawWellbeing(); }, text: T.assist.takeBreak }),
        h('button', { type: 'button', class: 'ghost small', onclick: () => { S.breakDismissed = w.hostile; drawWellbeing(); }, text: T.assist.notNow }))) : null);
}

// ---- transfer ----
let directory = null; // GET /api/v1/directory: {agents, queues}, readable by any agent
async function loadDirectory() {
  if (directory) return directory;
  const d = await call('GET', '/api/v1/directory');
  directory = { agents: d.agents || [], queues: d.queues || [] };
  setTimeout(() => { directory = null; }, 30000); // presence goes stale
  return directory;
}

async function showTransfer(c) {
  const d = els.transfer;
  let dir;
  try { dir = await loadDirectory(); } catch (err) { announce(err.message); return; }
  const agents = dir.agents.filter((u) => u.id !== S.me.id);
  const queues = dir.queues.length ? dir.queues : [{ id: c.queue, name: T.ws.thisQueue }];
  const kind = agents.length ? 'agent' : 'queue';
  const err = h('p', { class: 'error', role: 'alert' });
  const agentSel = h('select', { id: 'tr-agent', name: 'agent' }, ...agents.map((u) => h('option', { value: u.id,
    text: T.assist.directoryAgent(u.name, u.site, T[u.presence] || u.presence) })));
  const queueSel = h('select', { id: 'tr-queue', name: 'queue' }, ...queues.map((q) => h('option', { value: q.id, text: q.id === c.queue && dir.queues.length ? q.name + ' ✓' : q.name, selected: q.id === c.queue })));
  const note = h('textarea', { id: 'tr-note', rows: '3', maxlength: '2000' });
  const agentField = h('div', { class: 'field', hidden: kind !== 'agent' }, h('label', { for: 'tr-agent', text: T.ws.agent }), agentSel);
  const queueField = h('div', { class: 'field', hidden: kind !== 'queue' }, h('label', { for: 'tr-queue', text: T.ws.queue }), queueSel);
  const pick = (k) => { agentField.hidden = k !== 'agent'; queueField.hidden = k !== 'queue'; };
  const btn = h('button', { type: 'submit', class: 'primary', text: T.ws.doTransfer });
  d.replaceChildren(h('form', { class: 'adm-form', onsubmit: async (e) => {
    e.preventDefault();
    const toAgent = !agentField.hidden;
    const body = toAgent ? { to_agent_id: agentSel.value } : { to_queue_id: queueSel.value };
    if (note.value.trim()) body.note = note.value.trim();
    btn.disabled = true;
    try {
      await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/transfer`, body);
      d.close();
      c.mine = false;
      c.state = toAgent ? 'assigned' : 'queued';
      const label = toAgent ? (agents.find((u) => u.id === agentSel.value) || {}).name : queueSel.selectedOptions[0].textContent;
      back();
      announce(T.ws.transferred(label));
    } catch (x) {
      err.textContent = x.message;
      btn.disabled = false;
    }
  } },
  h('h2', { id: 'transfer-h', text: T.ws.transferTitle }),
  h('fieldset', { class: 'modes' }, h('legend', { text: T.ws.transferTo }),
    h('label', { class: 'seg' }, h('input', { type: 'radio', name: 'tr-kind', value: 'agent', checked: kind === 'agent', disabled: !agents.length, onchange: () => pick('agent') }), h('span', { text: T.ws.toAgent })),
    h('label', { class: 'seg' }, h('input', { type: 'radio', name: 'tr-kind', value: 'queue', checked: kind === 'queue', onchange: () => pick('queue') }), h('span', { text: T.ws.toQueue }))),
  agentField, queueField,
  h('div', { class: 'field' }, h('label', { for: 'tr-note', text: T.ws.transferNote }), note),
  err,
  h('div', { class: 'dlg-actions' }, btn, h('button', { type: 'button', class: 'ghost', onclick: () => d.close(), text: T.ws.cancel }))));
  d.showModal();
  (agentField.hidden ? queueSel : agentSel).focus();
}

// ---- contact details and past conversations ----
function toggleContact(open = !S.contactOpen) {
  S.contactOpen = open;
  const c = S.convs.get(S.selected);
  delete els.contact.dataset.id;
  drawConvHead();
  if (open && c) els.contact.querySelector('h2')?.focus();
  else if (!open) els.convHead.querySelector('.contact-btn')?.focus();
}

async function drawContact(c) {
  const box = els.contact;
  box.dataset.id = c.id;
  const head = h('div', { class: 'contact-head' },
    h('h2', { id: 'contact-h', tabindex: '-1', text: T.ws.contactTitle }),
    h('button', { type: 'button', class: 'ghost', 'aria-label': T.ws.closeContact, onclick: () => toggleContact(false), text: '✕' }));
  box.replaceChildren(head);
  try {
    const [ct, list] = await Promise.all([
      call('GET', '/api/v1/contacts/' + encodeURIComponent(c.contact)),
      call('GET', '/api/v1/conversations?limit=50&contact=' + encodeURIComponent(c.contact))]);
    if (box.dataset.id !== c.id) return;
    const dl = h('dl', { class: 'facts' },
      h('dt', { text: T.ws.name }), h('dd', { text: ct.name || contactName(c.contact) }),
      ...Object.entries(ct.identities || {}).flatMap(([ch, id]) => [h('dt', { text: ch === 'chat' ? T.ws.visitorId : T.ws.identity(ch) }), h('dd', { class: 'mono', text: id })]),
      c.subject ? h('dt', { text: T.ws.subject }) : null, c.subject ? h('dd', { text: c.subject }) : null,
      h('dt', { text: T.ws.since }), h('dd', {}, time(ct.created_at), ' ', new Date(ct.created_at).toLocaleDateString(lang)));
    const past = (list.items || []).filter((x) => x.id !== c.id).sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
    const ul = h('ul', { class: 'past' }, ...past.map((x) => h('li', {},
      h('button', { type: 'button', class: 'item', 'data-id': x.id, onclick: () => select(x.id) },
        h('span', { class: 'row' }, h('span', { class: 'name', text: new Date(x.created_at).toLocaleDateString(lang) + ' ' + new Date(x.created_at).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' }) }),
          h('span', { class: 'state s-' + x.state, text: T.state[x.state] || x.state })),
        x.subject ? h('span', { class: 'preview', text: x.subject }) : null))));
    const mayTag = c.mine || S.me.role !== 'agent';
    box.append(dl, ...(mayTag ? [intentSection({ T, call, c, announce })] : []), h('h3', { text: T.ws.past }), past.length ? ul : h('p', { class: 'empty', text: T.ws.pastNone }));
    if (S.me.role === 'agent') box.append(h('p', { class: 'hint', text: T.ws.pastLimited }));
    for (const x of past) applyConversationLight(x);
  } catch (err) {
    box.append(h('p', { class: 'error', text: err.message }));
  }
}
// applyConversationLight records a past conversation without claiming it.
function applyConversationLight(x) {
  if (S.convs.has(x.id)) return;
  const c = conv(x.id);
  c.contact = x.contact_id; c.queue = x.queue_id; c.subject = x.subject || ''; c.state = x.state;
  c.mine = false;
}

// ---- desktop notifications and sound ----
let audio = null;
async function toggleAlerts() {
  S.alerts = !S.alerts;
  localStorage.setItem('starpost.alerts', S.alerts ? 'on' : 'off');
  if (S.alerts) {
    // Both need this click: browsers ask for permission and start audio
    // only on a user gesture.
    unlockAudio();
    if ('Notification' in window && Notification.permission === 'default') {
      try { await Notification.requestPermission(); } catch (_) { /* old API */ }
    }
    if ('Notification' in window && Notification.permission === 'denied') announce(T.ws.alertsDenied);
    else announce(T.ws.alertsOn);
  }
  const b = document.getElementById('alerts');
  if (b) {
    b.setAttribute('aria-pressed', String(S.alerts));
    b.title = S.alerts ? T.ws.alertsOn : T.ws.alertsOff;
  }
}
function unlockAudio() {
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return;
  if (!audio) audio = new AC();
  if (audio.state === 'suspended') audio.resume().catch(() => {});
}
// Any click or key may unlock audio for later alerts.
document.addEventListener('pointerdown', () => { if (S.alerts) unlockAudio(); }, { once: true });
document.addEventListener('keydown', () => { if (S.alerts) unlockAudio(); }, { once: true });

function beep() {
  if (!audio || audio.state !== 'running') return;
  const t = audio.currentTime;
  for (const [i, f] of [[0, 880], [1, 1320]]) {
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.type = 'sine';
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, t + i * 0.16);
    g.gain.exponentialRampToValueAtTime(0.2, t + i * 0.16 + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.16 + 0.15);
    o.connect(g).connect(audio.destination);
    o.start(t + i * 0.16);
    o.stop(t + i * 0.16 + 0.16);
  }
}

// alertUser tells an agent who is looking elsewhere about new work: a
// desktop notification and a short sound while the tab is hidden.
function alertUser(title, text) {
  if (!S.alerts || !document.hidden) return;
  beep();
  if ('Notification' in window && Notification.permission === 'granted') {
    try {
      const n = new Notification(title, { body: text.slice(0, 140), tag: 'starpost', lang });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (_) { /* not allowed here */ }
  }
}

// ---- keyboard ----
document.addEventListener('keydown', (e) => {
  if (!S.me || !els.main) return;
  const typingInField = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement && document.activeElement.tagName);
  if (e.key === 'Escape' && (els.help.open || els.transfer.open || els.canned.open)) return;
  if (e.key === 'Escape' && S.contactOpen && S.selected) { e.preventDefault(); toggleContact(false); return; }
  if (e.key === 'Escape' && S.selected) { e.preventDefault(); back(); return; }
  if (e.key === '?' && !typingInField) { e.preventDefault(); showHelp(); return; }
  if (!e.altKey || e.ctrlKey || e.metaKey) return;
  const { offers, held } = inboxItems();
  const k = e.code;
  if (k === 'KeyA' && offers[0]) { e.preventDefault(); accept(offers[0]); }
  else if (k === 'KeyD' && offers[0]) { e.preventDefault(); decline(offers[0]); }
  else if (k === 'KeyR' && S.selected) { e.preventDefault(); const c = S.convs.get(S.selected); if (c) resolve(c); }
  else if (k === 'KeyT' && S.selected) { e.preventDefault(); const c = S.convs.get(S.selected); if (c && c.mine) showTransfer(c); }
  else if (k === 'KeyC' && S.selected) { e.preventDefault(); toggleContact(); }
  else if (k === 'KeyG' && S.selected && els.draftBtn) { e.preventDefault(); draftReply(); }
  else if (k === 'KeyN' && S.selected) { e.preventDefault(); setMode(S.mode === 'note' ? 'reply' : 'note'); els.reply.focus(); }
  else if (/^Digit[123]$/.test(k) && S.selected) {
    const c = S.convs.get(S.selected);
    const st = c && assistState(c, S.me.id);
    const it = st && st.sugg && ((body(st.sugg).items || [])[Number(k.slice(5)) - 1]);
    if (it) { e.preventDefault(); insertSuggestion(it); }
  } else if (k === 'KeyS' && S.selected) {
    e.preventDefault();
    if (!S.assistOpen) { S.assistOpen = true; drawAssist(true); }
    document.getElementById('assist-h')?.focus();
  } else if (k === 'KeyI') { e.preventDefault(); if (S.selected) back(); else (els.list.querySelector('button') || els.offers.querySelector('button'))?.focus(); }
  else if (k === 'ArrowDown' || k === 'ArrowUp') {
    if (!held.length) return;
    e.preventDefault();
    const i = held.findIndex((c) => c.id === S.selected);
    const j = k === 'ArrowDown' ? (i + 1) % held.length : (i <= 0 ? held.length - 1 : i - 1);
    select(held[j].id);
  }
});

boot();
