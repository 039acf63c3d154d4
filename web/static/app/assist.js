// Agent assist in the workspace: the panel beside the conversation (a
// column on desktop, a collapsible section on tablet and phone) with the
// suggestion engine's top answers (matched passage highlighted, one click
// or Alt+1..3 to insert, helpful / not helpful feedback), the customer's
// emotion and trend, the emotion engine's latest coaching prompt, and the
// agent's abusive-word masking preference; plus the helpers the
// conversation log uses to mask abusive words and the composer uses to
// fill canned-reply placeholders.
import { h } from './dom.js';

/**
 * byteOffsets returns a function that maps the UTF-8 byte offsets the
 * engines send (Go strings) to JavaScript string indices of text; an offset
 * inside a character maps to that character's start.
 */
export function byteOffsets(text) {
  const at = new Map([[0, 0]]);
  let b = 0;
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += ch.length;
    at.set(b, i);
  }
  return (off) => {
    if (at.has(off)) return at.get(off);
    let best = 0;
    for (const [k, v] of at) if (k <= off && v > best) best = v;
    return best;
  };
}

/** marked returns text as nodes with the byte ranges [{start, end}] in <mark>. */
export function marked(text, ranges) {
  const idx = byteOffsets(text);
  const rs = (ranges || []).map((r) => [idx(r.start), idx(r.end)]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out = [];
  let last = 0;
  for (const [a, b] of rs) {
    if (a < last) continue;
    if (a > last) out.push(document.createTextNode(text.slice(last, a)));
    out.push(h('mark', { text: text.slice(a, b) }));
    last = b;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

const MASKED_CUES = new Set(['insult', 'profanity']);

/**
 * maskParts splits a customer message by the emotion event's insult and
 * profanity cues: [{text, masked}], or null when nothing is to be masked.
 * An abusive message without such cues (the model caught it) is masked
 * whole.
 */
export function maskParts(text, emo) {
  if (!emo) return null;
  const cues = (emo.cues || []).filter((c) => MASKED_CUES.has(c.cue));
  if (!cues.length) return emo.abusive ? [{ text, masked: true, whole: true }] : null;
  const idx = byteOffsets(text);
  const parts = [];
  let last = 0;
  for (const c of cues.map((x) => [idx(x.start), idx(x.end)]).sort((x, y) => x[0] - y[0])) {
    if (c[0] < last || c[1] <= c[0]) continue;
    if (c[0] > last) parts.push({ text: text.slice(last, c[0]), masked: false });
    parts.push({ text: text.slice(c[0], c[1]), masked: true });
    last = c[1];
  }
  if (last < text.length) parts.push({ text: text.slice(last), masked: false });
  return parts;
}

/** maskedText renders parts with each masked part as one ＊ per character. */
export function maskedText(parts) {
  return parts.map((p) => (p.masked ? '＊'.repeat([...p.text].length) : p.text)).join('');
}

/** fill replaces {{name}} placeholders with vars[name]; unknown ones stay. */
export function fill(body, vars) {
  return body.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (m, k) => (vars[k] != null && vars[k] !== '' ? vars[k] : m));
}

/**
 * assistState returns, for conversation c's events, the newest suggestion,
 * emotion and coaching events and the agent's feedback verdicts (by
 * "suggestionSeq:id").
 */
export function assistState(c, me) {
  let sugg = null, emo = null, coach = null;
  const verdicts = new Map();
  for (const e of c.events.values()) {
    if (e.kind === 'suggestion' && (!sugg || e.seq > sugg.seq)) sugg = e;
    else if (e.kind === 'emotion' && (!emo || e.seq > emo.seq)) emo = e;
    else if (e.kind === 'coaching' && (!coach || e.seq > coach.seq)) coach = e;
    else if (e.kind === 'suggestion.feedback' && e.actor.id === me) {
      const b = e.body || {};
      verdicts.set(b.suggestion_seq + ':' + b.id, b.helpful);
    }
  }
  return { sugg, emo, coach, verdicts };
}

/** moodText is the customer's emotion and trend as words (never colour only). */
export function moodText(T, emo) {
  if (!emo) return T.assist.moodUnknown;
  const b = emo.body || {};
  const parts = [T.assist.emotions[b.emotion] || b.emotion];
  if (b.trend && b.trend.direction) parts.push(T.assist.trend[b.trend.direction] || b.trend.direction);
  if (b.abusive) parts.push(T.assist.abusive);
  return parts.join(' · ');
}

const ARROWS = { escalating: '↑', steady: '→', calming: '↓' };

/**
 * panel renders the assist panel's body for conversation c.
 * x: {T, lang, me, state, mask, open, message(seq), onInsert(item, n),
 * onFeedback(sugg, item, helpful), onMask(on), onToggle()}.
 */
export function panel(x) {
  const { T, state } = x;
  const { sugg, emo, coach, verdicts } = state;
  const items = sugg ? ((sugg.body || {}).items || []).slice(0, 3) : [];
  const b = emo ? emo.body || {} : {};
  const dir = (b.trend && b.trend.direction) || 'steady';

  const toggle = h('button', { type: 'button', class: 'assist-toggle', 'aria-expanded': String(x.open), 'aria-controls': 'assist-body', onclick: x.onToggle },
    h('span', { 'aria-hidden': 'true', text: x.open ? '▾ ' : '▸ ' }),
    h('span', { class: 'assist-title', text: T.assist.title }),
    h('span', { class: 'assist-sum', text: ' — ' + T.assist.summary(items.length, moodText(T, emo)) }));

  const mood = h('section', { class: 'assist-card mood' + (emo ? ' m-' + (b.emotion || 'neutral') + ' t-' + dir : ''), 'aria-labelledby': 'mood-h' },
    h('h3', { id: 'mood-h', text: T.assist.mood }),
    h('p', { class: 'mood-line' },
      emo ? h('span', { class: 'trend-arrow', 'aria-hidden': 'true', text: ARROWS[dir] || '' }) : null,
      h('strong', { class: 'mood-label', text: moodText(T, emo) })));

  let coachEl = null;
  if (coach) {
    const cb = coach.body || {};
    const tx = (x.lang === 'zh-CN' ? cb.zh : cb.en) || cb.en || cb.zh || {};
    coachEl = h('section', { class: 'assist-card coach', 'aria-labelledby': 'coach-h', 'data-seq': String(coach.seq) },
      h('h3', { id: 'coach-h' }, h('span', { 'aria-hidden': 'true', text: '⚑ ' }), T.assist.coaching + ': ' + (cb.reason === 'abuse' ? T.assist.coachAbuse : T.assist.coachEscalating)),
      h('dl', { class: 'coach-steps' },
        ...[['acknowledge', T.assist.acknowledge], ['apologise', T.assist.apologise], ['next_step', T.assist.nextStep], ['avoid', T.assist.avoid]]
          .filter(([k]) => tx[k]).flatMap(([k, label]) => [h('dt', { class: 'k-' + k, text: label }), h('dd', { class: 'k-' + k, text: tx[k] })])));
  }

  const list = h('ol', { class: 'sugg-list' }, ...items.map((it, i) => {
    const n = i + 1;
    const v = verdicts.get(sugg.seq + ':' + it.id);
    const titleHL = (it.highlights || []).filter((r) => r.field === 'title');
    const snipHL = (it.highlights || []).filter((r) => r.field === 'snippet');
    return h('li', { class: 'sugg', 'data-id': it.id },
      h('p', { class: 'sugg-title' }, h('span', { class: 'badge', text: it.type === 'faq' ? T.assist.faq : T.assist.article }), ' ', h('strong', {}, ...marked(it.title || '', titleHL))),
      it.snippet ? h('p', { class: 'sugg-snippet' }, ...marked(it.snippet, snipHL)) : null,
      h('div', { class: 'sugg-actions' },
        h('button', { type: 'button', class: 'primary small sugg-insert', 'data-fk': 'ins-' + n, 'aria-keyshortcuts': 'Alt+' + n, onclick: () => x.onInsert(it, n) },
          h('kbd', { 'aria-hidden': 'true', text: 'Alt+' + n }), ' ' + T.assist.insert, h('span', { class: 'sr', text: ' — ' + T.assist.insertLabel(n, it.title || '') })),
        h('button', { type: 'button', class: 'small fb-yes', 'data-fk': 'yes-' + n, 'aria-pressed': String(v === true), 'aria-label': T.assist.helpfulLabel(it.title || ''), onclick: () => x.onFeedback(sugg, it, true) },
          h('span', { 'aria-hidden': 'true', text: '✓ ' }), T.assist.helpful),
        h('button', { type: 'button', class: 'small fb-no', 'data-fk': 'no-' + n, 'aria-pressed': String(v === false), 'aria-label': T.assist.notHelpfulLabel(it.title || ''), onclick: () => x.onFeedback(sugg, it, false) },
          h('span', { 'aria-hidden': 'true', text: '✗ ' }), T.assist.notHelpful)));
  }));
  const msg = sugg ? x.message((sugg.body || {}).message_seq) : '';
  const sugEl = h('section', { class: 'assist-card suggestions', 'aria-labelledby': 'sugg-h' },
    h('h3', { id: 'sugg-h', text: T.assist.suggestions }),
    msg ? h('p', { class: 'hint', text: T.assist.forMessage(msg.length > 80 ? msg.slice(0, 80) + '…' : msg) }) : null,
    items.length ? list : h('p', { class: 'empty', text: T.assist.noSuggestions }));

  const maskBox = h('input', { type: 'checkbox', id: 'mask-toggle', 'data-fk': 'mask', checked: x.mask, 'aria-describedby': 'mask-hint', onchange: (e) => x.onMask(e.target.checked) });
  const maskEl = h('div', { class: 'assist-card mask' },
    h('div', { class: 'field check' }, maskBox, h('label', { for: 'mask-toggle', text: T.assist.mask })),
    h('small', { id: 'mask-hint', text: T.assist.maskHint }));

  const bodyEl = h('div', { class: 'assist-body', id: 'assist-body' }, coachEl, mood, sugEl, maskEl);
  return [h('h2', { class: 'sr', id: 'assist-h', tabindex: '-1', text: T.assist.title }), toggle, bodyEl];
}
