package kb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/text"
)

// wsIndex is the search state of one workspace.
type wsIndex struct {
	mu    sync.Mutex // guards ix, rev and dirty; serialises loads and edits
	ix    *text.Index
	rev   int64
	dirty bool // edited since the last save
	syn   atomic.Pointer[map[string][]string]

	bmu    sync.RWMutex
	boosts map[string]votes // by document id; nil until loaded
}

// votes counts the feedback on one document.
type votes struct{ helpful, unhelpful int }

// boost is the factor feedback gives a document's score: from 0.5 (only
// "not helpful") to 1.5 (only "helpful"), 1 with no feedback, moving by
// less with every vote so early votes matter most.
func (v votes) boost() float64 {
	return 1 + 0.5*float64(v.helpful-v.unhelpful)/float64(v.helpful+v.unhelpful+2)
}

func (w *wsIndex) synonyms(term string) []string {
	m := w.syn.Load()
	if m == nil {
		return nil
	}
	return (*m)[term]
}

// setSynonyms maps each set member that normalises to one term to the other
// members of its set.
func (w *wsIndex) setSynonyms(tok *text.Tokenizer, sets [][]string) {
	m := map[string][]string{}
	for _, set := range sets {
		for i, t := range set {
			terms := tok.Terms(t)
			if len(terms) != 1 {
				continue
			}
			for j, o := range set {
				if i != j {
					m[terms[0]] = append(m[terms[0]], o)
				}
			}
		}
	}
	w.syn.Store(&m)
}

func articleDoc(a *Article) text.Document {
	return text.Document{ID: a.ID, Title: a.Title, Body: a.Body}
}

// faqDoc indexes a FAQ: its first question is the title, the other
// questions and the answer the body.
func faqDoc(f *FAQ) text.Document {
	body := strings.Join(append(append([]string{}, f.Questions[1:]...), f.Answer), "\n")
	return text.Document{ID: f.ID, Title: f.Questions[0], Body: body}
}

func putArticle(ix *text.Index, a *Article) {
	if a.Status == StatusPublished {
		ix.Put(articleDoc(a))
	} else {
		ix.Delete(a.ID)
	}
}

func putFAQ(ix *text.Index, f *FAQ) {
	if f.Status == StatusPublished {
		ix.Put(faqDoc(f))
	} else {
		ix.Delete(f.ID)
	}
}

func (k *KB) state(ws string) *wsIndex {
	k.mu.Lock()
	defer k.mu.Unlock()
	w := k.wss[ws]
	if w == nil {
		w = &wsIndex{}
		k.wss[ws] = w
	}
	return w
}

// applied brings a loaded index of ws from revision rev-1 to rev with fn;
// an index at any other revision is left for the next search to reload.
func (k *KB) applied(ws string, rev int64, fn func(*text.Index)) {
	k.mu.Lock()
	w := k.wss[ws]
	k.mu.Unlock()
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ix != nil && w.rev == rev-1 {
		fn(w.ix)
		w.rev = rev
		w.dirty = true
	}
}

func (k *KB) revision(ctx context.Context, ws string) (int64, error) {
	var rev int64
	err := k.db.QueryRowContext(ctx, k.q("SELECT revision FROM kb_revisions WHERE workspace_id = ?"), ws).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("kb: read revision: %w", err)
	}
	return rev, nil
}

// index returns the current index of ws, loading or rebuilding it when it
// is missing or behind the stored revision.
func (k *KB) index(ctx context.Context, ws string) (*wsIndex, *text.Index, error) {
	rev, err := k.revision(ctx, ws)
	if err != nil {
		return nil, nil, err
	}
	w := k.state(ws)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ix != nil && w.rev >= rev { // revisions only grow: a local edit may be ahead of the read
		return w, w.ix, nil
	}
	if err := k.load(ctx, ws, w); err != nil {
		return nil, nil, err
	}
	return w, w.ix, nil
}

// load reads ws's synonyms, feedback and index (the saved blob when it is
// current, else a rebuild from the tables, which is then saved). The
// revision is read in the same transaction as the rows, so the index and
// its revision agree. w.mu is held.
func (k *KB) load(ctx context.Context, ws string, w *wsIndex) error {
	sets, err := k.Synonyms(ctx, ws)
	if err != nil {
		return err
	}
	w.setSynonyms(k.tok, sets)
	if err := k.loadVotes(ctx, ws, w); err != nil {
		return err
	}
	opts := text.IndexOptions{Synonyms: w.synonyms}
	rev, err := k.revision(ctx, ws)
	if err != nil {
		return err
	}
	var blobRev int64
	var data []byte
	err = k.db.QueryRowContext(ctx, k.q("SELECT revision, data FROM kb_index_blobs WHERE workspace_id = ?"), ws).Scan(&blobRev, &data)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("kb: read saved index: %w", err)
	}
	if err == nil && blobRev == rev {
		ix, lerr := text.LoadIndex(bytes.NewReader(data), k.tok, opts)
		if lerr == nil {
			w.ix, w.rev, w.dirty = ix, rev, false
			return nil
		}
		k.log.Warn("kb: saved index unreadable, rebuilding", "workspace", ws, "err", lerr)
	}
	ix, rev, err := k.rebuild(ctx, ws, opts)
	if err != nil {
		return err
	}
	w.ix, w.rev, w.dirty = ix, rev, true
	if err := k.save(ctx, ws, w); err != nil {
		k.log.Warn("kb: save index", "workspace", ws, "err", err)
	}
	return nil
}

// rebuild indexes the published articles and FAQs of ws, read in one
// transaction with the revision they make up.
func (k *KB) rebuild(ctx context.Context, ws string, opts text.IndexOptions) (*text.Index, int64, error) {
	tx, err := k.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: k.driver == "postgres"})
	if err != nil {
		return nil, 0, fmt.Errorf("kb: begin rebuild: %w", err)
	}
	defer tx.Rollback()
	var rev int64
	if err := tx.QueryRowContext(ctx, k.q("SELECT revision FROM kb_revisions WHERE workspace_id = ?"), ws).Scan(&rev); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("kb: read revision: %w", err)
	}
	var docs []text.Document
	rows, err := tx.QueryContext(ctx, k.q("SELECT id, title, body FROM kb_articles WHERE workspace_id = ? AND status = ?"), ws, StatusPublished)
	if err != nil {
		return nil, 0, fmt.Errorf("kb: rebuild articles: %w", err)
	}
	for rows.Next() {
		var d text.Document
		if err := rows.Scan(&d.ID, &d.Title, &d.Body); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("kb: rebuild articles: %w", err)
		}
		docs = append(docs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("kb: rebuild articles: %w", err)
	}
	rows, err = tx.QueryContext(ctx, k.q("SELECT "+faqCols+" FROM kb_faqs WHERE workspace_id = ? AND status = ?"), ws, StatusPublished)
	if err != nil {
		return nil, 0, fmt.Errorf("kb: rebuild faqs: %w", err)
	}
	for rows.Next() {
		f, err := scanFAQ(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("kb: rebuild faqs: %w", err)
		}
		docs = append(docs, faqDoc(f))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("kb: rebuild faqs: %w", err)
	}
	tx.Rollback()
	ix := text.NewIndex(k.tok, opts)
	for _, d := range docs {
		ix.Put(d)
	}
	return ix, rev, nil
}

// save persists w's index at its revision; w.mu is held.
func (k *KB) save(ctx context.Context, ws string, w *wsIndex) error {
	var buf bytes.Buffer
	if err := w.ix.Save(&buf); err != nil {
		return fmt.Errorf("kb: save index of %s: %w", ws, err)
	}
	_, err := k.db.ExecContext(ctx, k.q(`INSERT INTO kb_index_blobs (workspace_id, revision, data, saved_at) VALUES (?, ?, ?, ?)
ON CONFLICT (workspace_id) DO UPDATE SET revision = excluded.revision, data = excluded.data, saved_at = excluded.saved_at
WHERE excluded.revision >= kb_index_blobs.revision`), ws, w.rev, buf.Bytes(), nanos(k.clock.Now()))
	if err != nil {
		return fmt.Errorf("kb: save index of %s: %w", ws, err)
	}
	w.dirty = false
	return nil
}

// Flush saves every index changed by edits since it was last saved.
func (k *KB) Flush(ctx context.Context) error {
	k.mu.Lock()
	wss := make(map[string]*wsIndex, len(k.wss))
	for id, w := range k.wss {
		wss[id] = w
	}
	k.mu.Unlock()
	var errs []error
	for id, w := range wss {
		w.mu.Lock()
		if w.ix != nil && w.dirty {
			if err := k.save(ctx, id, w); err != nil {
				errs = append(errs, err)
			}
		}
		w.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Run saves changed indexes every SaveEvery until ctx ends, then saves them
// once more and returns ctx's error.
func (k *KB) Run(ctx context.Context) error {
	t := time.NewTicker(k.opts.SaveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := k.Flush(context.WithoutCancel(ctx)); err != nil {
				k.log.Warn("kb: save indexes", "err", err)
			}
			return ctx.Err()
		case <-t.C:
			if err := k.Flush(ctx); err != nil {
				k.log.Warn("kb: save indexes", "err", err)
			}
		}
	}
}

// ---- feedback ----

func (k *KB) loadVotes(ctx context.Context, ws string, w *wsIndex) error {
	w.bmu.RLock()
	loaded := w.boosts != nil
	w.bmu.RUnlock()
	if loaded {
		return nil
	}
	rows, err := k.db.QueryContext(ctx, k.q("SELECT doc_id, helpful, COUNT(*) FROM kb_feedback WHERE workspace_id = ? GROUP BY doc_id, helpful"), ws)
	if err != nil {
		return fmt.Errorf("kb: read feedback: %w", err)
	}
	defer rows.Close()
	m := map[string]votes{}
	for rows.Next() {
		var id string
		var helpful, n int
		if err := rows.Scan(&id, &helpful, &n); err != nil {
			return fmt.Errorf("kb: read feedback: %w", err)
		}
		v := m[id]
		if helpful != 0 {
			v.helpful += n
		} else {
			v.unhelpful += n
		}
		m[id] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kb: read feedback: %w", err)
	}
	w.bmu.Lock()
	w.boosts = m
	w.bmu.Unlock()
	return nil
}

// RecordFeedback records, once per feedback event (conversation conv, seq
// of the feedback event), whether suggested document docID was helpful. It
// is idempotent: a replayed event changes nothing. Future searches of ws
// rank docID up or down by its votes.
func (k *KB) RecordFeedback(ctx context.Context, ws, conv string, seq int64, docID string, helpful bool) error {
	h := 0
	if helpful {
		h = 1
	}
	w := k.state(ws)
	if err := k.loadVotes(ctx, ws, w); err != nil {
		return err
	}
	res, err := k.db.ExecContext(ctx, k.q(`INSERT INTO kb_feedback (workspace_id, conversation_id, seq, doc_id, helpful) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, conversation_id, seq) DO NOTHING`), ws, conv, seq, docID, h)
	if err != nil {
		return fmt.Errorf("kb: record feedback: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		w.bmu.Lock()
		v := w.boosts[docID]
		if helpful {
			v.helpful++
		} else {
			v.unhelpful++
		}
		w.boosts[docID] = v
		w.bmu.Unlock()
	}
	return nil
}

// ---- search ----

// Highlight marks matched text: Field is "title" or "snippet", Start and
// End byte offsets into that field.
type Highlight struct {
	Field string `json:"field"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Result is one search hit or suggestion.
type Result struct {
	ID   string `json:"id"`
	Type string `json:"type"` // "article" or "faq"
	// Title is the article's title or the FAQ's first question.
	Title string `json:"title"`
	// Snippet is the passage of the body around the first match.
	Snippet    string      `json:"snippet"`
	Highlights []Highlight `json:"highlights"`
	// Answer is a FAQ's whole answer, ready to insert (cut at MaxAnswerLen).
	Answer string  `json:"answer,omitempty"`
	Score  float64 `json:"score"`
}

// MaxResults is the most results Search returns.
const MaxResults = 50

// Search returns the k best published articles and FAQs of workspace ws for
// query: BM25 with the workspace's synonyms over the best Candidates hits,
// re-ranked by agents' feedback.
func (k *KB) Search(ctx context.Context, ws, query string, n int) ([]Result, error) {
	if n <= 0 {
		return nil, nil
	}
	n = min(n, MaxResults)
	w, ix, err := k.index(ctx, ws)
	if err != nil {
		return nil, err
	}
	hits := ix.Search(query, max(n, k.opts.Candidates))
	w.bmu.RLock()
	for i := range hits {
		if v, ok := w.boosts[hits[i].ID]; ok {
			hits[i].Score *= v.boost()
		}
	}
	w.bmu.RUnlock()
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if len(hits) > n {
		hits = hits[:n]
	}
	out := make([]Result, 0, len(hits))
	for _, h := range hits {
		r, ok, err := k.result(ctx, ws, h)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// result completes a hit from the tables: the body for the snippet and a
// FAQ's answer. A document deleted meanwhile is dropped.
func (k *KB) result(ctx context.Context, ws string, h text.Hit) (Result, bool, error) {
	r := Result{ID: h.ID, Title: h.Title, Score: round3(h.Score), Highlights: []Highlight{}}
	var body string
	switch {
	case strings.HasPrefix(h.ID, "kf_"):
		f, err := k.FAQ(ctx, ws, h.ID)
		if starpost.ErrorCode(err) == starpost.ENOTFOUND {
			return r, false, nil
		} else if err != nil {
			return r, false, err
		}
		r.Type, r.Answer, body = "faq", f.Answer, faqDoc(f).Body
	default:
		a, err := k.Article(ctx, ws, h.ID)
		if starpost.ErrorCode(err) == starpost.ENOTFOUND {
			return r, false, nil
		} else if err != nil {
			return r, false, err
		}
		r.Type, body = "article", a.Body
	}
	var bodyHL []text.Highlight
	for _, hl := range h.Highlights {
		switch hl.Field {
		case "title":
			if validSpan(r.Title, hl.Start, hl.End) {
				r.Highlights = append(r.Highlights, Highlight{Field: "title", Start: hl.Start, End: hl.End})
			}
		case "body":
			if validSpan(body, hl.Start, hl.End) {
				bodyHL = append(bodyHL, hl)
			}
		}
	}
	r.Snippet, r.Highlights = snippet(body, bodyHL, r.Highlights)
	return r, true, nil
}

func validSpan(s string, start, end int) bool {
	return start >= 0 && start < end && end <= len(s) && utf8.RuneStart(s[start]) && (end == len(s) || utf8.RuneStart(s[end]))
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// Snippet sizes in bytes: context kept before the first match, and the
// whole snippet's length.
const (
	snippetBefore = 60
	snippetLen    = 240
)

// snippet cuts the passage of body around the first highlight (the start of
// body when there is none) at rune boundaries, and appends the highlights
// that fall inside it, rebased to the snippet, to hl.
func snippet(body string, bodyHL []text.Highlight, hl []Highlight) (string, []Highlight) {
	start := 0
	if len(bodyHL) > 0 {
		start = max(0, bodyHL[0].Start-snippetBefore)
		// Prefer to start at a line or sentence break close before the match.
		for start > 0 && !utf8.RuneStart(body[start]) {
			start--
		}
		if i := strings.LastIndexAny(body[start:bodyHL[0].Start], "\n。.!?！？"); i >= 0 {
			_, sz := utf8.DecodeRuneInString(body[start+i:])
			start += i + sz
		}
	}
	for start > 0 && start < len(body) && !utf8.RuneStart(body[start]) {
		start++
	}
	end := min(len(body), start+snippetLen)
	for end < len(body) && !utf8.RuneStart(body[end]) {
		end--
	}
	// Trim leading spaces, keeping offsets right.
	for start < end && (body[start] == ' ' || body[start] == '\n' || body[start] == '\t') {
		start++
	}
	for _, h := range bodyHL {
		if h.Start >= start && h.End <= end {
			hl = append(hl, Highlight{Field: "snippet", Start: h.Start - start, End: h.End - start})
		}
	}
	return body[start:end], hl
}
