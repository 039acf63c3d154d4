// The widget feature's agent side: attachments in messages and an attach
// button in the composer, read receipts both ways, and the customer's
// satisfaction rating. app.js calls these hooks; everything else stays here.
//
//   setup(() => T)            once, with a getter of the current dictionary
//   attachmentList(e)         element listing a message event's files, or null
//   csatItem(e, time)         <li> for a "csat" event
//   drawReceipt(log, c)       "Seen" under the agent's last message the customer read
//   sendRead(c, seq)          store the agent's read receipt (agent holding c only)
//   attachButton(getConv, getMode)  the composer's attach button, file input, progress line, and
//                             wire(form) to take pasted or dropped files; in 'note' mode the
//                             files go into an internal note, never to the customer
import { call, newKey, APIError } from './api.js';
import { h, s as svg } from './dom.js';

// Icons (Material Design, Apache 2.0): paper clip, document.
const CLIP = 'M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5z';
const DOC = 'M14 2H6c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z';
const icon = (d) => svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', class: 'att-icon' }, svg('path', { d }));

let getT = () => ({});
const A = () => getT().att;

/** setup remembers how to read the current strings and loads the styles. */
export function setup(t) {
  getT = t;
  if (!document.querySelector('link[data-att]')) {
    document.head.append(h('link', { rel: 'stylesheet', href: '/app/attachments.css', 'data-att': '' }));
  }
}

const fmtSize = (n) => n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
const fileURL = (conv, id, thumb) => `/api/v1/conversations/${encodeURIComponent(conv)}/attachments/${encodeURIComponent(id)}${thumb ? '?thumb=1' : ''}`;

/**
 * attachmentList returns the files of a message event: thumbnails of
 * images and named links of other files, each opening the file in a new
 * tab (the server serves non-images as downloads, sandboxed). Null when
 * the message has none.
 */
export function attachmentList(e) {
  const atts = (e.body && e.body.attachments) || [];
  if (!atts.length) return null;
  const ul = h('ul', { class: 'atts', 'aria-label': A().files(atts.length) });
  for (const a of atts) {
    const href = fileURL(e.conversation_id, a.id, false);
    let link;
    if (a.thumbnail) {
      const k = Math.min(1, 240 / Math.max(a.width || 1, a.height || 1));
      link = h('a', { href, target: '_blank', rel: 'noopener', class: 'att-img' },
        h('img', { src: fileURL(e.conversation_id, a.id, true), alt: A().image(a.name), loading: 'lazy',
          width: String(Math.max(1, Math.round((a.width || 160) * k))), height: String(Math.max(1, Math.round((a.height || 120) * k))) }));
    } else {
      link = h('a', { href, target: '_blank', rel: 'noopener', class: 'att-file', download: a.name },
        icon(DOC), a.name, h('span', { class: 'size', text: ' · ' + fmtSize(a.size || 0) }));
    }
    ul.append(h('li', {}, link));
  }
  return ul;
}

/** csatItem shows the customer's rating (a "csat" event) in the log. */
export function csatItem(e, time) {
  const b = e.body || {};
  const n = Math.max(0, Math.min(5, Number(b.score) || 0));
  return h('li', { class: 'msg csat', 'data-seq': String(e.seq) },
    h('span', { class: 'who' }, A().csatTitle + ' · ', time(e.at)),
    h('span', { class: 'stars', 'aria-hidden': 'true', text: '★'.repeat(n) + '☆'.repeat(5 - n) }),
    h('span', { class: 'sr', text: A().csat(n) }),
    b.comment ? h('span', { class: 'text', text: b.comment }) : null);
}

/**
 * drawReceipt marks the agent's messages the customer has read: "Seen"
 * under the last of the agent's messages at or below the customer's
 * highest read receipt in conversation c.
 */
export function drawReceipt(log, c) {
  if (!log || !c) return;
  let read = 0;
  for (const e of c.events.values()) if (e.kind === 'read' && e.actor.role === 'customer' && e.body && e.body.seq > read) read = e.body.seq;
  for (const r of log.querySelectorAll('.receipt')) r.remove();
  if (!read) return;
  const mine = [...log.querySelectorAll('li.msg.me[data-seq]')].filter((li) => Number(li.dataset.seq) <= read);
  const last = mine[mine.length - 1];
  if (last) last.append(h('span', { class: 'receipt', text: A().seen }));
}

/** sendRead stores the agent's read receipt up to seq (once per seq). */
export function sendRead(c, seq) {
  if (!c || !c.mine || !seq || (c.readSent || 0) >= seq) return;
  c.readSent = seq;
  call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/read`, { seq }).catch(() => { c.readSent = 0; });
}

function cookie(name) {
  const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : '';
}

/**
 * attachButton returns the composer's attach button and its hidden file
 * input. Each chosen file is uploaded into the selected conversation with
 * a progress line, then sent as a message that refers to it.
 */
export function attachButton(getConv, getMode = () => 'reply') {
  const input = h('input', { type: 'file', multiple: true, class: 'sr', tabindex: '-1', 'aria-hidden': 'true', id: 'att-input' });
  const status = h('p', { class: 'att-status', role: 'status', hidden: true });
  const btn = h('button', { type: 'button', class: 'ghost small att-btn', title: A().attach,
    onclick: () => input.click() }, icon(CLIP), h('span', { class: 'att-text', text: ' ' + A().attachShort }));
  const send = (files) => { const c = getConv(); if (c) for (const f of files) upload(c, f, status, getMode() === 'note'); };
  input.addEventListener('change', () => { send([...input.files]); input.value = ''; });
  // wire lets files be pasted into, or dropped on, the composer form.
  const wire = (form) => {
    form.addEventListener('paste', (e) => {
      const files = [...((e.clipboardData && e.clipboardData.files) || [])];
      if (files.length) { e.preventDefault(); send(files); }
    });
    form.addEventListener('dragover', (e) => { if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) { e.preventDefault(); form.classList.add('att-drop'); } });
    form.addEventListener('dragleave', () => form.classList.remove('att-drop'));
    form.addEventListener('drop', (e) => {
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      form.classList.remove('att-drop');
      send([...e.dataTransfer.files]);
    });
  };
  return { btn, input, status, wire };
}

function upload(c, file, status, note) {
  const prog = h('progress', { max: '100', value: '0' });
  const label = h('span', { text: A().uploading(file.name) });
  const row = h('span', { class: 'att-row' }, label, prog);
  status.hidden = false;
  status.append(row);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/attachments?name=${encodeURIComponent(file.name)}${note ? '&internal=1' : ''}`);
  xhr.setRequestHeader('X-CSRF-Token', cookie('starpost_csrf'));
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    prog.value = Math.round((e.loaded / e.total) * 100);
  };
  const finish = (msg) => {
    prog.remove();
    label.textContent = msg;
    setTimeout(() => { row.remove(); if (!status.childElementCount) status.hidden = true; }, msg ? 6000 : 0);
  };
  xhr.onload = async () => {
    if (xhr.status !== 201) {
      finish(file.name + ' — ' + (xhr.status === 413 ? A().tooLarge : xhr.status === 415 ? A().badType : xhr.status === 429 ? A().tooMany : A().failed));
      return;
    }
    try {
      const f = JSON.parse(xhr.responseText);
      await call('POST', `/api/v1/conversations/${encodeURIComponent(c.id)}/${note ? 'notes' : 'messages'}`, { text: '', attachments: [{ id: f.id }], idempotency_key: newKey('at') });
      finish('');
    } catch (err) {
      finish(file.name + ' — ' + (err instanceof APIError ? err.message : A().failed));
    }
  };
  xhr.onerror = () => finish(file.name + ' — ' + A().failed);
  xhr.send(file);
}
