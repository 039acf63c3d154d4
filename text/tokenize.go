package text

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
	"github.com/kljensen/snowball/english"
)

// Script tells which kind of text a token came from.
type Script uint8

const (
	// Latin covers alphabetic and numeric words outside the CJK blocks
	// (English, digits, other alphabets).
	Latin Script = iota + 1
	// Han covers Chinese words produced by the segmenter.
	Han
	// Other covers single characters of other scripts without word
	// boundaries (kana, hangul, symbols kept as letters).
	Other
)

// Token is one normalised term and where it sits in the original text.
type Token struct {
	// Term is the normalised form used for matching: lower-cased,
	// width-folded and, for English when stemming is on, stemmed.
	Term string
	// Start and End are byte offsets of the token in the original text, so
	// text[Start:End] is the surface form (useful for highlighting).
	Start, End int
	// Script is the kind of text the token came from.
	Script Script
	// Stop reports whether the term is a stop word; tokenising with
	// TokenizerOptions.KeepStopWords keeps such tokens and marks them.
	Stop bool
}

// TokenizerOptions configures a Tokenizer. The zero value stems English and
// drops no stop words.
type TokenizerOptions struct {
	// NoStem turns the English Snowball stemmer off.
	NoStem bool
	// DropStopWords removes English and Chinese stop words from Tokenize's
	// result (retrieval wants this; intent classification usually does not,
	// since "not" or "why" carry intent).
	DropStopWords bool
	// UserWords are extra dictionary words for the Chinese segmenter (product
	// names such as 花呗 or 借呗) so they are kept whole.
	UserWords []string
}

// Tokenizer splits mixed Chinese and English text into normalised terms. Its
// segmenter dictionary is loaded once per Tokenizer value. A Tokenizer is safe
// for concurrent use; AddWords may be called concurrently with tokenising.
type Tokenizer struct {
	opts TokenizerOptions

	mu  sync.RWMutex // guards seg's dictionary against AddWords
	seg gse.Segmenter
}

// NewTokenizer loads the embedded simplified-Chinese dictionary and returns a
// Tokenizer. Loading takes about a second; share the result.
func NewTokenizer(opts TokenizerOptions) (*Tokenizer, error) {
	seg, err := gse.NewEmbed("zh_s")
	if err != nil {
		return nil, fmt.Errorf("text: load segmenter dictionary: %w", err)
	}
	t := &Tokenizer{opts: opts, seg: seg}
	if err := t.AddWords(opts.UserWords...); err != nil {
		return nil, err
	}
	return t, nil
}

// userWordFreq is the frequency given to user words: high enough that the
// segmenter prefers them over splitting them into single characters.
const userWordFreq = 20000

// AddWords adds words to this Tokenizer's segmenter dictionary so they are
// kept whole (for example a workspace's product names).
func (t *Tokenizer) AddWords(words ...string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range words {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		if err := t.seg.AddToken(w, userWordFreq); err != nil {
			return fmt.Errorf("text: add user word %q: %w", w, err)
		}
	}
	return nil
}

// Options returns the options the Tokenizer was built with.
func (t *Tokenizer) Options() TokenizerOptions { return t.opts }

// fold maps full-width ASCII forms to ASCII and lower-cases letters.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	} else if r == 0x3000 {
		r = ' '
	}
	if isCommonHan(r) {
		return r // no case: skip the case tables
	}
	return unicode.ToLower(r)
}

// isCommonHan reports whether r is in the CJK Unified Ideographs block,
// where nearly all Chinese text lives: a range check before the tables.
func isCommonHan(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }

func isHan(r rune) bool {
	if r < 0x2E80 { // the first Han code point
		return false
	}
	return isCommonHan(r) || unicode.Is(unicode.Han, r)
}

// HasHan reports whether s has a Chinese (Han) character: how Starpost
// tells Chinese text from English.
func HasHan(s string) bool { return strings.IndexFunc(s, isHan) >= 0 }

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isSingleScript(r rune) bool {
	return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai)
}

// Tokenize splits s into tokens with byte offsets into s. Chinese runs go
// through the word segmenter; other letters and digits form words (an
// apostrophe inside a word is kept and then removed from the term, so
// "can't" becomes "cant"); punctuation and spaces separate tokens.
func (t *Tokenizer) Tokenize(s string) []Token { return t.tokenize(s, t.opts.DropStopWords) }

func (t *Tokenizer) tokenize(s string, dropStop bool) []Token {
	toks := make([]Token, 0, len(s)/3+1)
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		f := fold(r)
		switch {
		case isHan(f):
			j := i + size
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if !isHan(r2) {
					break
				}
				j += n
			}
			toks = t.appendHan(toks, s, i, j, dropStop)
			i = j
		case isSingleScript(f):
			toks = t.appendTerm(toks, string(f), i, i+size, Other, dropStop)
			i += size
		case isWordRune(f):
			j := i + size
			var b strings.Builder
			b.WriteRune(f)
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				f2 := fold(r2)
				if isWordRune(f2) && !isHan(f2) && !isSingleScript(f2) {
					b.WriteRune(f2)
					j += n
					continue
				}
				if (f2 == '\'' || f2 == '’') && j+n < len(s) {
					r3, _ := utf8.DecodeRuneInString(s[j+n:])
					if f3 := fold(r3); isWordRune(f3) && !isHan(f3) && !isSingleScript(f3) {
						j += n // drop the apostrophe from the term
						continue
					}
				}
				break
			}
			toks = t.appendTerm(toks, b.String(), i, j, Latin, dropStop)
			i = j
		default:
			i += size
		}
	}
	return toks
}

func (t *Tokenizer) appendHan(toks []Token, s string, start, end int, dropStop bool) []Token {
	run := s[start:end]
	t.mu.RLock()
	words := t.seg.Cut(run, true)
	t.mu.RUnlock()
	off := start
	for _, w := range words {
		if w == "" {
			continue
		}
		// The segmenter returns consecutive pieces of the run; find each one
		// defensively in case it ever normalises or skips characters.
		k := strings.Index(s[off:end], w)
		if k < 0 {
			continue
		}
		toks = t.appendTerm(toks, w, off+k, off+k+len(w), Han, dropStop)
		off += k + len(w)
	}
	return toks
}

func (t *Tokenizer) appendTerm(toks []Token, term string, start, end int, sc Script, dropStop bool) []Token {
	stop := false
	switch sc {
	case Latin:
		stop = english.IsStopWord(term)
		if !t.opts.NoStem && !isNumeric(term) {
			term = english.Stem(term, true)
		}
	case Han:
		stop = isZhStopWord(term)
	}
	if stop && dropStop {
		return toks
	}
	return append(toks, Token{Term: term, Start: start, End: end, Script: sc, Stop: stop})
}

func isNumeric(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// Terms returns only the normalised terms of s, in order.
func (t *Tokenizer) Terms(s string) []string { return terms(t.Tokenize(s)) }

// AllTerms is Terms with stop words kept even when the Tokenizer drops them
// (classifiers want "not" and 吗; a Tokenizer made for retrieval can then
// serve both).
func (t *Tokenizer) AllTerms(s string) []string { return terms(t.tokenize(s, false)) }

func terms(toks []Token) []string {
	out := make([]string, len(toks))
	for i, tk := range toks {
		out[i] = tk.Term
	}
	return out
}

// Normalize lower-cases s, folds full-width ASCII to ASCII and collapses every
// run of spaces and punctuation to one space. It keeps Chinese characters,
// letters and digits; CharNGrams works on its output.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		f := fold(r)
		if isCommonHan(f) || isWordRune(f) || isHan(f) {
			b.WriteRune(f)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// CharNGrams returns the character n-grams of s for n in [min, max] after
// Normalize, computed inside each space-separated chunk padded with a space on
// both sides (scikit-learn's "char_wb"), so "card" yields " c", "ca", ... and
// "花呗账单" yields "花呗", "呗账" ... A chunk shorter than n contributes its
// padded whole form once.
func CharNGrams(s string, min, max int) []string {
	if min < 1 {
		min = 1
	}
	if max < min {
		max = min
	}
	norm := Normalize(s)
	var out []string
	buf := make([]rune, 0, 32)
	for _, chunk := range strings.Fields(norm) {
		buf = buf[:0]
		buf = append(buf, ' ')
		buf = append(buf, []rune(chunk)...)
		buf = append(buf, ' ')
		for n := min; n <= max; n++ {
			if n > len(buf) {
				break
			}
			for i := 0; i+n <= len(buf); i++ {
				g := buf[i : i+n]
				if n == 1 && g[0] == ' ' {
					continue
				}
				out = append(out, string(g))
			}
		}
	}
	return out
}
