// The events calendar of the workforce planner: sales, festivals and
// launches (11.11, 618, a product launch) that change a queue's demand,
// one row per day, for the selected queue or for every queue. Forecasts
// learn each kind's uplift from its past days in the queue's history and
// apply it to the planned ones, so a planner puts last year's festival
// days and this year's on the calendar and sees the festival week's
// forecast and staffing. wfm.js places the section in the planner view.
import { h } from './dom.js';

/**
 * calendarSection renders the calendar card of queue queueID.
 * @param {{T: object, call: Function, queueID: string, queueName: string,
 *   act: (btn: HTMLElement, fn: () => Promise<any>, done: string) => Promise<void>}} x
 *   act runs a change, announces done and reloads the planner.
 */
export function calendarSection({ T, call, queueID, queueName, act }) {
  const list = h('ul', { class: 'wfm-list wfm-events', 'aria-busy': 'true' });
  const day = h('input', { id: 'wfm-ev-day', type: 'date', required: true });
  const kind = h('input', { id: 'wfm-ev-kind', type: 'text', required: true, maxlength: '40', list: 'wfm-ev-kinds', autocomplete: 'off' });
  const kinds = h('datalist', { id: 'wfm-ev-kinds' }, ...['11.11', '618', 'launch'].map((k) => h('option', { value: k })));
  const scope = h('select', { id: 'wfm-ev-scope' },
    h('option', { value: queueID, text: T.wfm.calThisQueue(queueName) }), h('option', { value: '', text: T.wfm.calAllQueues }));
  const btn = h('button', { type: 'submit', class: 'small', text: T.wfm.calAdd });
  const form = h('form', { class: 'wfm-controls', 'aria-labelledby': 'wfm-evh' },
    h('label', { for: 'wfm-ev-day', text: T.wfm.calDay }), day,
    h('label', { for: 'wfm-ev-kind', text: T.wfm.calKind }), kind, kinds,
    h('label', { for: 'wfm-ev-scope', text: T.wfm.calScope }), scope, btn);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(btn, () => call('POST', '/api/v1/wfm/events', { queue_id: scope.value, day: day.value, kind: kind.value.trim() }),
      T.wfm.calAdded(kind.value.trim(), day.value));
  });
  call('GET', '/api/v1/wfm/events?queue_id=' + encodeURIComponent(queueID)).then((r) => {
    const items = r.items || [];
    const seen = new Set(['11.11', '618', 'launch']);
    for (const it of items) if (!seen.has(it.kind)) { seen.add(it.kind); kinds.append(h('option', { value: it.kind })); }
    list.removeAttribute('aria-busy');
    if (!items.length) { list.replaceWith(h('p', { class: 'empty', text: T.wfm.calNone })); return; }
    list.replaceChildren(...items.map((it) => {
      const del = h('button', { type: 'button', class: 'small', 'aria-label': T.wfm.calRemoveLabel(it.kind, it.day), text: T.wfm.calRemove });
      del.addEventListener('click', () => act(del, () => call('DELETE', '/api/v1/wfm/events/' + encodeURIComponent(it.id)), T.wfm.calRemoved(it.kind, it.day)));
      return h('li', { 'data-event': it.id }, h('span', { text: `${it.day} · ${it.kind}` }),
        h('span', { class: 'meta', text: it.queue_id ? queueName : T.wfm.calAllQueues }), del);
    }));
  }).catch((err) => { list.replaceWith(h('p', { class: 'error', text: err.message })); });
  return h('section', { class: 'card', 'aria-labelledby': 'wfm-evh' }, h('h2', { id: 'wfm-evh', text: T.wfm.calTitle }),
    h('p', { class: 'hint', text: T.wfm.calHint }), list, form);
}
