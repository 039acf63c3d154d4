// Starpost chat widget. Put one tag on any page:
//
//   <script src="https://support.example.com/widget.js" data-workspace="ws_..."
//     data-color="#0b57d0" data-lang="zh-CN" data-greeting="您好！" defer></script>
//
// data-workspace (required), data-color (#rgb or #rrggbb), data-lang (zh-CN or
// en; default: the browser's language), data-greeting, data-title and
// data-queue (a queue id; default: the workspace's first queue).
//
// Optional forms:
//   data-prechat="name" or "name,email" asks for the visitor's name (and an
//     optional email) before the first message.
//   data-hours="Mon-Fri 09:00-18:00; Sat 10:00-14:00" with data-timezone
//     (an IANA zone such as "Asia/Shanghai"; default: the visitor's) are the
//     business hours; outside them, or with data-offline="true", the widget
//     shows an offline form (name, email, message) instead of the chat.
//   data-rating="off" turns off the satisfaction rating asked at the end.
//   data-user-id and data-user-hash identify a signed-in user of the
//     business: user-hash is hex(HMAC-SHA256(identity secret, user id)),
//     computed on the business's server (Admin → Chat widget shows the
//     secret). The user then finds the same conversations on every device.
//
// The widget lives in a shadow root, so the page's CSS cannot reach it. The
// visitor's token, conversation, last cursor and unsent messages are kept in
// localStorage: a reload shows the history, a dropped connection resumes from
// the last cursor, and a message typed offline is sent once the connection is
// back, with the same idempotency key, so the server never stores it twice.
(() => {
  'use strict';
  const script = document.currentScript;
  if (!script || !script.dataset.workspace || window.StarpostWidget) return;
  const cfg = script.dataset;
  const workspace = cfg.workspace;
  const userID = cfg.userId || '', userHash = cfg.userHash || ''; // identified visitor (optional)
  const api = new URL(script.src, location.href).origin;
  const wsBase = api.replace(/^http/, 'ws');

  const I18N = {
    en: {
      title: 'Chat with us',
      greeting: 'Hello! How can we help you today?',
      open: 'Open chat',
      close: 'Close chat',
      input: 'Your message',
      placeholder: 'Type a message…',
      send: 'Send',
      you: 'You',
      agent: 'Agent',
      bot: 'Assistant (bot)',
      online: 'Connected',
      connecting: 'Connecting…',
      offline: 'Offline — your messages will be sent when the connection is back',
      queued: 'Waiting to send',
      failed: 'Not sent',
      typing: 'The agent is typing…',
      joined: 'An agent has joined the conversation.',
      resolved: 'This conversation was marked as resolved. Write again any time.',
      closed: 'This conversation has ended.',
      position: (n) => `You are number ${n} in the queue.`,
      wait: (m) => m < 1 ? 'An agent will be with you in less than a minute.' : `Estimated wait: about ${m} min.`,
      noAgent: 'All agents are busy; we will answer as soon as we can.',
      unread: (n) => `${n} new message${n === 1 ? '' : 's'}`,
      name: 'Your name',
      email: 'Email',
      emailOptional: 'Email (optional)',
      message: 'Message',
      startChat: 'Start chat',
      prechatIntro: 'Before we start, please tell us your name.',
      offlineTitle: 'We are offline',
      offlineIntro: (when) => when ? `We are closed now and open again ${when}. Leave a message and we will reply then.` : 'No one can answer right now. Leave a message and we will reply as soon as we are back.',
      offlineSend: 'Send message',
      offlineThanks: (when, email) => `Thank you — we got your message. ${when ? `We open again ${when} and` : 'We'} will reply in this chat; we may also write to you at ${email}.`,
      required: 'Required',
      badEmail: 'Please enter a valid email address.',
      sendFailed: 'Could not send. Check your connection and try again.',
      rateTitle: 'How did we do?',
      rateStars: 'Your rating',
      star: (n) => `${n} star${n === 1 ? '' : 's'}`,
      rateComment: 'Comment (optional)',
      rateSend: 'Send rating',
      rateSkip: 'No thanks',
      rateThanks: (n) => `Thank you for rating us ${n} of 5.`,
      rateNeed: 'Choose from 1 to 5 stars.',
      leaveIntro: 'No agent is free right now. Leave your email, so we can answer you there if you have to go.',
      leaveSave: 'Save email',
      leftEmail: (email) => `Thanks — if you leave, we will answer at ${email}.`,
      days: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
      at: (day, time) => `on ${day} at ${time}`,
      today: (time) => `today at ${time}`,
      attach: 'Attach a file or image',
      uploading: (name) => `Uploading ${name}…`,
      tooLarge: 'This file is too large to send.',
      badType: 'This type of file cannot be sent. Images, PDF, text and Office documents can.',
      uploadFailed: 'The file could not be sent. Please try again.',
      tooManyFiles: 'This conversation cannot take more files.',
      openFile: (name) => `Open ${name}`,
      read: 'Read',
      drop: 'Drop files here to send them',
      rated: (n, c) => `You rated this conversation ${n} of 5${c ? ': “' + c + '”' : '.'}`,
      // Reassignment (agent liveness).
      takenOver: 'Another agent has taken over the conversation.',
      agentLeft: 'Your agent is no longer available. You are back in the queue, and the next free agent will carry on.',
      transferred: 'You are being transferred to another agent.',
      transferredQueue: 'You are being transferred to the right team. Please wait a moment.',
      // Back-pressure: the service refused a new chat (503).
      busyTitle: 'All our agents are busy',
      busyIntro: (m) => `Right now the wait is about ${m} min. Leave a message and an email or phone number: we will write or call you back as soon as an agent is free.`,
      phone: 'Phone',
      needContact: 'Leave an email or a phone number.',
      badPhone: 'Please enter a valid phone number.',
      busySend: 'Leave message',
      busyBack: 'Back to chat',
      busyThanks: (how) => `Thank you — your message is saved. We will get back to you at ${how}.`,
    },
    'zh-CN': {
      title: '在线客服',
      greeting: '您好！请问有什么可以帮您？',
      open: '打开在线客服',
      close: '关闭对话窗口',
      input: '输入消息',
      placeholder: '请输入消息…',
      send: '发送',
      you: '我',
      agent: '客服',
      bot: '智能助理（机器人）',
      online: '已连接',
      connecting: '正在连接…',
      offline: '网络已断开 — 恢复连接后将自动发送您的消息',
      queued: '等待发送',
      failed: '发送失败',
      typing: '客服正在输入…',
      joined: '客服已接入对话。',
      resolved: '本次对话已标记为解决。如有需要，可随时继续留言。',
      closed: '本次对话已结束。',
      position: (n) => `您当前排在第 ${n} 位。`,
      wait: (m) => m < 1 ? '预计不到 1 分钟即可接入。' : `预计等待约 ${m} 分钟。`,
      noAgent: '客服繁忙，我们会尽快回复您。',
      unread: (n) => `${n} 条新消息`,
      name: '您的称呼',
      email: '邮箱',
      emailOptional: '邮箱（可选）',
      message: '留言内容',
      startChat: '开始咨询',
      prechatIntro: '开始之前，请告诉我们您的称呼。',
      offlineTitle: '当前不在服务时间',
      offlineIntro: (when) => when ? `我们现在已下班，将于${when}恢复服务。请留言，届时我们会回复您。` : '目前无人接待。请留言，我们回来后会尽快回复您。',
      offlineSend: '提交留言',
      offlineThanks: (when, email) => `谢谢，我们已收到您的留言。${when ? `我们将于${when}恢复服务，` : ''}届时会在此对话中回复，也可能发邮件至 ${email} 与您联系。`,
      required: '必填',
      badEmail: '请输入有效的邮箱地址。',
      sendFailed: '发送失败，请检查网络后重试。',
      rateTitle: '请为本次服务评分',
      rateStars: '您的评分',
      star: (n) => `${n} 星`,
      rateComment: '意见或建议（可选）',
      rateSend: '提交评分',
      rateSkip: '不用了',
      rateThanks: (n) => `感谢您的评分：${n} / 5。`,
      rateNeed: '请选择 1 到 5 星。',
      leaveIntro: '目前没有空闲的客服。请留下邮箱，如果您需要离开，我们会通过邮件回复您。',
      leaveSave: '保存邮箱',
      leftEmail: (email) => `谢谢！如果您离开，我们会发邮件至 ${email} 回复您。`,
      days: ['周日', '周一', '周二', '周三', '周四', '周五', '周六'],
      at: (day, time) => `${day} ${time}`,
      today: (time) => `今天 ${time}`,
      attach: '发送文件或图片',
      uploading: (name) => `正在上传 ${name}…`,
      tooLarge: '文件太大，无法发送。',
      badType: '不支持发送此类文件。可以发送图片、PDF、文本和 Office 文档。',
      uploadFailed: '文件发送失败，请重试。',
      tooManyFiles: '本次对话无法再添加更多文件。',
      openFile: (name) => `打开 ${name}`,
      read: '已读',
      drop: '将文件拖放到此处即可发送',
      rated: (n, c) => `您为本次对话评了 ${n} / 5 分${c ? '：“' + c + '”' : '。'}`,
      // Reassignment (agent liveness).
      takenOver: '另一位客服已接手本次对话。',
      agentLeft: '您的客服暂时无法继续服务。您已重新排队，下一位空闲的客服将继续为您服务。',
      transferred: '正在为您转接其他客服。',
      transferredQueue: '正在为您转接到相应的团队，请稍候。',
      // 排队已满（503）：请客户留言或预约回电。
      busyTitle: '当前咨询人数较多',
      busyIntro: (m) => `目前预计需等待约 ${m} 分钟。请留言并留下邮箱或电话，客服空闲后会第一时间回复或给您回电。`,
      phone: '电话',
      needContact: '请留下邮箱或电话。',
      badPhone: '请输入有效的电话号码。',
      busySend: '提交留言',
      busyBack: '返回对话',
      busyThanks: (how) => `谢谢，您的留言已保存。我们会通过 ${how} 尽快联系您。`,
    },
  };
  const lang = /^zh/i.test(cfg.lang || navigator.language || '') ? 'zh-CN' : 'en';
  const T = I18N[lang];
  const color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(cfg.color || '') ? cfg.color : '#0b57d0';

  // Text on the brand colour: black or white, whichever contrasts more.
  function onColor(hex) {
    let h = hex.slice(1);
    if (h.length === 3) h = h.replace(/./g, '$&$&');
    const lin = (i) => {
      const c = parseInt(h.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    const L = 0.2126 * lin(0) + 0.7152 * lin(2) + 0.0722 * lin(4);
    return (L + 0.05) / 0.05 > 1.05 / (L + 0.05) ? '#000000' : '#ffffff';
  }

  // ---- persisted state ----
  const KEY = 'starpost.widget.' + workspace;
  let state = { token: '', expires: 0, conv: '', convState: '', cursor: 0, outbox: [], open: false, profile: null, rated: {} };
  try { Object.assign(state, JSON.parse(localStorage.getItem(KEY)) || {}); } catch (_) { /* private mode */ }
  const save = () => { try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (_) { /* full or private */ } };
  // Another signed-in user (or none) on this browser: never show the
  // previous user's conversations; start afresh.
  if ((state.user || '') !== userID) {
    state = { token: '', expires: 0, conv: '', convState: '', cursor: 0, outbox: [], open: false, profile: null, rated: {}, user: userID };
    save();
  }

  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'w-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // ---- DOM ----
  const CSS = `
:host { all: initial !important; display: block !important; position: fixed !important; z-index: 2147483000 !important;
  right: 0 !important; bottom: 0 !important; width: 0 !important; height: 0 !important; overflow: visible !important; }
* { box-sizing: border-box; }
.root { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif; color: #1f1f1f; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
button { font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 60px; height: 60px; border-radius: 50%; border: 0;
  background: var(--c); color: var(--on); box-shadow: 0 4px 14px rgba(0,0,0,.3); display: grid; place-items: center; }
.launcher svg { width: 30px; height: 30px; fill: currentColor; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #b3261e; color: #fff; font-size: 12px; font-weight: 700; line-height: 22px; text-align: center; }
.badge[hidden], [hidden] { display: none !important; }
.panel { position: fixed; right: 20px; bottom: 92px; width: 370px; height: min(600px, calc(100vh - 112px));
  background: #fff; border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.28); display: flex; flex-direction: column; overflow: hidden; }
header { background: var(--c); color: var(--on); padding: 12px 12px 10px 16px; display: flex; align-items: flex-start; gap: 8px; }
header div { flex: 1; min-width: 0; }
h2 { margin: 0; font-size: 17px; font-weight: 650; }
.status { margin: 2px 0 0; font-size: 13px; }
.status::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: #9e9e9e;
  border: 1px solid currentColor; vertical-align: 0; }
.status[data-s="online"]::before { background: #1e8e3e; }
.status[data-s="offline"]::before { background: #d93025; }
.close { border: 0; background: transparent; color: inherit; width: 36px; height: 36px; border-radius: 8px; font-size: 24px; line-height: 1; }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 8px; background: #f6f7f9; }
.msg { max-width: 82%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg .who { display: block; font-size: 12px; font-weight: 600; color: #444; margin-bottom: 2px; }
.them { align-self: flex-start; background: #fff; border: 1px solid #dadce0; border-bottom-left-radius: 4px; }
.me { align-self: flex-end; background: var(--c); color: var(--on); border-bottom-right-radius: 4px; }
.me .who { color: inherit; }
.me[data-pending] { opacity: .8; }
.me .note { display: block; font-size: 12px; margin-top: 2px; }
.sys { align-self: center; text-align: center; font-size: 13px; color: #4a4a4a; margin: 4px 8px; }
.greet { align-self: flex-start; background: #fff; border: 1px solid #dadce0; }
.queue, .typing { margin: 0; padding: 6px 14px; font-size: 13px; color: #3c4043; background: #f6f7f9; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #dadce0; background: #fff; }
textarea { flex: 1; resize: none; font: inherit; padding: 9px 12px; border: 1px solid #80868b; border-radius: 10px; min-height: 42px; max-height: 120px; color: #1f1f1f; background: #fff; }
form button { border: 0; border-radius: 10px; padding: 0 16px; background: var(--c); color: var(--on); font-weight: 600; min-height: 42px; }
.pane { flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 10px; background: #f6f7f9; }
.pane form, .rate form { display: flex; flex-direction: column; align-items: stretch; gap: 10px; padding: 0; border: 0; background: transparent; }
.pane button[type=submit] { align-self: flex-start; }
.pane h3 { margin: 0; font-size: 16px; }
.pane p { margin: 0; }
.field { display: flex; flex-direction: column; gap: 4px; }
.field label { font-weight: 600; font-size: 14px; }
.field input, .field textarea { font: inherit; padding: 9px 12px; border: 1px solid #80868b; border-radius: 10px; color: #1f1f1f; background: #fff; width: 100%; }
.field textarea { resize: vertical; min-height: 80px; max-height: none; }
.err { color: #b3261e; font-size: 13px; min-height: 1em; }
.pane button[type=submit], .rate button { border: 0; border-radius: 10px; padding: 0 16px; min-height: 42px; font-weight: 600; background: var(--c); color: var(--on); }
.rate { border-top: 1px solid #dadce0; padding: 12px 14px; background: #fff; display: flex; flex-direction: column; gap: 8px; }
.rate h3 { margin: 0; font-size: 15px; }
.rate fieldset { border: 0; margin: 0; padding: 0; display: flex; gap: 2px; }
.rate legend { font-size: 13px; color: #3c4043; padding: 0; margin-bottom: 2px; }
.rate input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.rate .star { font-size: 30px; line-height: 1; color: #80868b; cursor: pointer; padding: 2px 4px; border-radius: 6px; }
.rate .star.on { color: #b06000; }
.rate input:focus-visible + .star { outline: 3px solid #1a73e8; }
.rate .row { display: flex; gap: 8px; }
.rate button.skip { background: transparent; color: #1f1f1f; border: 1px solid #80868b; font-weight: 400; }
.pane .row { display: flex; gap: 8px; flex-wrap: wrap; }
.pane button.skip { border: 1px solid #80868b; border-radius: 10px; padding: 0 16px; min-height: 42px; background: #fff; color: #1f1f1f; }
.rate .err:empty, .pane .err:empty { display: none; }
.rate textarea { font: inherit; padding: 8px 10px; border: 1px solid #80868b; border-radius: 10px; resize: none; min-height: 40px; }
.attach { border: 1px solid #80868b !important; background: #fff !important; color: #1f1f1f !important; padding: 0 9px !important; display: grid; place-items: center; }
.icon { width: 20px; height: 20px; fill: currentColor; flex: none; }
.atts { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; }
.atts button { border: 1px solid #dadce0; background: #fff; color: #1f1f1f; border-radius: 10px; padding: 0; overflow: hidden; max-width: 100%; }
.att-img img { display: block; max-width: 220px; max-height: 180px; width: auto; height: auto; background: #eee; }
.att-file { display: flex; gap: 6px; align-items: center; padding: 6px 10px !important; text-align: left; }
.att-file .size { color: #4a4a4a; font-size: 12px; white-space: nowrap; }
.upload progress { display: block; width: 100%; margin-top: 4px; }
.receipt { display: block; font-size: 12px; margin-top: 2px; text-align: right; opacity: .9; }
.panel.dragging::after { content: attr(data-drop); position: absolute; inset: 0; display: grid; place-items: center; font-weight: 600;
  background: rgba(255,255,255,.92); border: 3px dashed var(--c); border-radius: inherit; color: #1f1f1f; }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100%; border-radius: 0; }
  .panel:not([hidden]) ~ .launcher { display: none; }
}`;

  const host = document.createElement('starpost-widget');
  const shadow = host.attachShadow({ mode: 'open' });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (_) {
    const st = document.createElement('style');
    st.textContent = CSS;
    shadow.append(st);
  }
  const el = (tag, attrs = {}, ...kids) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'text') n.textContent = v;
      else if (v !== false && v != null) n.setAttribute(k, v === true ? '' : v);
    }
    n.append(...kids);
    return n;
  };
  const root = el('div', { class: 'root', lang });
  root.style.setProperty('--c', color);
  root.style.setProperty('--on', onColor(color));

  const svgNS = 'http://www.w3.org/2000/svg';
  // Icons (Material Design, Apache 2.0): paper clip, document.
  const CLIP = 'M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5z';
  const DOC = 'M14 2H6c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z';
  function svgIcon(d) {
    const i = document.createElementNS(svgNS, 'svg');
    i.setAttribute('viewBox', '0 0 24 24');
    i.setAttribute('aria-hidden', 'true');
    i.setAttribute('class', 'icon');
    const p = document.createElementNS(svgNS, 'path');
    p.setAttribute('d', d);
    i.append(p);
    return i;
  }
  const icon = document.createElementNS(svgNS, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(svgNS, 'path');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z');
  icon.append(path);
  const badge = el('span', { class: 'badge', hidden: true });
  const launcher = el('button', { class: 'launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'sp-panel', 'aria-label': T.open }, icon, badge);

  const title = el('h2', { id: 'sp-title', text: cfg.title || T.title });
  const status = el('p', { class: 'status', 'data-s': 'connecting', text: T.connecting });
  const closeBtn = el('button', { class: 'close', type: 'button', 'aria-label': T.close, text: '×' });
  const log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'sp-title', tabindex: '0' },
    el('p', { class: 'msg greet', text: cfg.greeting || T.greeting }));
  const queueLine = el('p', { class: 'queue', role: 'status', hidden: true });
  const typingLine = el('p', { class: 'typing', hidden: true, text: T.typing });
  const input = el('textarea', { id: 'sp-input', rows: '1', placeholder: T.placeholder, autocomplete: 'off', maxlength: '4000' });
  const sendBtn = el('button', { type: 'submit', text: T.send });
  const fileInput = el('input', { type: 'file', id: 'sp-file', class: 'sr', multiple: true, tabindex: '-1', 'aria-hidden': 'true',
    accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.csv,.zip,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp' });
  const attachBtn = el('button', { type: 'button', class: 'attach', 'aria-label': T.attach, title: T.attach }, svgIcon(CLIP));
  const form = el('form', { 'aria-label': T.input }, fileInput, attachBtn, el('label', { for: 'sp-input', class: 'sr', text: T.input }), input, sendBtn);
  const prechatPane = el('div', { class: 'pane', hidden: true });
  const offlinePane = el('div', { class: 'pane', hidden: true });
  const busyPane = el('div', { class: 'pane', hidden: true });
  const rateBox = el('div', { class: 'rate ask-rating', hidden: true });
  const leaveBox = el('div', { class: 'rate leave', hidden: true });
  const panel = el('section', { class: 'panel', id: 'sp-panel', role: 'dialog', 'aria-labelledby': 'sp-title', 'data-drop': T.drop, hidden: true },
    el('header', {}, el('div', {}, title, status), closeBtn), prechatPane, offlinePane, busyPane, log, queueLine, leaveBox, typingLine, rateBox, form);
  root.append(panel, launcher);
  shadow.append(root);

  // ---- rendering ----
  const shown = new Set(); // conversation:seq of events already drawn
  const served = new Set(); // conversations an agent has served: a later assignment is a takeover
  const pendingEls = new Map(); // idempotency key -> bubble of an unsent message
  let unread = 0;
  let typingTimer = 0;

  function scroll() { log.scrollTop = log.scrollHeight; }

  function bubble(mine, text, who, atts) {
    const b = el('div', { class: 'msg ' + (mine ? 'me' : 'them') },
      el('span', { class: 'who', text: who }), document.createTextNode(text));
    if (atts && atts.length) b.append(attachmentsEl(atts));
    log.append(b);
    scroll();
    return b;
  }

  // ---- attachments: thumbnails in the transcript, click to open ----
  const fmtSize = (n) => n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
  const blobs = new Map(); // id + thumb -> object URL
  async function blobURL(conv, id, thumb) {
    const k = id + (thumb ? ':t' : '');
    if (!blobs.has(k)) {
      blobs.set(k, (async () => {
        const r = await fetch(api + '/api/v1/widget/conversations/' + encodeURIComponent(conv) + '/attachments/' + encodeURIComponent(id) + (thumb ? '?thumb=1' : ''),
          { headers: { Authorization: 'Bearer ' + state.token }, credentials: 'omit', mode: 'cors' });
        if (!r.ok) throw new HTTPError(r.status, null);
        return URL.createObjectURL(await r.blob());
      })().catch((err) => { blobs.delete(k); throw err; }));
    }
    return blobs.get(k);
  }
  function openAttachment(conv, a) {
    blobURL(conv, a.id, false).then((url) => {
      const link = el('a', { href: url, target: '_blank', rel: 'noopener' });
      if (!/^image\//.test(a.content_type)) link.setAttribute('download', a.name);
      root.append(link);
      link.click();
      link.remove();
      // Full files are not kept in memory: fetched again when reopened.
      setTimeout(() => { blobs.delete(a.id); URL.revokeObjectURL(url); }, 60000);
    }).catch(() => sysLine(T.uploadFailed));
  }
  function attachmentsEl(atts, conv = state.conv) {
    const box = el('div', { class: 'atts' });
    for (const a of atts) {
      let b;
      if (a.thumbnail) {
        const side = Math.max(a.width || 1, a.height || 1);
        const k = Math.min(1, 320 / side);
        const img = el('img', { alt: a.name, width: String(Math.max(1, Math.round((a.width || 160) * k))), height: String(Math.max(1, Math.round((a.height || 120) * k))) });
        blobURL(conv, a.id, true).then((url) => { img.src = url; img.setAttribute('data-loaded', ''); }).catch(() => {});
        b = el('button', { type: 'button', class: 'att-img', 'aria-label': T.openFile(a.name) }, img);
      } else {
        b = el('button', { type: 'button', class: 'att-file', title: T.openFile(a.name) },
          svgIcon(DOC), el('span', { text: a.name }), el('span', { class: 'size', text: fmtSize(a.size || 0) }));
      }
      b.addEventListener('click', () => openAttachment(conv, a));
      box.append(b);
    }
    return box;
  }

  // upload sends one file into the conversation (with progress), then a
  // message that refers to it.
  async function upload(file) {
    if (!state.conv) {
      try { await ensureConversation(); } catch (_) { sysLine(T.uploadFailed); return; }
    }
    const conv = state.conv;
    const label = el('span', { text: T.uploading(file.name) });
    const prog = el('progress', { max: '100', value: '0', 'aria-hidden': 'true' });
    const row = el('div', { class: 'msg me upload', 'data-pending': '', role: 'status' }, el('span', { class: 'who', text: T.you }), label, prog);
    log.append(row);
    scroll();
    const xhr = new XMLHttpRequest();
    xhr.open('POST', api + '/api/v1/widget/conversations/' + encodeURIComponent(conv) + '/attachments?name=' + encodeURIComponent(file.name));
    xhr.setRequestHeader('Authorization', 'Bearer ' + state.token);
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      prog.value = Math.round((e.loaded / e.total) * 100);
    };
    const fail = (msg) => { prog.remove(); label.textContent = file.name + ' — ' + msg; row.classList.add('failed'); };
    xhr.onload = () => {
      if (xhr.status === 201) {
        let f;
        try { f = JSON.parse(xhr.responseText); } catch (_) { fail(T.uploadFailed); return; }
        row.remove();
        send('', [{ id: f.id, name: f.name, content_type: f.content_type, size: f.size, width: f.width, height: f.height, thumbnail: f.thumbnail }]);
      } else {
        fail(xhr.status === 413 ? T.tooLarge : xhr.status === 415 ? T.badType : xhr.status === 429 ? T.tooManyFiles : T.uploadFailed);
      }
    };
    xhr.onerror = () => fail(T.uploadFailed);
    xhr.send(file);
  }

  // ensureConversation starts a conversation without a first message, for
  // a visitor whose first words are a file.
  let convReq = null;
  function ensureConversation() {
    if (state.conv) return Promise.resolve();
    if (!convReq) {
      convReq = (async () => {
        await ensureSession();
        const body = { idempotency_key: newKey() };
        if (cfg.queue) body.queue_id = cfg.queue;
        if (state.profile && state.profile.name) body.subject = subjectOf(state.profile, false);
        const res = await call('POST', '/api/v1/widget/conversations', body);
        state.conv = res.conversation.id;
        state.convState = res.conversation.state;
        state.cursor = 0;
        save();
        for (const e of res.events) render(e, false);
        connect();
      })().finally(() => { convReq = null; });
    }
    return convReq;
  }

  // ---- read receipts ----
  let agentRead = 0; // highest seq an agent has read
  function drawReceipt() {
    for (const r of log.querySelectorAll('.receipt')) r.remove();
    const mine = [...log.querySelectorAll('.me[data-seq]')].filter((b) => Number(b.dataset.seq) <= agentRead);
    const last = mine[mine.length - 1];
    if (last) { last.append(el('span', { class: 'receipt', text: T.read })); host.setAttribute('data-read', last.dataset.seq); }
  }
  let lastAgentSeq = 0;
  let readTimer = 0;
  // markRead tells the agent the visitor has seen their messages, when the
  // panel is open and the page visible.
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      if (!state.open || document.hidden || !state.conv || !lastAgentSeq) return;
      state.readSeq = state.readSeq || {};
      if ((state.readSeq[state.conv] || 0) >= lastAgentSeq) return;
      const conv = state.conv, seq = lastAgentSeq;
      call('POST', '/api/v1/widget/conversations/' + encodeURIComponent(conv) + '/read', { seq })
        .then(() => { state.readSeq[conv] = Math.max(state.readSeq[conv] || 0, seq); save(); }).catch(() => {});
    }, 400);
  }
  document.addEventListener('visibilitychange', () => { if (!document.hidden) markRead(); });
  function sysLine(text) {
    log.append(el('p', { class: 'sys', text }));
    scroll();
  }
  function setPending(b, note) {
    b.setAttribute('data-pending', '');
    let n = b.querySelector('.note');
    if (!n) { n = el('span', { class: 'note' }); b.append(n); }
    n.textContent = note;
  }
  function bump() {
    if (state.open && !document.hidden) return;
    unread++;
    badge.textContent = String(unread);
    badge.hidden = false;
    launcher.setAttribute('aria-label', T.open + ' — ' + T.unread(unread));
  }

  function render(e, live) {
    if (e.cursor > state.cursor) { state.cursor = e.cursor; save(); }
    if (e.conversation_id !== state.conv) return;
    if (e.seq) {
      const id = e.conversation_id + ':' + e.seq;
      if (shown.has(id)) return;
      shown.add(id);
    }
    switch (e.kind) {
      case 'message': {
        const text = (e.body && e.body.text) || '';
        const mine = e.actor.role === 'customer';
        // A conversation's first message is stored under "m:" + its key.
        const key = mine && e.idempotency_key ? e.idempotency_key.replace(/^m:/, '') : '';
        const pend = key && pendingEls.get(key);
        const atts = (e.body && e.body.attachments) || [];
        let b = pend;
        if (pend) {
          pend.removeAttribute('data-pending');
          const n = pend.querySelector('.note');
          if (n) n.remove();
          pendingEls.delete(key);
        } else {
          b = bubble(mine, text, mine ? T.you : e.actor.role === 'bot' ? T.bot : T.agent, atts);
        }
        b.setAttribute('data-seq', String(e.seq));
        if (!mine) {
          typingLine.hidden = true;
          if (live) bump();
          lastAgentSeq = Math.max(lastAgentSeq, e.seq);
          markRead();
        } else if (agentRead) {
          drawReceipt();
        }
        break;
      }
      case 'read':
        if (e.actor.role !== 'customer' && e.body && e.body.seq > agentRead) { agentRead = e.body.seq; drawReceipt(); }
        break;
      case 'csat': {
        const b = e.body || {};
        state.rated = Object.assign(state.rated || {}, { [e.conversation_id]: true });
        save();
        rateBox.hidden = true;
        rateBox.replaceChildren();
        sysLine(T.rated(b.score, b.comment));
        break;
      }
      case 'assigned':
        queueLine.hidden = true;
        leaveBox.hidden = true;
        sysLine(served.has(e.conversation_id) ? T.takenOver : T.joined);
        served.add(e.conversation_id);
        break;
      case 'unassigned':
        // The agent's connection was lost (or they left): back to the queue.
        sysLine(T.agentLeft);
        break;
      case 'transferred':
        sysLine(e.body && e.body.to_queue_id ? T.transferredQueue : T.transferred);
        break;
      case 'state': {
        const s = e.body && e.body.state;
        state.convState = s;
        save();
        host.setAttribute('data-conversation-state', s);
        if (s === 'resolved') { sysLine(T.resolved); askRating(); } else { rateBox.hidden = true; }
        if (s === 'closed') sysLine(T.closed);
        break;
      }
      case 'queue.status': {
        const b = e.body || {};
        const parts = [];
        if (b.position > 0) parts.push(T.position(b.position));
        parts.push(b.estimated_wait < 0 ? T.noAgent : T.wait(Math.round(b.estimated_wait / 60)));
        queueLine.textContent = parts.join(' ');
        queueLine.hidden = false;
        if (b.estimated_wait < 0 && live) askEmail();
        break;
      }
      case 'typing':
        if (e.actor.role !== 'customer') {
          typingLine.hidden = false;
          clearTimeout(typingTimer);
          typingTimer = setTimeout(() => { typingLine.hidden = true; }, 5000);
        }
        break;
    }
  }

  function setStatus(s) {
    status.setAttribute('data-s', s);
    status.textContent = s === 'online' ? T.online : s === 'offline' ? T.offline : T.connecting;
    host.setAttribute('data-connection', s);
  }

  // ---- business hours ----
  const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  // hours parses data-hours ("Mon-Fri 09:00-18:00; Sat 10:00-14:00") into
  // windows of {days:Set, from, to} in minutes of the day; [] when unset.
  function parseHours(spec) {
    const out = [];
    for (const part of (spec || '').split(/[;,]/)) {
      const m = /^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/i.exec(part);
      if (!m) continue;
      const a = DAYS.indexOf(m[1].toLowerCase()), b = DAYS.indexOf((m[2] || m[1]).toLowerCase());
      if (a < 0 || b < 0) continue;
      const days = new Set();
      for (let d = a; ; d = (d + 1) % 7) { days.add(d); if (d === b) break; }
      out.push({ days, from: +m[3] * 60 + +m[4], to: +m[5] * 60 + +m[6] });
    }
    return out;
  }
  const hours = parseHours(cfg.hours);
  // zoneNow is the weekday (0 = Sunday) and minute of the day in the
  // business's time zone.
  function zoneNow(t, tz = cfg.timezone) {
    let day = t.getDay(), min = t.getHours() * 60 + t.getMinutes();
    if (tz) {
      try {
        const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(t);
        const get = (k) => parts.find((p) => p.type === k).value;
        day = DAYS.indexOf(get('weekday').toLowerCase().slice(0, 3));
        min = (+get('hour') % 24) * 60 + +get('minute');
      } catch (_) { /* unknown zone: the visitor's */ }
    }
    return { day, min };
  }
  function isOpenAt(day, min) { return hours.some((w) => w.days.has(day) && min >= w.from && min < w.to); }
  function offlineNow() {
    if (cfg.offline === 'true') return true;
    if (!hours.length) return false;
    const n = zoneNow(new Date());
    return !isOpenAt(n.day, n.min);
  }
  // fetchStatus reads the public widget status (business hours of the
  // queue, available agents, estimated wait); null when it cannot.
  async function fetchStatus() {
    try {
      const q = cfg.queue ? '?queue=' + encodeURIComponent(cfg.queue) : '';
      const r = await fetch(api + '/api/v1/widget/' + encodeURIComponent(workspace) + '/status' + q, { credentials: 'omit', mode: 'cors' });
      return r.ok ? await r.json() : null;
    } catch (_) {
      return null;
    }
  }
  // formatOpening says when the status's next opening is, in the
  // business's time zone.
  function formatOpening(iso, tz) {
    const t = new Date(iso);
    if (isNaN(t)) return '';
    const n = zoneNow(new Date(), tz), o = zoneNow(t, tz);
    const hm = String(Math.floor(o.min / 60)).padStart(2, '0') + ':' + String(o.min % 60).padStart(2, '0');
    const soon = t - Date.now() < 86400000;
    return (soon && n.day === o.day ? T.today(hm) : T.at(T.days[o.day], hm)) + (tz ? ' (' + tz + ')' : '');
  }
  // nextOpening says when the business opens next, in its own time zone.
  function nextOpening() {
    if (!hours.length || cfg.offline === 'true') return '';
    const n = zoneNow(new Date());
    for (let i = 0; i < 8; i++) {
      const day = (n.day + i) % 7;
      const starts = hours.filter((w) => w.days.has(day) && (i > 0 || w.from > n.min)).map((w) => w.from).sort((a, b) => a - b);
      if (starts.length) {
        const hm = String(Math.floor(starts[0] / 60)).padStart(2, '0') + ':' + String(starts[0] % 60).padStart(2, '0');
        const zone = cfg.timezone ? ' (' + cfg.timezone + ')' : '';
        return (i === 0 ? T.today(hm) : T.at(T.days[day], hm)) + zone;
      }
    }
    return '';
  }
  const prechat = (cfg.prechat || '').toLowerCase().split(/[\s,]+/).filter(Boolean);
  const subjectOf = (p, offline) => ((offline ? '[Offline] ' : '') + p.name + (p.email ? ' <' + p.email + '>' : '')).slice(0, 200);

  // ---- views: the chat, the pre-chat form, the offline form ----
  let view = 'chat';
  function showView(v) {
    view = v;
    prechatPane.hidden = v !== 'prechat';
    offlinePane.hidden = v !== 'offline';
    busyPane.hidden = v !== 'busy';
    log.hidden = v !== 'chat';
    form.hidden = v !== 'chat';
    host.setAttribute('data-view', v);
    if (v !== 'chat') { queueLine.hidden = true; typingLine.hidden = true; rateBox.hidden = true; }
  }
  function field(id, label, input) {
    input.addEventListener('input', () => {
      if (!input.hasAttribute('aria-invalid')) return;
      input.removeAttribute('aria-invalid');
      const e = shadow.getElementById(id + '-err');
      if (e) e.textContent = '';
    });
    return el('div', { class: 'field' }, el('label', { for: id, text: label }), input, el('span', { class: 'err', id: id + '-err', 'aria-live': 'polite' }));
  }
  const validEmail = (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v);

  function drawPrechat() {
    const name = el('input', { id: 'sp-name', autocomplete: 'name', required: true, maxlength: '100', 'aria-describedby': 'sp-name-err' });
    const wantEmail = prechat.includes('email');
    const email = wantEmail ? el('input', { id: 'sp-email', type: 'email', autocomplete: 'email', maxlength: '200', 'aria-describedby': 'sp-email-err' }) : null;
    const f = el('form', { class: 'pane-form', 'aria-labelledby': 'sp-pre-h', novalidate: true },
      el('p', { id: 'sp-pre-h', text: T.prechatIntro }),
      field('sp-name', T.name, name),
      wantEmail ? field('sp-email', T.emailOptional, email) : '',
      el('button', { type: 'submit', text: T.startChat }));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const p = { name: name.value.trim(), email: email ? email.value.trim() : '' };
      shadow.getElementById('sp-name-err').textContent = p.name ? '' : T.required;
      if (email) shadow.getElementById('sp-email-err').textContent = p.email && !validEmail(p.email) ? T.badEmail : '';
      if (!p.name) { name.setAttribute('aria-invalid', 'true'); name.focus(); return; }
      if (p.email && !validEmail(p.email)) { email.setAttribute('aria-invalid', 'true'); email.focus(); return; }
      state.profile = p;
      save();
      showView('chat');
      input.focus();
      started = false;
      start();
    });
    prechatPane.replaceChildren(f);
    return name;
  }

  function drawOffline(when) {
    const p = state.profile || {};
    const name = el('input', { id: 'sp-oname', autocomplete: 'name', required: true, maxlength: '100', value: p.name || '', 'aria-describedby': 'sp-oname-err' });
    const email = el('input', { id: 'sp-oemail', type: 'email', autocomplete: 'email', required: true, maxlength: '200', value: p.email || '', 'aria-describedby': 'sp-oemail-err' });
    const msg = el('textarea', { id: 'sp-omsg', required: true, maxlength: '4000', rows: '3', 'aria-describedby': 'sp-omsg-err' });
    const err = el('p', { class: 'err', role: 'alert' });
    const btn = el('button', { type: 'submit', text: T.offlineSend });
    const key = newKey();
    const f = el('form', { 'aria-labelledby': 'sp-off-h', novalidate: true },
      el('h3', { id: 'sp-off-h', text: T.offlineTitle }),
      el('p', { text: T.offlineIntro(when) }),
      field('sp-oname', T.name, name), field('sp-oemail', T.email, email), field('sp-omsg', T.message, msg), err, btn);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = { name: name.value.trim(), email: email.value.trim(), text: msg.value.trim() };
      const bad = [[name, 'sp-oname', v.name ? '' : T.required], [email, 'sp-oemail', !v.email ? T.required : validEmail(v.email) ? '' : T.badEmail],
        [msg, 'sp-omsg', v.text ? '' : T.required]];
      for (const [n, id, m] of bad) { shadow.getElementById(id + '-err').textContent = m; n.toggleAttribute('aria-invalid', !!m); }
      const first = bad.find((b) => b[2]);
      if (first) { first[0].focus(); return; }
      btn.disabled = true;
      err.textContent = '';
      try {
        state.profile = { name: v.name, email: v.email };
        await ensureSession(v.name);
        const body = { subject: subjectOf(state.profile, true), text: v.text, idempotency_key: key };
        if (cfg.queue) body.queue_id = cfg.queue;
        const res = await call('POST', '/api/v1/widget/conversations', body);
        state.conv = res.conversation.id;
        state.convState = res.conversation.state;
        state.cursor = 0;
        save();
        showView('chat');
        for (const ev of res.events) render(ev, false);
        sysLine(T.offlineThanks(when, v.email));
        connect();
        input.focus();
      } catch (x) {
        err.textContent = T.sendFailed;
        btn.disabled = false;
      }
    });
    offlinePane.replaceChildren(f);
    return name;
  }

  // drawBusy offers a visitor whom the service could not take now (503 with
  // an estimated wait) to leave a message and an email or phone number. It
  // is stored as a conversation (POST busy.callback) the agents answer by
  // email or call back when they are free.
  function drawBusy(busy, text) {
    const p = state.profile || {};
    const mins = Math.max(1, Math.ceil((busy.estimated_wait_seconds || 60) / 60));
    const msg = el('textarea', { id: 'sp-bmsg', required: true, maxlength: '4000', rows: '3', 'aria-describedby': 'sp-bmsg-err' });
    msg.value = text || '';
    const name = el('input', { id: 'sp-bname', autocomplete: 'name', maxlength: '100', value: p.name || '' });
    const email = el('input', { id: 'sp-bemail', type: 'email', autocomplete: 'email', maxlength: '200', value: p.email || '', 'aria-describedby': 'sp-bemail-err' });
    const phone = el('input', { id: 'sp-bphone', type: 'tel', autocomplete: 'tel', maxlength: '32', 'aria-describedby': 'sp-bphone-err' });
    const err = el('p', { class: 'err', role: 'alert' });
    const btn = el('button', { type: 'submit', text: T.busySend });
    const back = el('button', { type: 'button', class: 'skip', text: T.busyBack });
    const key = newKey();
    const f = el('form', { 'aria-labelledby': 'sp-busy-h', 'aria-describedby': 'sp-busy-p', novalidate: true },
      el('h3', { id: 'sp-busy-h', text: T.busyTitle }),
      el('p', { id: 'sp-busy-p', role: 'status', text: T.busyIntro(mins) }),
      field('sp-bmsg', T.message, msg), field('sp-bname', T.name, name), field('sp-bemail', T.email, email), field('sp-bphone', T.phone, phone),
      err, el('div', { class: 'row' }, btn, back));
    const validPhone = (v) => /^[+()\-.\s\d]{5,32}$/.test(v) && (v.match(/\d/g) || []).length >= 5 && (v.match(/\d/g) || []).length <= 20;
    back.addEventListener('click', () => { showView('chat'); input.value = msg.value; input.focus(); });
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = { name: name.value.trim(), email: email.value.trim(), phone: phone.value.trim(), text: msg.value.trim() };
      const bad = [[msg, 'sp-bmsg', v.text ? '' : T.required],
        [email, 'sp-bemail', !v.email && !v.phone ? T.needContact : v.email && !validEmail(v.email) ? T.badEmail : ''],
        [phone, 'sp-bphone', v.phone && !validPhone(v.phone) ? T.badPhone : '']];
      for (const [n, id, m] of bad) {
        shadow.getElementById(id + '-err').textContent = m;
        if (m) n.setAttribute('aria-invalid', 'true'); else n.removeAttribute('aria-invalid');
      }
      const first = bad.find((b) => b[2]);
      if (first) { first[0].focus(); return; }
      btn.disabled = true;
      err.textContent = '';
      try {
        state.profile = Object.assign({}, p, { name: v.name || p.name || '', email: v.email || p.email || '' });
        await ensureSession(v.name);
        const body = Object.assign({ idempotency_key: key }, v);
        if (cfg.queue) body.queue_id = cfg.queue;
        const res = await call('POST', busy.callback || '/api/v1/widget/callbacks', body);
        state.conv = res.conversation.id;
        state.convState = res.conversation.state;
        state.cursor = 0;
        save();
        showView('chat');
        for (const ev of res.events) render(ev, false);
        sysLine(T.busyThanks(v.email || v.phone));
        host.setAttribute('data-callback', 'sent');
        connect();
        input.focus();
      } catch (x) {
        err.textContent = T.sendFailed;
        btn.disabled = false;
      }
    });
    busyPane.replaceChildren(f);
    host.setAttribute('data-busy', String(busy.estimated_wait_seconds || 0));
    return msg;
  }

  // ---- satisfaction rating, asked once when a conversation is resolved ----
  function askRating() {
    if (cfg.rating === 'off' || !state.conv || (state.rated || {})[state.conv]) return;
    const conv = state.conv;
    let stars = 0;
    const labels = [];
    const fs = el('fieldset', {}, el('legend', { text: T.rateStars }));
    for (let n = 1; n <= 5; n++) {
      const r = el('input', { type: 'radio', name: 'sp-stars', id: 'sp-star-' + n, value: String(n) });
      const l = el('label', { for: 'sp-star-' + n, class: 'star', title: T.star(n) }, el('span', { 'aria-hidden': 'true', text: '★' }), el('span', { class: 'sr', text: T.star(n) }));
      r.addEventListener('change', () => { stars = n; labels.forEach((x, i) => x.classList.toggle('on', i < n)); });
      labels.push(l);
      fs.append(r, l);
    }
    const comment = el('textarea', { id: 'sp-rate-c', rows: '1', maxlength: '1000' });
    const err = el('p', { class: 'err', role: 'alert' });
    const skip = el('button', { type: 'button', class: 'skip', text: T.rateSkip });
    const f = el('form', { 'aria-labelledby': 'sp-rate-h' },
      el('h3', { id: 'sp-rate-h', text: T.rateTitle }), fs,
      el('label', { for: 'sp-rate-c', text: T.rateComment }), comment, err,
      el('div', { class: 'row' }, el('button', { type: 'submit', text: T.rateSend }), skip));
    const done = () => { state.rated = Object.assign(state.rated || {}, { [conv]: true }); save(); rateBox.hidden = true; rateBox.replaceChildren(); };
    const submit = f.querySelector('button[type=submit]');
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!stars) { err.textContent = T.rateNeed; fs.querySelector('input').focus(); return; }
      // Stored as a "csat" event; the server keeps one rating per
      // conversation (the same again is accepted, another is 409).
      submit.disabled = true;
      err.textContent = '';
      try {
        const ev = await call('POST', '/api/v1/widget/conversations/' + encodeURIComponent(conv) + '/rating', { score: stars, comment: comment.value.trim() });
        done();
        if (ev) render(ev, false);
      } catch (x) {
        if (x instanceof HTTPError && x.status === 409) { done(); } else { err.textContent = T.sendFailed; submit.disabled = false; return; }
      }
      input.focus();
    });
    skip.addEventListener('click', () => { done(); input.focus(); });
    rateBox.replaceChildren(f);
    rateBox.hidden = false;
    host.setAttribute('data-rating', 'asked');
  }

  // askEmail offers a visitor who waits with no agent free to leave an
  // email, sent to the agents as a customer message with a fixed prefix.
  function askEmail() {
    const p = state.profile || {};
    if (p.email || !leaveBox.hidden || (state.leftEmail || {})[state.conv]) return;
    const conv = state.conv;
    const email = el('input', { id: 'sp-lemail', type: 'email', autocomplete: 'email', required: true, maxlength: '200', 'aria-describedby': 'sp-lemail-err' });
    const f = el('form', { 'aria-labelledby': 'sp-leave-h', novalidate: true },
      el('p', { id: 'sp-leave-h', text: T.leaveIntro }), field('sp-lemail', T.email, email), el('button', { type: 'submit', text: T.leaveSave }));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = email.value.trim();
      const m = !v ? T.required : validEmail(v) ? '' : T.badEmail;
      shadow.getElementById('sp-lemail-err').textContent = m;
      email.toggleAttribute('aria-invalid', !!m);
      if (m) { email.focus(); return; }
      state.profile = Object.assign({}, p, { email: v });
      state.leftEmail = Object.assign(state.leftEmail || {}, { [conv]: true });
      save();
      send(`[Contact] ${p.name ? p.name + ' ' : ''}<${v}>`);
      leaveBox.hidden = true;
      sysLine(T.leftEmail(v));
      input.focus();
    });
    leaveBox.replaceChildren(f);
    leaveBox.hidden = false;
    host.setAttribute('data-leave-email', 'asked');
  }

  // ---- HTTP ----
  class HTTPError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.error && body.error.message) || 'HTTP ' + status);
      this.status = status;
      this.code = body && body.error && body.error.code;
      this.busy = (body && body.error && body.error.busy) || null;
      this.retryAfter = retryAfter || 0; // ms the server asked us to wait (429, 503)
    }
  }
  async function call(method, path, body) {
    const h = { Accept: 'application/json' };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (state.token) h.Authorization = 'Bearer ' + state.token;
    const r = await fetch(api + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', mode: 'cors' });
    const data = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) throw new HTTPError(r.status, data, 1000 * (Number(r.headers.get('Retry-After')) || 0));
    return data;
  }

  // ensureSession makes sure the visitor has a valid token. Concurrent
  // callers (opening the panel, sending the first message) share one
  // request, so a visitor never gets two identities.
  let sessionReq = null;
  function ensureSession(name) {
    if (state.token && state.expires > Date.now() + 60000) return Promise.resolve();
    if (!sessionReq) {
      name = name || (state.profile && state.profile.name) || '';
      const body = name ? { name } : {};
      if (userID) Object.assign(body, { user_id: userID, user_hash: userHash });
      sessionReq = call('POST', '/api/v1/widget/' + encodeURIComponent(workspace) + '/session', Object.keys(body).length ? body : undefined).then((s) => {
        Object.assign(state, { token: s.token, expires: Date.parse(s.expires_at), conv: '', convState: '', cursor: 0, user: userID });
        save();
      }).finally(() => { sessionReq = null; });
    }
    return sessionReq;
  }

  async function loadHistory() {
    let after = 0;
    for (;;) {
      const page = await call('GET', '/api/v1/widget/conversations/' + encodeURIComponent(state.conv) + '/events?after=' + after);
      for (const e of page.items) render(e, false);
      if (page.next_cursor > state.cursor) { state.cursor = page.next_cursor; save(); }
      if (!page.has_more) break;
      after = page.next_cursor;
    }
  }

  let started = false;
  async function start() {
    if (started) return;
    started = true;
    try {
      // A visitor gets a token when they first write (or already has one);
      // an identified user gets one at once, to find their conversations
      // from other devices.
      if (state.token || userID) {
        await ensureSession();
        if (!state.conv) {
          const list = await call('GET', '/api/v1/widget/conversations');
          const open = (list.items || []).filter((c) => c.state !== 'closed')
            .sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at))[0];
          if (open && !state.conv) { state.conv = open.id; state.convState = open.state; state.cursor = 0; save(); }
        }
      }
      if (!state.conv && !state.outbox.length) {
        const st = await fetchStatus();
        // The queue's business hours (server) decide; a queue without any
        // falls back to the tag's data-hours.
        if (cfg.offline === 'true' || (st && !st.open) || (!(st && st.time_zone) && offlineNow())) {
          showView('offline');
          const f = drawOffline(st && st.next_open ? formatOpening(st.next_open, st.time_zone) : nextOpening());
          if (state.open) f.focus();
          setStatus('online');
          started = false;
          return;
        }
        if (st) {
          queueLine.textContent = st.agents_available > 0 ? T.wait(Math.round(st.estimated_wait / 60)) : T.noAgent;
          queueLine.hidden = false;
        }
        if (prechat.includes('name') && !state.profile) { showView('prechat'); const f = drawPrechat(); if (state.open) f.focus(); setStatus('online'); started = false; return; }
      }
      showView('chat');
      if (state.conv) {
        await loadHistory();
        redrawOutbox();
        connect();
        if (state.convState === 'resolved') askRating();
      } else {
        setStatus('online');
        redrawOutbox();
        flush();
      }
    } catch (err) {
      started = false;
      if (err instanceof HTTPError && err.status === 401) {
        Object.assign(state, { token: '', conv: '', cursor: 0 });
        save();
      }
      setStatus('offline');
      retryLater(start, err instanceof HTTPError ? err.retryAfter : 0);
    }
  }

  // ---- sending, with an outbox that survives drops and reloads ----
  const inflight = new Set(); // keys written on the current socket, not yet acked
  let flushing = false;

  function redrawOutbox() {
    for (const m of state.outbox) {
      if (!pendingEls.has(m.key)) {
        const b = bubble(true, m.text, T.you, m.atts);
        pendingEls.set(m.key, b);
        setPending(b, T.queued);
      }
    }
  }

  function send(text, atts) {
    const m = { key: newKey(), text };
    if (atts) m.atts = atts;
    state.outbox.push(m);
    save();
    const b = bubble(true, text, T.you, atts);
    pendingEls.set(m.key, b);
    if (!(sock && sock.readyState === WebSocket.OPEN) && state.conv) setPending(b, T.queued);
    else b.setAttribute('data-pending', '');
    flush();
  }

  async function flush() {
    if (flushing || !state.outbox.length) return;
    flushing = true;
    try {
      if (!state.conv) {
        const m = state.outbox[0];
        let res;
        try {
          await ensureSession();
          const body = { text: m.text, idempotency_key: m.key };
          if (cfg.queue) body.queue_id = cfg.queue;
          if (state.profile && state.profile.name) body.subject = subjectOf(state.profile, false);
          res = await call('POST', '/api/v1/widget/conversations', body);
        } catch (err) {
          if (err instanceof HTTPError && err.status === 503 && err.busy) {
            // Too busy to take a new chat: offer to leave a message instead.
            state.outbox.shift();
            save();
            const b = pendingEls.get(m.key);
            if (b) b.remove();
            pendingEls.delete(m.key);
            showView('busy');
            drawBusy(err.busy, m.text).focus();
          } else if (err instanceof HTTPError && err.status < 500 && err.status !== 429 && err.status !== 401) {
            drop(m.key, err);
          } else {
            if (err instanceof HTTPError && err.status === 401) { state.token = ''; save(); }
            setStatus('offline');
            retryLater(flush, err instanceof HTTPError ? err.retryAfter : 0);
          }
          return;
        }
        state.conv = res.conversation.id;
        state.convState = res.conversation.state;
        state.outbox.shift();
        save();
        for (const e of res.events) render(e, false);
        connect();
      }
      if (sock && sock.readyState === WebSocket.OPEN) {
        for (const m of state.outbox) {
          if (inflight.has(m.key)) continue;
          inflight.add(m.key);
          const f = { type: 'message', conversation_id: state.conv, text: m.text, idempotency_key: m.key };
          if (m.atts) f.attachments = m.atts.map((a) => ({ id: a.id }));
          sock.send(JSON.stringify(f));
        }
      }
    } finally {
      flushing = false;
    }
  }

  function drop(key, err) {
    state.outbox = state.outbox.filter((m) => m.key !== key);
    save();
    const b = pendingEls.get(key);
    if (b) setPending(b, T.failed + (err && err.message ? ': ' + err.message : ''));
    pendingEls.delete(key);
  }

  // ---- realtime ----
  let sock = null;
  let attempt = 0;
  let retryTimer = 0;

  // retryLater calls fn again after a jittered exponential backoff, or
  // later when the server said so (Retry-After, at most 2 minutes).
  function retryLater(fn, atLeast = 0) {
    clearTimeout(retryTimer);
    const delay = Math.max(Math.min(5000, 250 * 2 ** attempt) * (0.75 + Math.random() / 2), Math.min(atLeast, 120000));
    attempt++;
    retryTimer = setTimeout(fn, delay);
  }

  function connect() {
    if (sock || !state.conv || !state.token) return;
    setStatus('connecting');
    const s = new WebSocket(wsBase + '/api/v1/widget/stream?token=' + encodeURIComponent(state.token) + '&cursor=' + state.cursor);
    sock = s;
    s.onopen = () => {
      attempt = 0;
      setStatus('online');
      for (const b of pendingEls.values()) b.querySelector('.note')?.remove();
      flush();
    };
    s.onmessage = (m) => {
      let f;
      try { f = JSON.parse(m.data); } catch (_) { return; }
      if (f.type === 'event' && f.event) render(f.event, true);
      else if (f.type === 'ack' && f.idempotency_key) {
        inflight.delete(f.idempotency_key);
        state.outbox = state.outbox.filter((x) => x.key !== f.idempotency_key);
        save();
        if (f.event) render(f.event, false);
      } else if (f.type === 'error' && f.idempotency_key) {
        inflight.delete(f.idempotency_key);
        const code = f.error && f.error.code;
        if (code === 'conflict' && state.convState === 'closed') {
          // The conversation ended: the message opens a new one.
          state.conv = '';
          state.cursor = 0;
          save();
          s.close();
          flush();
        } else if (code === 'unavailable' || code === 'too_many_requests' || code === 'internal') {
          retryLater(flush);
        } else {
          drop(f.idempotency_key, { message: f.error && f.error.message });
        }
      }
    };
    s.onclose = () => {
      if (sock === s) sock = null;
      inflight.clear();
      setStatus('offline');
      for (const b of pendingEls.values()) setPending(b, T.queued);
      retryLater(connect);
    };
  }

  window.addEventListener('online', () => {
    if (!sock) { attempt = 0; clearTimeout(retryTimer); started ? connect() : start(); }
  });

  // ---- opening, closing, keyboard ----
  function setOpen(open, focus) {
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    if (open) {
      unread = 0;
      badge.hidden = true;
      launcher.setAttribute('aria-label', T.open);
      start();
      if (focus) input.focus();
      scroll();
      markRead();
    } else if (focus) {
      launcher.focus();
    }
  }
  launcher.addEventListener('click', () => setOpen(panel.hidden, true));
  closeBtn.addEventListener('click', () => setOpen(false, true));
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') setOpen(false, true); });
  let lastTyping = 0;
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', () => {
    const now = Date.now();
    if (sock && sock.readyState === WebSocket.OPEN && state.conv && now - lastTyping > 3000) {
      lastTyping = now;
      sock.send(JSON.stringify({ type: 'typing', conversation_id: state.conv }));
    }
  });
  attachBtn.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => { for (const f of fileInput.files) upload(f); fileInput.value = ''; });
  input.addEventListener('paste', (e) => {
    const files = [...((e.clipboardData && e.clipboardData.files) || [])];
    if (files.length) { e.preventDefault(); files.forEach(upload); }
  });
  let dragDepth = 0;
  panel.addEventListener('dragenter', (e) => { if (view === 'chat' && e.dataTransfer && [...e.dataTransfer.types].includes('Files')) { dragDepth++; panel.classList.add('dragging'); } });
  panel.addEventListener('dragleave', () => { if (dragDepth > 0 && --dragDepth === 0) panel.classList.remove('dragging'); });
  panel.addEventListener('dragover', (e) => { if (panel.classList.contains('dragging')) e.preventDefault(); });
  panel.addEventListener('drop', (e) => {
    if (!panel.classList.contains('dragging')) return;
    e.preventDefault();
    dragDepth = 0;
    panel.classList.remove('dragging');
    for (const f of e.dataTransfer.files) upload(f);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    send(text);
    input.focus();
  });

  function mount() {
    document.body.append(host);
    setStatus('connecting');
    if (state.open) setOpen(true, false);
    else if (state.conv || state.outbox.length) start();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);

  window.StarpostWidget = {
    open: () => setOpen(true, true),
    close: () => setOpen(false, false),
  };
})();
