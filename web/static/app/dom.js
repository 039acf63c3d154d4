// Small DOM helpers shared by the supervisor wall and the admin screens.

/** h builds an element: h('p', {class: 'x', text: 'hi'}, child...). */
export function h(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') n.textContent = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (v === true) n.setAttribute(k, '');
    else if (v !== false && v != null) n.setAttribute(k, v);
  }
  for (const c of kids) if (c != null && c !== false) n.append(c);
  return n;
}

const SVG = 'http://www.w3.org/2000/svg';
/** s builds an SVG element. */
export function s(tag, attrs = {}, ...kids) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') n.textContent = v;
    else if (v != null) n.setAttribute(k, v);
  }
  for (const c of kids) if (c != null) n.append(c);
  return n;
}

/** fmtDur formats a duration in milliseconds as 45s, 3m 05s or 2h 10m. */
export function fmtDur(ms) {
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return `${sec}s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m ${String(sec % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** startOfToday is local midnight, in milliseconds. */
export function startOfToday() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/**
 * say puts text in a polite live region for screen readers: the region is
 * emptied first and filled on the next frame, so the same text said twice is
 * read twice.
 */
export function say(region, text) {
  if (!region) return;
  region.textContent = '';
  requestAnimationFrame(() => { region.textContent = text; });
}

/** ts parses an API time (or returns 0). */
export function ts(v) { return v ? Date.parse(v) : 0; }

/**
 * topBar is the header of the wall and admin pages: brand, the pages the
 * user's role may open, language and sign-out.
 */
export function topBar(T, me, page, lang, languages, onLang, onSignOut) {
  const links = [['inbox', '/app/', T.nav.inbox]];
  if (me.role === 'supervisor' || me.role === 'admin') links.push(['wall', '/app/wall', T.nav.wall], ['quality', '/app/quality', T.qa.nav]);
  if (me.role === 'admin') links.push(['admin', '/app/admin', T.nav.admin]);
  if (me.role === 'supervisor' || me.role === 'admin') links.push(['kb', '/app/kb', T.kb.nav]); // knowledge base
  links.push(['wfm', '/app/wfm', T.wfm.nav]);
  const sel = h('select', { id: 'app-lang', onchange: (e) => onLang(e.target.value) },
    ...languages.map(([v, name]) => h('option', { value: v, text: name, selected: v === lang })));
  return h('header', { class: 'top' },
    h('span', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true', text: '✦' }), ' Starpost'),
    h('nav', { class: 'pages', 'aria-label': T.nav.label },
      ...links.map(([id, href, text]) => h('a', { href, 'aria-current': id === page ? 'page' : false, text }))),
    h('span', { class: 'spacer' }),
    h('span', { class: 'who', text: me.name || me.email }),
    h('span', { class: 'lang' }, h('label', { for: 'app-lang', class: 'sr', text: T.language }), sel),
    h('button', { type: 'button', class: 'ghost', onclick: onSignOut, text: T.signOut }));
}

/** chatCapacity is the user's chat capacity: the default (3) when unset. */
export function chatCapacity(u) {
  const c = u.capacity && u.capacity.chat;
  return c == null ? 3 : c;
}
