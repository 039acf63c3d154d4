// The bot's handoff card in the conversation log: when the bot hands a
// conversation over (a bot.handoff event), the agent sees why, what the bot
// understood and how sure it was, and the bot's transcript. app.js calls
// handoffCard from its event renderer; everything else lives here.

let styled = false;

// style links the card's stylesheet (handoff.css, beside this module) once.
function style() {
  if (styled) return;
  styled = true;
  document.head.append(el('link', { rel: 'stylesheet', href: new URL('./handoff.css', import.meta.url).href }));
}

function el(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') n.textContent = v;
    else if (v != null && v !== false) n.setAttribute(k, v);
  }
  for (const c of kids) if (c != null) n.append(c);
  return n;
}

/**
 * handoffCard renders a bot.handoff event as a log item.
 * @param {object} e the event
 * @param {object} T the dictionaries of the current language (T.bot)
 * @param {(at: string) => Node} time renders the event time
 */
export function handoffCard(e, T, time) {
  style();
  const b = e.body || {};
  const S = T.bot;
  const pct = Math.round((Number(b.confidence) || 0) * 100);
  const intent = b.intent_title || b.intent || S.none;
  const lines = Array.isArray(b.transcript) ? b.transcript : [];
  const id = `handoff-${e.seq}`;
  const transcript = lines.length ? el('details', {},
    el('summary', { text: `${S.transcript} (${S.turns(b.turns || 0)})` }),
    el('ol', {}, ...lines.map((l) => el('li', {}, el('strong', { text: (l.role === 'bot' ? S.bot : S.customer) + ': ' }), l.text || '')))) : null;
  return el('li', { class: 'msg handoff', 'data-seq': String(e.seq) }, el('section', { 'aria-labelledby': id },
    el('h3', { id }, S.handoff + ' · ', time(e.at)),
    el('dl', {},
      el('dt', { text: S.reason }), el('dd', { class: 'handoff-reason', text: (S.reasons && S.reasons[b.reason]) || b.reason || '' }),
      el('dt', { text: S.intent }), el('dd', { class: 'handoff-intent', text: intent }),
      el('dt', { text: S.confidence }), el('dd', {},
        el('meter', { min: '0', max: '100', value: String(pct), 'aria-label': S.confidence }), ' ',
        el('span', { class: 'handoff-confidence', text: `${pct}%` }))),
    transcript));
}
