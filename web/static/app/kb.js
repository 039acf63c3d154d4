// The knowledge-base screens at /app/kb: articles (Markdown with a live
// preview, version history, restore, edit conflicts), FAQ entries (question
// variants, CSV import and export), synonyms, a test search that shows how
// a customer's question matches, and the workspace's public help centre.
// Admins edit; supervisors read (the API lets them read, not write).
//
// The Markdown preview is built by a small renderer (renderMarkdown) that
// makes DOM nodes with textContent — headings, paragraphs, bold, italic,
// inline and fenced code, lists, quotes, rules and links (http and https
// only) — and never parses HTML: an article's text cannot inject markup or
// script into the admin's page. It is a preview; the help centre renders
// published articles on the server, and each published article links to
// its page there.
import { call, cookie } from './api.js';
import { h, say } from './dom.js';

const SECTIONS = ['articles', 'faqs', 'synonyms', 'search', 'help'];
const API = '/api/v1/kb/';
const MAX_ROWS = 200; // rows of a list drawn at once

export function start(ctx) {
  let T = ctx.T();
  const canEdit = ctx.me.role === 'admin';
  const S = {
    articles: null, faqs: null, synonyms: null,
    filters: { articles: { status: '', lang: '', category: '', text: '' }, faqs: { status: '', lang: '', category: '', text: '' } },
    edit: null, // {kind, id, version, draft, history, viewing, conflict, confirm}
    search: { q: '', items: null },
    report: null, // the last CSV import: {ok, created, updated, errors, message}
  };
  let els = {};
  const fromHash = () => { const x = location.hash.slice(1); return SECTIONS.includes(x) ? x : ''; };
  let section = fromHash() || 'articles';
  const helpURL = `${location.origin}/help/${encodeURIComponent(ctx.me.workspace_id)}/`;

  function render() {
    T = ctx.T();
    document.title = T.kb.title + ' · Starpost';
    els = {};
    els.announce = h('p', { class: 'sr', 'aria-live': 'polite', id: 'announce' });
    els.body = h('div', { class: 'kb-body', id: 'kb-body' });
    const tabs = h('nav', { class: 'adm-nav', 'aria-label': T.kb.sections },
      h('ul', {}, ...SECTIONS.map((x) => h('li', {}, h('a', { href: '#' + x, 'aria-current': x === section ? 'page' : false, 'data-kb': x, text: T.kb.sec[x] })))));
    ctx.root.className = 'page';
    ctx.root.replaceChildren(ctx.topBar('kb'), els.announce,
      h('div', { class: 'page-body' }, h('main', { class: 'admin kb', id: 'kb' },
        h('div', { class: 'kb-head' }, h('h1', { text: T.kb.title }),
          canEdit ? null : h('p', { class: 'hint', id: 'kb-readonly', text: T.kb.readOnly })),
        tabs, els.body)));
    draw();
  }

  function onHash() {
    const x = fromHash();
    if (!x) return;
    section = x;
    // An open editor stays open (with its unsaved text) while another
    // section is visited; its own section shows it again.
    for (const a of document.querySelectorAll('[data-kb]')) a.setAttribute('aria-current', a.dataset.kb === x ? 'page' : 'false');
    draw();
    focusHeading();
  }
  window.addEventListener('hashchange', onHash);

  function announce(text) { say(els.announce, text); }
  function focusHeading() { const x = els.body.querySelector('h2'); if (x) x.focus(); }
  function focusId(id) { const x = document.getElementById(id); if (x) x.focus(); }

  // ---- data ----
  async function loadArticles() { S.articles = (await call('GET', API + 'articles')).items || []; }
  async function loadFAQs() { S.faqs = (await call('GET', API + 'faqs')).items || []; }
  async function loadSynonyms() { S.synonyms = (await call('GET', API + 'synonyms')).sets || []; }
  const loading = new Set();
  // ensure loads the open section's data once, then draws it.
  async function ensure() {
    const need = { articles: [S.articles, loadArticles], faqs: [S.faqs, loadFAQs], synonyms: [S.synonyms, loadSynonyms] }[section];
    if (!need || need[0] || loading.has(section)) return;
    const at = section;
    loading.add(at);
    try {
      await need[1]();
      if (section === at) draw();
    } catch (x) {
      announce(x.message);
    } finally {
      loading.delete(at);
    }
  }

  // draw redraws the open section; the focused control, when it is drawn
  // again, keeps the focus.
  function draw() {
    const f = { articles: drawArticles, faqs: drawFAQs, synonyms: drawSynonyms, search: drawSearch, help: drawHelp }[section];
    const was = document.activeElement && els.body.contains(document.activeElement) ? document.activeElement.id : '';
    els.body.replaceChildren(...f());
    if (was) focusId(was);
    ensure();
  }

  // ---- shared controls ----
  function field(id, label, control, hint) {
    control.id = id;
    if (hint) control.setAttribute('aria-describedby', id + '-hint');
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hint ? h('small', { id: id + '-hint', text: hint }) : null);
  }
  function select(options, value, attrs = {}) {
    return h('select', attrs, ...options.map(([v, t]) => h('option', { value: v, text: t, selected: v === value })));
  }
  const langOptions = () => [['zh', T.kb.langs.zh], ['en', T.kb.langs.en]];
  const statusOptions = () => [['draft', T.kb.status.draft], ['published', T.kb.status.published]];
  const when = (v) => (v ? new Date(v).toLocaleString(ctx.lang()) : '—');
  const categories = (items) => [...new Set((items || []).map((x) => x.category).filter(Boolean))].sort();
  function errorText(x) {
    const label = x.field && T.kb.fields[x.field];
    return label ? `${label}: ${x.message}` : x.message;
  }
  // fail shows an API error in box and moves the focus to the control the
  // error names, or to the box.
  function fail(box, x, controls) {
    box.textContent = errorText(x);
    const c = x.field && controls[x.field];
    if (c) { c.setAttribute('aria-invalid', 'true'); c.focus(); } else box.focus();
  }

  // filters is the filter bar of the articles or FAQs list; it redraws the
  // list in place so the focus stays in the control being used.
  function filters(kind, redraw) {
    const f = S.filters[kind];
    const set = (k) => (e) => { f[k] = e.target.value; redraw(); };
    const p = kind + '-f-';
    return h('form', { class: 'kb-filters', role: 'search', 'aria-label': T.kb.filterLabel(T.kb.sec[kind]), onsubmit: (e) => e.preventDefault() },
      field(p + 'text', T.kb.filterText, h('input', { type: 'search', value: f.text, autocomplete: 'off', oninput: set('text') })),
      field(p + 'status', T.kb.fields.status, select([['', T.kb.any], ...statusOptions()], f.status, { onchange: set('status') })),
      field(p + 'lang', T.kb.fields.lang, select([['', T.kb.any], ...langOptions()], f.lang, { onchange: set('lang') })),
      field(p + 'category', T.kb.fields.category, select([['', T.kb.any], ...categories(S[kind]).map((c) => [c, c])], f.category, { onchange: set('category') })));
  }
  function matches(kind, x) {
    const f = S.filters[kind];
    if ((f.status && x.status !== f.status) || (f.lang && x.lang !== f.lang) || (f.category && x.category !== f.category)) return false;
    if (!f.text.trim()) return true;
    const hay = (kind === 'articles' ? [x.title, x.body, x.category] : [...x.questions, x.answer, x.category]).join('\n').toLowerCase();
    return f.text.trim().toLowerCase().split(/\s+/).every((w) => hay.includes(w));
  }
  // table is a captioned table; cls 'quiet' hides the caption (a heading
  // above says it) from sight, not from screen readers.
  function table(id, caption, heads, rows, cls = '') {
    return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': id },
      h('table', { class: 'grid ' + cls }, h('caption', { id, class: cls.includes('quiet') ? 'sr' : null, text: caption }),
        h('thead', {}, h('tr', {}, ...heads.map((x) => h('th', { scope: 'col', text: x })))),
        h('tbody', {}, ...rows)));
  }
  const badge = (status) => h('span', { class: 'kb-st kb-st-' + status, text: T.kb.status[status] || status });

  // listSection draws a list card: heading, filters, count and table.
  function listSection(kind, newLabel, onNew, rowsOf, heads, extra) {
    const list = h('div', { class: 'kb-list' });
    const count = h('p', { class: 'hint', 'aria-live': 'polite', id: kind + '-count' });
    const redraw = () => {
      if (!S[kind]) { list.replaceChildren(h('p', { class: 'empty', text: T.kb.loading })); return; }
      const found = S[kind].filter((x) => matches(kind, x));
      // A long list shows its first MAX_ROWS; the filters find the rest.
      const shown = found.slice(0, MAX_ROWS);
      count.textContent = T.kb.shown(found.length, S[kind].length) + (found.length > shown.length ? ' ' + T.kb.capped(shown.length) : '');
      list.replaceChildren(shown.length ? table(kind + '-cap', T.kb.sec[kind], heads, shown.map(rowsOf), 'quiet kb-t-' + kind) : h('p', { class: 'empty', text: S[kind].length ? T.kb.noMatch : T.kb.noneYet }));
    };
    redraw();
    return [h('section', { class: 'card kb-card', 'aria-labelledby': kind + '-h' },
      h('div', { class: 'kb-bar' }, h('h2', { id: kind + '-h', tabindex: '-1', text: T.kb.sec[kind] }),
        canEdit ? h('button', { type: 'button', class: 'primary', id: kind + '-new', onclick: onNew, text: '+ ' + newLabel }) : null),
      filters(kind, redraw), count, list), ...(extra || [])];
  }
  const openButton = (text, onclick) => h('button', { type: 'button', class: 'linkish', onclick, text: text || '—' });

  // ---- articles ----
  const articleDraft = (a) => ({ title: a.title, category: a.category, lang: a.lang, status: a.status, body: a.body });
  function openArticle(a) {
    S.edit = a ? { kind: 'article', id: a.id, version: a.version, saved: a, draft: articleDraft(a) }
      : { kind: 'article', id: null, version: 0, saved: null, blank: { title: '', category: '', lang: ctx.lang() === 'zh-CN' ? 'zh' : 'en', status: 'draft', body: '' } };
    if (!a) S.edit.draft = { ...S.edit.blank };
    draw();
    focusId('art-edit-h');
  }
  function drawArticles() {
    if (S.edit && S.edit.kind === 'article') return articleEditor();
    return listSection('articles', T.kb.newArticle, () => openArticle(null), (a) => h('tr', { 'data-article': a.id },
      h('th', { scope: 'row' }, openButton(a.title, () => openArticle(a))),
      h('td', { text: a.category || '—' }), h('td', { text: T.kb.langs[a.lang] || a.lang }), h('td', {}, badge(a.status)),
      h('td', { class: 'num', text: String(a.version) }), h('td', { text: when(a.updated_at) })),
    [T.kb.fields.title, T.kb.fields.category, T.kb.fields.lang, T.kb.fields.status, T.kb.version, T.kb.updated]);
  }

  function articleEditor() {
    const e = S.edit;
    const d = e.draft;
    const ro = !canEdit;
    const keep = (k) => (ev) => { d[k] = ev.target.value; ev.target.removeAttribute('aria-invalid'); };
    const title = h('input', { type: 'text', value: d.title, required: true, maxlength: '200', readonly: ro, autocomplete: 'off', oninput: keep('title') });
    const cat = h('input', { type: 'text', value: d.category, maxlength: '64', readonly: ro, list: 'art-cats', autocomplete: 'off', oninput: keep('category') });
    const lang = select(langOptions(), d.lang, { disabled: ro, onchange: keep('lang') });
    const status = select(statusOptions(), d.status, { disabled: ro, onchange: keep('status') });
    const preview = h('div', { class: 'md-preview', id: 'art-preview' });
    let pending = 0;
    const paint = () => { pending = 0; preview.replaceChildren(renderMarkdown(d.body)); };
    const body = h('textarea', { rows: '16', readonly: ro, spellcheck: 'true', oninput: (ev) => { keep('body')(ev); if (!pending) pending = requestAnimationFrame(paint); } });
    body.value = d.body;
    paint();
    const err = h('p', { class: 'error', role: 'alert', tabindex: '-1', id: 'art-error' });
    const controls = { title, category: cat, lang, status, body };
    const onHelp = e.saved && e.saved.status === 'published';
    const form = h('form', { class: 'kb-editor', 'aria-labelledby': 'art-edit-h', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); if (!ro) saveArticle(err, controls); } },
      h('div', { class: 'kb-bar' },
        h('h2', { id: 'art-edit-h', tabindex: '-1', text: ro ? T.kb.viewArticle : e.id ? T.kb.editArticle(e.version) : T.kb.newArticle }),
        h('button', { type: 'button', class: 'ghost', id: 'art-back', onclick: back, text: '← ' + T.kb.back.articles })),
      conflictBox(e, () => reloadArticle()),
      field('art-title', T.kb.fields.title, title),
      h('div', { class: 'kb-row' }, field('art-category', T.kb.fields.category, cat), field('art-lang', T.kb.fields.lang, lang), field('art-status', T.kb.fields.status, status)),
      h('datalist', { id: 'art-cats' }, ...categories(S.articles).map((c) => h('option', { value: c }))),
      h('div', { class: ro ? 'md-read' : 'md-split' },
        ro ? null : field('art-body', T.kb.fields.body, body, T.kb.markdownHint),
        h('section', { class: 'md-pane', 'aria-labelledby': 'art-preview-h' }, h('h3', { id: 'art-preview-h', text: T.kb.preview }), preview)),
      err,
      h('div', { class: 'kb-actions' },
        ro ? null : h('button', { type: 'submit', class: 'primary', id: 'art-save', text: T.kb.save }),
        e.id ? h('button', { type: 'button', id: 'art-history', 'aria-expanded': String(!!e.history), 'aria-controls': 'art-versions', onclick: toggleHistory, text: T.kb.history }) : null,
        onHelp ? h('a', { class: 'button', href: `/help/${encodeURIComponent(ctx.me.workspace_id)}/articles/${encodeURIComponent(e.id)}`, target: '_blank', rel: 'noopener', text: T.kb.onHelpCentre }) : null,
        e.id && canEdit ? h('button', { type: 'button', class: 'danger', id: 'art-delete', onclick: () => askDelete(), text: T.kb.del }) : null),
      confirmBox(e));
    const out = [h('section', { class: 'card kb-card' }, form)];
    if (e.history) out.push(historyPanel(e));
    return out;
  }

  async function saveArticle(err, controls) {
    const e = S.edit;
    const d = e.draft;
    err.textContent = '';
    const body = { title: d.title.trim(), body: d.body, lang: d.lang, category: d.category.trim(), status: d.status };
    if (!body.title) { fail(err, { field: 'title', message: T.kb.required }, controls); return; }
    if (!body.body.trim()) { fail(err, { field: 'body', message: T.kb.required }, controls); return; }
    const save = document.getElementById('art-save');
    save.disabled = true;
    try {
      const a = e.id ? await call('PATCH', API + 'articles/' + encodeURIComponent(e.id), { ...body, version: e.version })
        : await call('POST', API + 'articles', body);
      Object.assign(e, { id: a.id, version: a.version, saved: a, draft: articleDraft(a), conflict: null, history: e.history ? await versions(a.id) : null });
      await loadArticles();
      draw();
      announce(T.kb.savedArticle(a.title, a.version));
      focusId('art-edit-h');
    } catch (x) {
      save.disabled = false;
      if (x.status === 409) { e.conflict = x.message; draw(); focusId('kb-conflict'); return; }
      fail(err, x, controls);
    }
  }
  async function reloadArticle() {
    const e = S.edit;
    try {
      const a = await call('GET', API + 'articles/' + encodeURIComponent(e.id));
      Object.assign(e, { version: a.version, saved: a, draft: articleDraft(a), conflict: null, history: e.history ? await versions(a.id) : null });
      draw();
      announce(T.kb.reloaded(a.version));
      focusId('art-title');
    } catch (x) {
      if (x.status === 404) { gone(); return; }
      announce(x.message);
    }
  }
  // gone leaves an editor whose item someone else deleted.
  async function gone() {
    S.edit = null;
    S.articles = null; S.faqs = null;
    draw();
    announce(T.kb.goneMsg);
    focusHeading();
  }
  // back leaves the editor for the list, asking first when it holds
  // unsaved changes.
  function back() {
    const e = S.edit;
    const leave = () => { S.edit = null; draw(); focusHeading(); };
    const base = e.saved ? (e.kind === 'article' ? articleDraft(e.saved) : faqDraft(e.saved)) : e.blank;
    if (canEdit && JSON.stringify(base) !== JSON.stringify(e.draft)) {
      e.confirm = { text: T.kb.discard, yes: T.kb.discardYes, returnTo: e.kind === 'article' ? 'art-back' : 'faq-back', run: leave };
      draw();
      focusId('kb-confirm-no');
      return;
    }
    leave();
  }
  function conflictBox(e, reload) {
    if (!e.conflict) return null;
    return h('div', { class: 'kb-conflict', role: 'alert', id: 'kb-conflict', tabindex: '-1' },
      h('p', { text: T.kb.conflict }), h('p', { class: 'hint', text: e.conflict }),
      h('div', { class: 'kb-actions' },
        h('button', { type: 'button', class: 'primary', id: 'kb-reload', onclick: reload, text: T.kb.reload }),
        h('button', { type: 'button', onclick: () => { e.conflict = null; draw(); focusId(e.kind === 'article' ? 'art-body' : 'faq-answer'); }, text: T.kb.keepMine })));
  }

  // confirmBox asks before a destructive step, inline: the focus moves to
  // its safe button; Escape cancels.
  function askDelete() {
    const e = S.edit;
    const name = e.kind === 'article' ? e.draft.title : e.draft.questions[0];
    S.edit.confirm = { text: T.kb.confirmDelete(name), yes: T.kb.del, run: () => remove() };
    draw();
    focusId('kb-confirm-no');
  }
  function confirmBox(e) {
    if (!e.confirm) return null;
    const c = e.confirm;
    const cancel = () => { e.confirm = null; draw(); focusId(c.returnTo || (e.kind === 'article' ? 'art-delete' : 'faq-delete')); };
    return h('div', { class: 'kb-confirm', role: 'alertdialog', 'aria-labelledby': 'kb-confirm-t', 'aria-modal': 'false', onkeydown: (ev) => { if (ev.key === 'Escape') cancel(); } },
      h('p', { id: 'kb-confirm-t', text: c.text }),
      h('div', { class: 'kb-actions' },
        h('button', { type: 'button', class: 'danger', id: 'kb-confirm-yes', onclick: () => { e.confirm = null; c.run(); }, text: c.yes }),
        h('button', { type: 'button', id: 'kb-confirm-no', onclick: cancel, text: T.kb.cancel })));
  }
  async function remove() {
    const e = S.edit;
    const path = API + (e.kind === 'article' ? 'articles/' : 'faqs/') + encodeURIComponent(e.id);
    const name = e.kind === 'article' ? e.draft.title : e.draft.questions[0];
    try {
      await call('DELETE', path);
    } catch (x) {
      if (x.status !== 404) { draw(); announce(x.message); return; }
    }
    S.edit = null;
    if (e.kind === 'article') await loadArticles().catch(() => { S.articles = null; });
    else await loadFAQs().catch(() => { S.faqs = null; });
    draw();
    announce(T.kb.deleted(name));
    focusId((e.kind === 'article' ? 'articles' : 'faqs') + '-new');
  }

  // ---- version history ----
  async function versions(id) { return (await call('GET', API + 'articles/' + encodeURIComponent(id) + '/versions')).items || []; }
  async function toggleHistory() {
    const e = S.edit;
    if (e.history) { e.history = null; e.viewing = null; draw(); focusId('art-history'); return; }
    try {
      e.history = await versions(e.id);
      draw();
      focusId('art-versions-h');
    } catch (x) { announce(x.message); }
  }
  function historyPanel(e) {
    const rows = e.history.map((v) => h('tr', { 'data-version': String(v.version), class: e.viewing && e.viewing.version === v.version ? 'sel' : null },
      h('th', { scope: 'row', text: 'v' + v.version + (v.version === e.version ? ' · ' + T.kb.current : '') }),
      h('td', { text: v.title }), h('td', {}, badge(v.status)), h('td', { text: v.edited_by || '—' }), h('td', { text: when(v.edited_at) }),
      h('td', { class: 'act' },
        h('button', { type: 'button', class: 'small', 'aria-label': T.kb.viewVersion(v.version), onclick: () => { e.viewing = v; draw(); focusId('art-old-h'); }, text: T.kb.view }),
        canEdit && v.version !== e.version ? h('button', { type: 'button', class: 'small', id: 'restore-' + v.version, 'aria-label': T.kb.restoreVersion(v.version),
          onclick: () => { e.confirm = { text: T.kb.confirmRestore(v.version), yes: T.kb.restore, returnTo: 'restore-' + v.version, run: () => restore(v) }; draw(); focusId('kb-confirm-no'); }, text: T.kb.restore }) : null)));
    const out = h('section', { class: 'card kb-card', id: 'art-versions', 'aria-labelledby': 'art-versions-h' },
      h('h2', { id: 'art-versions-h', tabindex: '-1', text: T.kb.history }),
      table('art-versions-cap', T.kb.versionsOf(e.draft.title), [T.kb.version, T.kb.fields.title, T.kb.fields.status, T.kb.editedBy, T.kb.updated, ''], rows));
    if (e.viewing) {
      const v = e.viewing;
      out.append(h('article', { class: 'kb-old', 'aria-labelledby': 'art-old-h' },
        h('h3', { id: 'art-old-h', tabindex: '-1', text: T.kb.versionN(v.version) + ' — ' + v.title }),
        h('p', { class: 'hint', text: `${T.kb.langs[v.lang] || v.lang} · ${v.category || '—'} · ${T.kb.status[v.status] || v.status} · ${when(v.edited_at)}` }),
        h('div', { class: 'md-preview' }, renderMarkdown(v.body))));
    }
    return out;
  }
  // restore makes the old version's title, body, language and category the
  // article's newest version; the current status stays.
  async function restore(v) {
    const e = S.edit;
    try {
      const a = await call('PATCH', API + 'articles/' + encodeURIComponent(e.id), { title: v.title, body: v.body, lang: v.lang, category: v.category, version: e.version });
      Object.assign(e, { version: a.version, saved: a, draft: articleDraft(a), conflict: null, viewing: null, history: await versions(a.id) });
      await loadArticles();
      draw();
      announce(T.kb.restored(v.version, a.version));
      focusId('art-edit-h');
    } catch (x) {
      if (x.status === 409) { e.conflict = x.message; draw(); focusId('kb-conflict'); return; }
      draw();
      announce(errorText(x));
    }
  }

  // ---- FAQs ----
  const faqDraft = (f) => ({ questions: [...f.questions], answer: f.answer, lang: f.lang, category: f.category, status: f.status });
  function openFAQ(f) {
    S.edit = f ? { kind: 'faq', id: f.id, version: f.version, saved: f, draft: faqDraft(f) }
      : { kind: 'faq', id: null, version: 0, saved: null, blank: { questions: ['', ''], answer: '', lang: ctx.lang() === 'zh-CN' ? 'zh' : 'en', category: '', status: 'published' } };
    if (!f) S.edit.draft = { ...S.edit.blank, questions: ['', ''] };
    draw();
    focusId('faq-edit-h');
  }
  function drawFAQs() {
    if (S.edit && S.edit.kind === 'faq') return faqEditor();
    return listSection('faqs', T.kb.newFAQ, () => openFAQ(null), (f) => h('tr', { 'data-faq': f.id },
      h('th', { scope: 'row' }, openButton(f.questions[0], () => openFAQ(f)), f.questions.length > 1 ? h('small', { class: 'hint', text: ' ' + T.kb.moreVariants(f.questions.length - 1) }) : null),
      h('td', { class: 'kb-answer' }, h('div', { text: f.answer })), h('td', { text: f.category || '—' }), h('td', { text: T.kb.langs[f.lang] || f.lang }), h('td', {}, badge(f.status))),
    [T.kb.question, T.kb.fields.answer, T.kb.fields.category, T.kb.fields.lang, T.kb.fields.status], [csvCard()]);
  }

  function faqEditor() {
    const e = S.edit;
    const d = e.draft;
    const ro = !canEdit;
    const keep = (k) => (ev) => { d[k] = ev.target.value; ev.target.removeAttribute('aria-invalid'); };
    const variants = h('ol', { class: 'kb-variants' });
    const addBtn = ro ? null : h('button', { type: 'button', class: 'small', id: 'faq-add-variant', onclick: () => { d.questions.push(''); paintVariants(); focusId('faq-q-' + (d.questions.length - 1)); }, text: '+ ' + T.kb.addVariant });
    const paintVariants = () => {
      variants.replaceChildren(...d.questions.map((q, i) => {
        const inp = h('input', { type: 'text', class: 'faq-q', value: q, maxlength: '500', readonly: ro, autocomplete: 'off', oninput: (ev) => { d.questions[i] = ev.target.value; ev.target.removeAttribute('aria-invalid'); } });
        return h('li', {}, field('faq-q-' + i, T.kb.variantN(i + 1), inp),
          ro ? null : h('button', { type: 'button', class: 'small ghost', 'aria-label': T.kb.removeVariantN(i + 1), disabled: d.questions.length < 2, onclick: () => {
            d.questions.splice(i, 1);
            paintVariants();
            focusId('faq-q-' + Math.min(i, d.questions.length - 1));
            announce(T.kb.variantRemoved);
          }, text: T.kb.remove }));
      }));
    };
    paintVariants();
    const answer = h('textarea', { rows: '6', readonly: ro, oninput: keep('answer') });
    answer.value = d.answer;
    const cat = h('input', { type: 'text', value: d.category, maxlength: '64', readonly: ro, list: 'faq-cats', autocomplete: 'off', oninput: keep('category') });
    const lang = select(langOptions(), d.lang, { disabled: ro, onchange: keep('lang') });
    const status = select(statusOptions(), d.status, { disabled: ro, onchange: keep('status') });
    const err = h('p', { class: 'error', role: 'alert', tabindex: '-1', id: 'faq-error' });
    const controls = { answer, category: cat, lang, status, get questions() { return document.getElementById('faq-q-0'); } };
    const form = h('form', { class: 'kb-editor', 'aria-labelledby': 'faq-edit-h', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); if (!ro) saveFAQ(err, controls); } },
      h('div', { class: 'kb-bar' },
        h('h2', { id: 'faq-edit-h', tabindex: '-1', text: ro ? T.kb.viewFAQ : e.id ? T.kb.editFAQ : T.kb.newFAQ }),
        h('button', { type: 'button', class: 'ghost', id: 'faq-back', onclick: back, text: '← ' + T.kb.back.faqs })),
      conflictBox(e, () => reloadFAQ()),
      h('fieldset', { class: 'kb-qs' }, h('legend', { text: T.kb.fields.questions }), h('small', { text: T.kb.variantsHint }), variants, addBtn),
      field('faq-answer', T.kb.fields.answer, answer),
      h('div', { class: 'kb-row' }, field('faq-category', T.kb.fields.category, cat), field('faq-lang', T.kb.fields.lang, lang), field('faq-status', T.kb.fields.status, status)),
      h('datalist', { id: 'faq-cats' }, ...categories(S.faqs).map((c) => h('option', { value: c }))),
      err,
      h('div', { class: 'kb-actions' },
        ro ? null : h('button', { type: 'submit', class: 'primary', id: 'faq-save', text: T.kb.save }),
        e.id && canEdit ? h('button', { type: 'button', class: 'danger', id: 'faq-delete', onclick: () => askDelete(), text: T.kb.del }) : null),
      confirmBox(e));
    return [h('section', { class: 'card kb-card' }, form)];
  }

  async function saveFAQ(err, controls) {
    const e = S.edit;
    const d = e.draft;
    err.textContent = '';
    const questions = d.questions.map((q) => q.trim()).filter(Boolean);
    if (!questions.length) { fail(err, { field: 'questions', message: T.kb.required }, controls); return; }
    if (!d.answer.trim()) { fail(err, { field: 'answer', message: T.kb.required }, controls); return; }
    const body = { questions, answer: d.answer.trim(), lang: d.lang, category: d.category.trim(), status: d.status };
    const save = document.getElementById('faq-save');
    save.disabled = true;
    try {
      const f = e.id ? await call('PATCH', API + 'faqs/' + encodeURIComponent(e.id), { ...body, version: e.version })
        : await call('POST', API + 'faqs', body);
      Object.assign(e, { id: f.id, version: f.version, saved: f, draft: faqDraft(f), conflict: null });
      await loadFAQs();
      draw();
      announce(T.kb.savedFAQ(f.questions[0]));
      focusId('faq-edit-h');
    } catch (x) {
      save.disabled = false;
      if (x.status === 409) { e.conflict = x.message; draw(); focusId('kb-conflict'); return; }
      fail(err, x, controls);
    }
  }
  async function reloadFAQ() {
    const e = S.edit;
    try {
      const f = await call('GET', API + 'faqs/' + encodeURIComponent(e.id));
      Object.assign(e, { version: f.version, saved: f, draft: faqDraft(f), conflict: null });
      draw();
      announce(T.kb.reloaded(f.version));
      focusId('faq-q-0');
    } catch (x) {
      if (x.status === 404) { gone(); return; }
      announce(x.message);
    }
  }

  // ---- CSV import and export ----
  function csvCard() {
    const file = h('input', { type: 'file', accept: '.csv,text/csv' });
    const err = h('p', { class: 'error', role: 'alert', tabindex: '-1', id: 'csv-error' });
    const btn = h('button', { type: 'submit', class: 'primary', id: 'csv-import', text: T.kb.importBtn });
    const form = canEdit ? h('form', { class: 'kb-import', 'aria-labelledby': 'csv-h', onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      if (!file.files.length) { err.textContent = T.kb.chooseFile; file.focus(); return; }
      btn.disabled = true;
      try {
        S.report = await importCSV(await file.files[0].text());
        if (S.report.ok) await loadFAQs();
        draw();
        focusId('csv-report-h');
      } catch (x) {
        btn.disabled = false;
        err.textContent = errorText(x);
        err.focus();
      }
    } }, field('csv-file', T.kb.csvFile, file, T.kb.csvHint), err, btn) : null;
    return h('section', { class: 'card kb-card', 'aria-labelledby': 'csv-h' },
      h('h2', { id: 'csv-h', text: T.kb.csv }),
      h('p', {}, h('a', { class: 'button', id: 'csv-export', href: API + 'faqs/export', download: 'faqs.csv', text: '↓ ' + T.kb.exportBtn })),
      form, S.report ? reportBox(S.report) : null);
  }
  // importCSV posts the file; a refused import answers 400 with every bad
  // row, which is a report too, not a failure of the request.
  async function importCSV(text) {
    let r;
    try {
      r = await fetch(API + 'faqs/import', { method: 'POST', credentials: 'same-origin', body: text,
        headers: { 'Content-Type': 'text/csv; charset=utf-8', Accept: 'application/json', 'X-CSRF-Token': cookie('starpost_csrf') } });
    } catch (_) {
      throw Object.assign(new Error(T.kb.network), { field: '' });
    }
    const data = await r.json().catch(() => null);
    if (r.ok) return { ok: true, created: data.created, updated: data.updated, errors: [] };
    const msg = (data && data.error && data.error.message) || `HTTP ${r.status}`;
    if (data && Array.isArray(data.errors) && data.errors.length) return { ok: false, created: 0, updated: 0, errors: data.errors, message: msg };
    return { ok: false, created: 0, updated: 0, errors: [], message: msg };
  }
  function reportBox(rep) {
    const kids = [h('h3', { id: 'csv-report-h', tabindex: '-1', text: rep.ok ? T.kb.imported : T.kb.importRefused })];
    if (rep.ok) kids.push(h('p', { id: 'csv-counts', text: T.kb.importCounts(rep.created, rep.updated) }));
    else {
      kids.push(h('p', { text: T.kb.nothingImported }));
      if (rep.errors.length) {
        kids.push(table('csv-errors-cap', T.kb.refusedRows(rep.errors.length), [T.kb.line, T.kb.row, T.kb.field, T.kb.problem],
          rep.errors.map((x) => h('tr', { 'data-line': String(x.line) }, h('th', { scope: 'row', class: 'num', text: String(x.line) }), h('td', { class: 'num', text: String(x.row) }),
            h('td', { text: T.kb.fields[x.field] || x.field }), h('td', { text: x.message })))));
      } else kids.push(h('p', { class: 'error', text: rep.message }));
    }
    return h('div', { class: 'kb-report ' + (rep.ok ? 'ok' : 'bad'), id: 'csv-report', role: 'region', 'aria-labelledby': 'csv-report-h' }, ...kids);
  }

  // ---- synonyms ----
  const setsText = (sets) => sets.map((s) => s.join(', ')).join('\n');
  function drawSynonyms() {
    const ta = h('textarea', { rows: '12', readonly: !canEdit, spellcheck: 'false' });
    ta.value = S.synonyms ? setsText(S.synonyms) : '';
    const err = h('p', { class: 'error', role: 'alert', tabindex: '-1', id: 'syn-error' });
    const btn = canEdit ? h('button', { type: 'submit', class: 'primary', id: 'syn-save', text: T.kb.save }) : null;
    return [h('form', { class: 'card kb-card kb-syn', 'aria-labelledby': 'synonyms-h', onsubmit: async (ev) => {
      ev.preventDefault();
      if (!canEdit) return;
      err.textContent = '';
      const sets = ta.value.split('\n').map((l) => l.split(/[,，、;；]/).map((x) => x.trim()).filter(Boolean)).filter((s) => s.length);
      btn.disabled = true;
      try {
        S.synonyms = (await call('PUT', API + 'synonyms', { sets })).sets || [];
        draw();
        announce(T.kb.savedSynonyms(S.synonyms.length));
        focusId('syn-text');
      } catch (x) {
        btn.disabled = false;
        fail(err, x, { sets: ta, synonyms: ta });
      }
    } },
    h('h2', { id: 'synonyms-h', tabindex: '-1', text: T.kb.sec.synonyms }),
    S.synonyms ? field('syn-text', T.kb.synonymSets, ta, T.kb.synonymsHint) : h('p', { class: 'empty', text: T.kb.loading }),
    err, btn)];
  }

  // ---- test search ----
  function drawSearch() {
    const q = h('input', { type: 'search', value: S.search.q, required: true, maxlength: '1000', autocomplete: 'off' });
    const out = h('div', { id: 'kb-results' });
    const err = h('p', { class: 'error', role: 'alert', id: 'search-error' });
    const paint = () => {
      const items = S.search.items;
      if (!items) return;
      out.replaceChildren(items.length ? h('ol', { class: 'kb-results', 'aria-label': T.kb.resultsFor(S.search.q) }, ...items.map(resultItem))
        : h('p', { class: 'empty', text: T.kb.noResults }));
    };
    paint();
    return [h('section', { class: 'card kb-card', 'aria-labelledby': 'search-h' },
      h('h2', { id: 'search-h', tabindex: '-1', text: T.kb.sec.search }),
      h('p', { class: 'hint', text: T.kb.searchIntro }),
      h('form', { class: 'kb-search', role: 'search', 'aria-label': T.kb.sec.search, onsubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = '';
        const text = q.value.trim();
        if (!text) { err.textContent = T.kb.required; q.focus(); return; }
        try {
          const r = await call('GET', API + 'search?limit=10&q=' + encodeURIComponent(text));
          S.search = { q: text, items: r.items || [] };
          paint();
          announce(T.kb.resultCount(S.search.items.length));
        } catch (x) {
          err.textContent = errorText(x);
        }
      } }, field('kb-q', T.kb.customerQuestion, q), h('button', { type: 'submit', class: 'primary', text: T.kb.searchBtn })),
      err, out)];
  }
  function resultItem(r) {
    const hl = (fieldName) => r.highlights.filter((x) => x.field === fieldName);
    return h('li', { class: 'kb-result', 'data-id': r.id },
      h('p', { class: 'kb-r-head' }, h('span', { class: 'kb-type', text: T.kb.types[r.type] || r.type }),
        h('strong', { class: 'kb-r-title' }, highlighted(r.title, hl('title'))),
        h('span', { class: 'hint', text: ' ' + T.kb.score(r.score) })),
      r.snippet ? h('p', { class: 'kb-r-snippet' }, highlighted(r.snippet, hl('snippet'))) : null,
      r.type === 'faq' && r.answer ? h('p', { class: 'kb-r-answer' }, h('span', { class: 'hint', text: T.kb.fields.answer + ': ' }), r.answer) : null);
  }

  // ---- help centre ----
  function drawHelp() {
    const code = h('code', { id: 'help-url', text: helpURL });
    const copy = h('button', { type: 'button', class: 'small', id: 'help-copy', text: T.kb.copy, onclick: async () => {
      try { await navigator.clipboard.writeText(helpURL); announce(T.kb.copied); copy.textContent = T.kb.copied; } catch (_) {
        const r = document.createRange(); r.selectNodeContents(code); const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);
        announce(T.kb.copyManually);
      }
    } });
    return [h('section', { class: 'card kb-card', 'aria-labelledby': 'help-h' },
      h('h2', { id: 'help-h', tabindex: '-1', text: T.kb.sec.help }),
      h('p', { text: T.kb.helpIntro }),
      h('pre', { class: 'snippet', tabindex: '0' }, code),
      h('div', { class: 'kb-actions' }, copy,
        h('a', { class: 'button', id: 'help-open', href: helpURL, target: '_blank', rel: 'noopener', text: T.kb.openHelp + ' ↗' })))];
  }

  render();
  return { render };
}

/**
 * highlighted returns text with the byte ranges [start, end) of the UTF-8
 * encoding of text (as the search API reports them) wrapped in <mark>.
 * Ranges that overlap, fall outside the text or split a character are
 * skipped. It builds text nodes only.
 */
export function highlighted(text, spans) {
  const b = new TextEncoder().encode(text);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const s of [...spans].sort((x, y) => x.start - y.start)) {
    if (s.start < at || s.end > b.length || s.start >= s.end) continue;
    let before, mid;
    try {
      before = dec.decode(b.subarray(at, s.start));
      mid = dec.decode(b.subarray(s.start, s.end));
    } catch (_) { continue; }
    if (before) frag.append(before);
    frag.append(h('mark', { text: mid }));
    at = s.end;
  }
  frag.append(new TextDecoder().decode(b.subarray(at)));
  return frag;
}

/** safeHref returns an absolute http(s) URL, or '' for anything else. */
export function safeHref(u) {
  try {
    const x = new URL(u);
    return x.protocol === 'http:' || x.protocol === 'https:' ? x.href : '';
  } catch (_) {
    return '';
  }
}

const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__|\*(?=[^\s*])([\s\S]*?[^\s*])\*|\b_(?=[^\s_])([\s\S]*?[^\s_])_\b|\[([^\]]+)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))+)>?(?:\s+"[^"]*")?\s*\)|(https?:\/\/[^\s<]*[^\s<.,;:!?)\]'"。，；：！？）])/g;

// inline appends the inline Markdown of text to parent as DOM nodes.
function inline(text, parent) {
  const re = new RegExp(INLINE.source, 'g');
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[1]) parent.append(h('code', { text: m[2] }));
    else if (m[3] !== undefined || m[4] !== undefined) inline(m[3] ?? m[4], parent.appendChild(h('strong')));
    else if (m[5] !== undefined || m[6] !== undefined) inline(m[5] ?? m[6], parent.appendChild(h('em')));
    else if (m[7] !== undefined) {
      const href = safeHref(m[8]);
      inline(m[7], parent.appendChild(href ? h('a', { href, rel: 'noopener noreferrer nofollow', target: '_blank' }) : h('span')));
    } else {
      const href = safeHref(m[9]);
      parent.append(href ? h('a', { href, rel: 'noopener noreferrer nofollow', target: '_blank', text: m[9] }) : m[9]);
    }
  }
  if (last < text.length) parent.append(text.slice(last));
}

const BLOCK = /^(?:\s{0,3}(?:#{1,6}\s|>|```|~~~|[-*+]\s|\d{1,9}[.)]\s)|\s{0,3}([-*_])(?:\s*\1){2,}\s*$)/;

/**
 * renderMarkdown renders a safe subset of Markdown as DOM nodes: ATX
 * headings (shifted below the page's own: # becomes h3), paragraphs, bold,
 * italic, inline and fenced code, bullet and numbered lists, block quotes,
 * rules, and links whose target is an absolute http or https URL (others
 * show as text). Raw HTML shows as text. It never assigns innerHTML.
 */
export function renderMarkdown(src) {
  const out = document.createDocumentFragment();
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) { i++; continue; }
    if ((m = /^\s{0,3}(```|~~~)/.exec(line))) {
      const fence = m[1];
      const buf = [];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence); i++) buf.push(lines[i]);
      i++;
      out.append(h('pre', {}, h('code', { text: buf.join('\n') })));
      continue;
    }
    if ((m = /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/.exec(line))) {
      inline(m[2], out.appendChild(h('h' + Math.min(6, m[1].length + 2))));
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/.test(line)) { out.append(h('hr')); i++; continue; }
    if (/^\s{0,3}>/.test(line)) {
      const buf = [];
      for (; i < lines.length && /^\s{0,3}>/.test(lines[i]); i++) buf.push(lines[i].replace(/^\s{0,3}>\s?/, ''));
      out.append(h('blockquote', {}, renderMarkdown(buf.join('\n'))));
      continue;
    }
    const bullet = /^\s{0,3}[-*+]\s+(.*)$/;
    const numbered = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
    if (bullet.test(line) || numbered.test(line)) {
      const ordered = !bullet.test(line);
      const re = ordered ? numbered : bullet;
      const list = ordered ? h('ol', { start: String(Number(numbered.exec(line)[1])) }) : h('ul');
      let li = null;
      for (; i < lines.length; i++) {
        const x = re.exec(lines[i]);
        if (x) { li = list.appendChild(h('li')); inline(ordered ? x[2] : x[1], li); continue; }
        // An indented line continues the item; anything else ends the list.
        if (li && /^\s{2,}\S/.test(lines[i])) { li.append(' '); inline(lines[i].trim(), li); continue; }
        break;
      }
      out.append(list);
      continue;
    }
    const buf = [];
    for (; i < lines.length && lines[i].trim() && (!buf.length || !BLOCK.test(lines[i])); i++) buf.push(lines[i].trim());
    inline(buf.join('\n'), out.appendChild(h('p')));
  }
  return out;
}
