package text

import (
	"container/heap"
	"encoding/gob"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
)

// Document is one retrievable item: a knowledge-base article or FAQ answer.
type Document struct {
	ID    string
	Title string
	Body  string
}

// SynonymFunc returns extra normalised terms to search for a query term (a
// workspace's synonyms: 退款 → 退钱, "refund" → "money back"). Returned
// strings are tokenised like the query, so multi-word synonyms work.
type SynonymFunc func(term string) []string

// IndexOptions configures an Index. The zero value uses k1 = 1.2, b = 0.75,
// title terms counted twice and synonyms weighted 0.7.
type IndexOptions struct {
	K1, B float64
	// TitleBoost is how many times a title term counts toward term
	// frequency; 0 means 2.
	TitleBoost int
	// Synonyms, when set, expands each query term.
	Synonyms SynonymFunc
	// SynonymWeight scales the score of synonym matches; 0 means 0.7.
	SynonymWeight float64
}

// Highlight marks a matched term in a hit: Field is "title" or "body" and
// Start/End are byte offsets into that field.
type Highlight struct {
	Field      string
	Start, End int
}

// Hit is one search result.
type Hit struct {
	ID         string
	Score      float64
	Title      string
	Highlights []Highlight
}

type posting struct {
	Doc int32
	TF  uint16
}

type docEntry struct {
	ID      string
	Title   string
	Body    string
	Len     int32
	Terms   []string // distinct terms, for df bookkeeping on delete
	Deleted bool
}

// Index is an incremental BM25 index. Put adds or replaces a document and
// Delete removes one; both take effect for the next Search. It is safe for
// concurrent use.
type Index struct {
	opts IndexOptions
	tok  *Tokenizer

	mu       sync.RWMutex
	docs     []docEntry
	ids      map[string]int32
	postings map[string][]posting
	df       map[string]int32
	totalLen int64
	live     int
	dead     int // deleted slots still referenced by postings
	scratch  sync.Pool
}

// NewIndex returns an empty index that tokenises with tok; stop words are
// not indexed.
func NewIndex(tok *Tokenizer, opts IndexOptions) *Index {
	if opts.K1 == 0 {
		opts.K1 = 1.2
	}
	if opts.B == 0 {
		opts.B = 0.75
	}
	if opts.TitleBoost == 0 {
		opts.TitleBoost = 2
	}
	if opts.SynonymWeight == 0 {
		opts.SynonymWeight = 0.7
	}
	return &Index{opts: opts, tok: tok, ids: map[string]int32{}, postings: map[string][]posting{}, df: map[string]int32{}}
}

// Len returns the number of live documents.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

func (ix *Index) terms(s string) []string {
	toks := ix.tok.Tokenize(s)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if !t.Stop {
			out = append(out, t.Term)
		}
	}
	return out
}

// Put adds d, replacing any document with the same ID.
func (ix *Index) Put(d Document) {
	tf := map[string]int{}
	n := 0
	for _, t := range ix.terms(d.Title) {
		tf[t] += ix.opts.TitleBoost
		n += ix.opts.TitleBoost
	}
	for _, t := range ix.terms(d.Body) {
		tf[t]++
		n++
	}
	terms := make([]string, 0, len(tf))
	for t := range tf {
		terms = append(terms, t)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deleteLocked(d.ID)
	id := int32(len(ix.docs))
	ix.docs = append(ix.docs, docEntry{ID: d.ID, Title: d.Title, Body: d.Body, Len: int32(n), Terms: terms})
	ix.ids[d.ID] = id
	for t, c := range tf {
		ix.postings[t] = append(ix.postings[t], posting{Doc: id, TF: uint16(min(c, math.MaxUint16))})
		ix.df[t]++
	}
	ix.totalLen += int64(n)
	ix.live++
}

// Delete removes the document with the given ID; it reports whether one
// existed.
func (ix *Index) Delete(id string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.deleteLocked(id)
}

func (ix *Index) deleteLocked(id string) bool {
	n, ok := ix.ids[id]
	if !ok {
		return false
	}
	e := &ix.docs[n]
	for _, t := range e.Terms {
		if ix.df[t]--; ix.df[t] <= 0 {
			delete(ix.df, t)
		}
	}
	ix.totalLen -= int64(e.Len)
	e.Deleted, e.Terms, e.Title, e.Body = true, nil, "", ""
	delete(ix.ids, id)
	ix.live--
	ix.dead++
	if ix.dead > 1024 && ix.dead > ix.live/4 {
		ix.compactLocked()
	}
	return true
}

// compactLocked drops deleted documents and renumbers the rest.
func (ix *Index) compactLocked() {
	remap := make([]int32, len(ix.docs))
	docs := make([]docEntry, 0, ix.live)
	for i, e := range ix.docs {
		if e.Deleted {
			remap[i] = -1
			continue
		}
		remap[i] = int32(len(docs))
		ix.ids[e.ID] = int32(len(docs))
		docs = append(docs, e)
	}
	for t, ps := range ix.postings {
		out := ps[:0]
		for _, p := range ps {
			if r := remap[p.Doc]; r >= 0 {
				out = append(out, posting{Doc: r, TF: p.TF})
			}
		}
		if len(out) == 0 {
			delete(ix.postings, t)
		} else {
			ix.postings[t] = out
		}
	}
	ix.docs = docs
	ix.dead = 0
}

type scored struct {
	doc   int32
	score float64
}

type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i].score < h[j].score }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Search returns the k best documents for query by BM25, with highlight
// offsets of the matched terms in each hit's title and body.
func (ix *Index) Search(query string, k int) []Hit {
	if k <= 0 {
		return nil
	}
	weights := map[string]float64{}
	for _, t := range ix.terms(query) {
		weights[t] = 1
		if ix.opts.Synonyms != nil {
			for _, syn := range ix.opts.Synonyms(t) {
				for _, st := range ix.terms(syn) {
					if _, ok := weights[st]; !ok {
						weights[st] = ix.opts.SynonymWeight
					}
				}
			}
		}
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.live == 0 || len(weights) == 0 {
		return nil
	}
	acc, _ := ix.scratch.Get().(map[int32]float64)
	if acc == nil {
		acc = map[int32]float64{}
	}
	defer func() { clear(acc); ix.scratch.Put(acc) }()
	n := float64(ix.live)
	avg := float64(ix.totalLen) / n
	k1, b := ix.opts.K1, ix.opts.B
	for t, w := range weights {
		df := float64(ix.df[t])
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range ix.postings[t] {
			e := &ix.docs[p.Doc]
			if e.Deleted {
				continue
			}
			tf := float64(p.TF)
			acc[p.Doc] += w * idf * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(e.Len)/avg))
		}
	}
	h := make(minHeap, 0, k+1)
	for d, s := range acc {
		if len(h) < k {
			heap.Push(&h, scored{d, s})
		} else if s > h[0].score || (s == h[0].score && ix.docs[d].ID < ix.docs[h[0].doc].ID) {
			h[0] = scored{d, s}
			heap.Fix(&h, 0)
		}
	}
	sort.Slice(h, func(i, j int) bool {
		if h[i].score != h[j].score {
			return h[i].score > h[j].score
		}
		return ix.docs[h[i].doc].ID < ix.docs[h[j].doc].ID
	})
	hits := make([]Hit, len(h))
	for i, s := range h {
		e := &ix.docs[s.doc]
		hits[i] = Hit{ID: e.ID, Score: s.score, Title: e.Title,
			Highlights: append(ix.highlights("title", e.Title, weights), ix.highlights("body", e.Body, weights)...)}
	}
	return hits
}

func (ix *Index) highlights(field, s string, terms map[string]float64) []Highlight {
	var out []Highlight
	for _, t := range ix.tok.Tokenize(s) {
		if _, ok := terms[t.Term]; ok && !t.Stop {
			out = append(out, Highlight{Field: field, Start: t.Start, End: t.End})
		}
	}
	return out
}

// indexFile is the persisted form of an Index.
type indexFile struct {
	Version  int
	Docs     []docEntry
	Postings map[string][]posting
}

// Save writes the index (documents and postings, without deleted documents)
// with encoding/gob so a restart does not re-tokenise every document.
func (ix *Index) Save(w io.Writer) error {
	ix.mu.Lock()
	if ix.dead > 0 {
		ix.compactLocked()
	}
	f := indexFile{Version: 1, Docs: ix.docs, Postings: ix.postings}
	err := gob.NewEncoder(w).Encode(&f)
	ix.mu.Unlock()
	if err != nil {
		return fmt.Errorf("text: save index: %w", err)
	}
	return nil
}

// LoadIndex reads an index written by Save; tok and opts must match the ones
// the index was built with.
func LoadIndex(r io.Reader, tok *Tokenizer, opts IndexOptions) (*Index, error) {
	var f indexFile
	if err := gob.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("text: load index: %w", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("text: load index: unsupported version %d", f.Version)
	}
	ix := NewIndex(tok, opts)
	ix.docs = f.Docs
	if f.Postings != nil {
		ix.postings = f.Postings
	}
	for i, e := range ix.docs {
		if e.Deleted {
			return nil, fmt.Errorf("text: load index: document %d is marked deleted", i)
		}
		ix.ids[e.ID] = int32(i)
		ix.totalLen += int64(e.Len)
		ix.live++
		for _, t := range e.Terms {
			ix.df[t]++
		}
	}
	return ix, nil
}
