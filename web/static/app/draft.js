// Reply drafts: when the server has a language model configured (GET /me
// lists the "draft" feature), the composer offers "Draft reply". The draft
// is grounded in the knowledge base; it goes into the reply box for the
// agent to check and edit, and the sources it cites are listed under the box
// (articles link to the public help centre).
import { h } from './dom.js';

// draftButton returns the composer's button, or null when drafting is off.
export function draftButton(T, features, onclick) {
  if (!(features || []).includes('draft')) return null;
  return h('button', { type: 'button', class: 'ghost small', id: 'draft-btn', onclick,
    title: T.draft.title + ' (Alt+G)', 'aria-keyshortcuts': 'Alt+G', text: '✎ ' + T.draft.button });
}

// requestDraft asks the server for a draft of conversation convID and
// hands it to insert(text); the cited sources are drawn into sourcesEl.
// Failures are announced; the reply box is left as it was.
export async function requestDraft({ T, call, convID, workspaceID, button, sourcesEl, insert, announce }) {
  if (!button || button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  button.disabled = true;
  const label = button.textContent;
  button.textContent = '… ' + T.draft.working;
  announce(T.draft.working);
  try {
    const d = await call('POST', `/api/v1/conversations/${encodeURIComponent(convID)}/draft`, {});
    insert(d.text || '');
    drawSources(T, sourcesEl, d.citations || [], workspaceID);
    announce(T.draft.ready((d.citations || []).length));
  } catch (err) {
    announce(T.draft.failed(err.message || ''));
  } finally {
    button.removeAttribute('aria-busy');
    button.disabled = false;
    button.textContent = label;
  }
}

// drawSources lists the cited sources, or hides the list when there are
// none.
export function drawSources(T, el, cited, workspaceID) {
  if (!el) return;
  if (!cited.length) { el.hidden = true; el.replaceChildren(); return; }
  el.hidden = false;
  el.replaceChildren(h('span', { class: 'draft-src-h', text: T.draft.sources + ' ' }),
    ...cited.map((s) => {
      const text = `[${s.n}] ${s.title}`;
      if (s.type === 'article' && workspaceID) {
        return h('a', { href: `/help/${encodeURIComponent(workspaceID)}/articles/${encodeURIComponent(s.id)}`, target: '_blank', rel: 'noopener', text });
      }
      return h('span', { class: 'draft-faq', text: text + ' (' + T.draft.faq + ')' });
    }));
}
