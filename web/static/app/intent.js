// Intent tagging in the agent workspace: the agent (or a supervisor) says
// which intent — a published FAQ — a conversation was about. Once the
// conversation is resolved the tag is a training example of the
// workspace's bot (POST /api/v1/conversations/{id}/intent; the server
// learns from the customer's first message). The picker starts at the
// conversation's current tag, else at what the bot detected before it
// handed over. app.js puts the section in the contact panel and renders
// intent.tagged events in the log.
import { h } from './dom.js';

/**
 * intentOf returns the conversation's newest tag and the bot's newest
 * detected intent ('' when none), from the events the workspace holds.
 */
export function intentOf(c) {
  let tag = '', detected = '';
  for (const e of [...c.events.values()].sort((a, b) => a.seq - b.seq)) {
    const b = e.body || {};
    if (e.kind === 'intent.tagged') tag = b.intent || '';
    else if ((e.kind === 'bot.handoff' || e.kind === 'bot.turn') && b.intent) detected = b.intent;
  }
  return { tag, detected };
}

/**
 * intentSection renders the tag picker of conversation c.
 * @param {{T: object, call: Function, c: object, announce: (text: string) => void}} x
 */
export function intentSection({ T, call, c, announce }) {
  const hint = h('p', { class: 'hint', id: 'intent-hint', text: T.bot.tagHint });
  const status = h('p', { class: 'hint', id: 'intent-status', role: 'status' });
  const pick = h('select', { id: 'intent-pick', 'aria-describedby': 'intent-hint', disabled: true },
    h('option', { value: '', text: T.bot.tagNone }));
  const save = h('button', { type: 'submit', class: 'primary small', id: 'intent-save', disabled: true, text: T.bot.tagSave });
  const { tag, detected } = intentOf(c);
  const form = h('form', {
    class: 'intent-tag', 'aria-labelledby': 'intent-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (!pick.value) { status.textContent = T.bot.tagChoose; pick.focus(); return; }
      save.disabled = true;
      try {
        const e = await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/intent`, { intent: pick.value });
        const title = (e.body && e.body.intent_title) || pick.selectedOptions[0].textContent;
        status.textContent = T.bot.tagSaved(title);
        announce(T.bot.tagSaved(title));
      } catch (err) {
        status.textContent = err.message;
      } finally {
        save.disabled = false;
      }
    },
  },
  h('h3', { id: 'intent-h', text: T.bot.tagTitle }), hint,
  h('div', { class: 'row' }, h('label', { for: 'intent-pick', text: T.bot.tagPick }), pick, save), status);
  call('GET', '/api/v1/bot/intents').then((r) => {
    const items = r.items || [];
    if (!items.length) { status.textContent = T.bot.noIntents; return; }
    pick.append(...items.map((it) => h('option', { value: it.id, lang: it.lang === 'zh' ? 'zh-CN' : 'en', text: it.title })));
    const start = tag || detected;
    if (start && items.some((it) => it.id === start)) pick.value = start;
    if (tag) status.textContent = T.bot.tagged(pick.selectedOptions[0].textContent);
    pick.disabled = false;
    save.disabled = false;
  }).catch((err) => { status.textContent = err.message; });
  return form;
}
