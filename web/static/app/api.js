// The workspace's client of the Starpost API: JSON over fetch with the
// session cookie and the CSRF header, and a realtime stream that resumes
// from its last cursor after any drop.

/** APIError is a non-2xx answer of the API. */
export class APIError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error && body.error.code) || (status === 0 ? 'network' : 'internal');
    this.field = (body && body.error && body.error.field) || '';
  }
}

/** cookie returns the value of the named cookie of this page, or ''. */
export function cookie(name) {
  const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : '';
}

/** newKey returns a random idempotency key. */
export function newKey(prefix = 'a') {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return prefix + '-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** call sends one API request and returns the decoded JSON answer. */
export async function call(method, path, body) {
  const h = { Accept: 'application/json' };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = cookie('starpost_csrf');
  let r;
  try {
    r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch (_) {
    throw new APIError(0, null);
  }
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) throw new APIError(r.status, data);
  return data;
}

/** fetchMe reads GET /me: the user, their presence and the workspace's newest cursor. */
export async function fetchMe() { return call('GET', '/api/v1/me'); }

/**
 * Stream is the signed-in user's realtime stream. It calls onEvent for each
 * event, in cursor order and once each, and onStatus('online'|'offline')
 * when the connection comes and goes; it reconnects by itself, resuming
 * after the last cursor it delivered.
 */
export class Stream {
  constructor(onEvent, onStatus, cursor = 0) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    // The first connection starts after this cursor (GET /me's, taken before
    // the REST state was loaded); later ones after the last event seen.
    this.cursor = cursor;
    this.sock = null;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.online = () => { if (!this.sock && !this.stopped) { this.attempt = 0; clearTimeout(this.timer); this.connect(); } };
    window.addEventListener('online', this.online);
  }

  connect() {
    if (this.sock || this.stopped) return;
    const url = location.origin.replace(/^http/, 'ws') + '/api/v1/stream?cursor=' + this.cursor;
    const s = new WebSocket(url);
    this.sock = s;
    s.onopen = () => { this.attempt = 0; this.onStatus('online'); };
    s.onmessage = (m) => {
      let f;
      try { f = JSON.parse(m.data); } catch (_) { return; }
      if (f.type !== 'event' || !f.event) return;
      const e = f.event;
      if (e.cursor) {
        if (e.cursor <= this.cursor) return;
        this.cursor = e.cursor;
      }
      this.onEvent(e);
    };
    s.onclose = () => {
      if (this.sock === s) this.sock = null;
      if (this.stopped) return;
      this.onStatus('offline');
      const delay = Math.min(5000, 250 * 2 ** this.attempt++) * (0.75 + Math.random() / 2);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  /** send writes a frame when connected; it reports whether it could. */
  send(frame) {
    if (!this.sock || this.sock.readyState !== WebSocket.OPEN) return false;
    this.sock.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.online);
    if (this.sock) this.sock.close();
  }
}
