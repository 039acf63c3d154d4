package emotion

import (
	"math"
	"slices"
	"unicode"

	"github.com/starpost/starpost/text"
)

// FeatureSpec says which features a model extracts. Character n-grams and
// optional word n-grams are hashed into 2^HashBits buckets; the lexicon block
// follows the hashed block.
type FeatureSpec struct {
	// CharMin and CharMax bound the character n-gram lengths (on the
	// normalised text, punctuation and emoji included).
	CharMin, CharMax int
	// Words adds word unigrams and bigrams from the text tokenizer (gse
	// segmentation for Chinese, stop words kept, English stemmed); it
	// needs a Tokenizer at prediction time (see NewWordTokenizer).
	Words bool
	// HashBits is log2 of the number of hashed buckets.
	HashBits int
	// LexiconWeight scales the lexicon block (0 turns it off).
	LexiconWeight float32
	// NB, when positive, multiplies each bucket's idf by |r|^NB where r is
	// its naive-Bayes log-count ratio between classes (the largest over
	// one-vs-rest splits), as in NBSVM (Wang and Manning 2012): a supervised
	// term weighting. The sign of r is left to the SVM.
	NB float32
}

// dim returns the feature dimension: hashed buckets then lexicon cues.
func (s FeatureSpec) dim() int { return 1<<s.HashBits + int(numCues) }

// featurizer turns text into sparse TF-IDF vectors.
type featurizer struct {
	spec FeatureSpec
	idf  []float32 // per hashed bucket; 0 means "not seen in training"
	lex  *Lexicon
	tok  *text.Tokenizer // only when spec.Words
	// terms, when not nil, caches the word terms of texts while training
	// (every candidate spec reads the same texts several times).
	terms map[string][]string
}

// words returns the word terms of s (stop words kept: 不, 吗 and "not"
// carry emotion).
func (f *featurizer) words(s string) []string {
	if f.terms == nil {
		return f.tok.AllTerms(s)
	}
	t, ok := f.terms[s]
	if !ok {
		t = f.tok.AllTerms(s)
		f.terms[s] = t
	}
	return t
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// normRunes folds full-width ASCII, lower-cases, maps every digit to '0',
// collapses white space to one space, and pads with a space at both ends.
func normRunes(s string, buf []rune) []rune {
	buf = append(buf[:0], ' ')
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		switch {
		case unicode.IsSpace(r):
			r = ' '
		case unicode.IsDigit(r):
			r = '0'
		case unicode.Is(unicode.Mn, r) || r == 0xFE0F || r == 0x200D:
			continue // variation selectors and joiners
		default:
			r = unicode.ToLower(r)
		}
		if r == ' ' && buf[len(buf)-1] == ' ' {
			continue
		}
		buf = append(buf, r)
	}
	if buf[len(buf)-1] != ' ' {
		buf = append(buf, ' ')
	}
	return buf
}

// buckets appends the hashed bucket of every feature of s to out.
// words, when not nil, are s's word terms already computed (see words).
func (f *featurizer) buckets(s string, words []string, out []uint32) []uint32 {
	mask := uint64(1)<<f.spec.HashBits - 1
	rs := normRunes(s, make([]rune, 0, len(s)+2))
	for i := range rs {
		h := uint64(fnvOffset)
		for n := 1; n <= f.spec.CharMax && i+n <= len(rs); n++ {
			r := rs[i+n-1]
			h = (h ^ uint64(r)) * fnvPrime
			if n >= f.spec.CharMin && !(n == 1 && r == ' ') {
				out = append(out, uint32(mix(h+uint64(n))&mask))
			}
		}
	}
	if f.spec.Words && f.tok != nil {
		terms := words
		if terms == nil {
			terms = f.words(s)
		}
		prev := uint64(0)
		for i, t := range terms {
			h := uint64(fnvOffset) ^ 0x77
			for k := 0; k < len(t); k++ {
				h = (h ^ uint64(t[k])) * fnvPrime
			}
			out = append(out, uint32(mix(h)&mask))
			if i > 0 {
				out = append(out, uint32(mix(prev*31+h)&mask))
			}
			prev = h
		}
	}
	return out
}

// mix is the splitmix64 finaliser, spreading FNV hashes over the buckets.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// fitIDF learns smoothed idf weights from docs; buckets seen in fewer than
// minDF documents get weight 0 and are ignored.
func (f *featurizer) fitIDF(docs []string, minDF int) {
	df := make([]int32, 1<<f.spec.HashBits)
	var bs []uint32
	for _, d := range docs {
		bs = f.buckets(d, nil, bs[:0])
		slices.Sort(bs)
		bs = slices.Compact(bs)
		for _, b := range bs {
			df[b]++
		}
	}
	n := float64(len(docs))
	f.idf = make([]float32, len(df))
	for b, c := range df {
		if int(c) >= minDF && c > 0 {
			f.idf[b] = float32(math.Log((1+n)/(1+float64(c))) + 1)
		}
	}
}

// fitNB multiplies the idf of every bucket by |r|^spec.NB, where r is the
// naive-Bayes log-count ratio of the bucket's document frequency in one class
// against the rest (smoothed by 1), maximised over classes.
func (f *featurizer) fitNB(docs []string, ys []int, classes int) {
	if f.spec.NB <= 0 {
		return
	}
	dim := len(f.idf)
	counts := make([][]float64, classes)
	for c := range counts {
		counts[c] = make([]float64, dim)
	}
	var bs []uint32
	for i, d := range docs {
		bs = f.buckets(d, nil, bs[:0])
		slices.Sort(bs)
		bs = slices.Compact(bs)
		for _, b := range bs {
			counts[ys[i]][b]++
		}
	}
	total := make([]float64, dim)
	var sumAll float64
	sums := make([]float64, classes)
	for c := range counts {
		for b, x := range counts[c] {
			total[b] += x
			sums[c] += x + 1
		}
		sumAll += sums[c]
	}
	for b := range dim {
		if f.idf[b] == 0 {
			continue
		}
		var r float64
		for c := range classes {
			if classes == 2 && c == 1 {
				break // symmetric for two classes
			}
			p := (counts[c][b] + 1) / sums[c]
			q := (total[b] - counts[c][b] + float64(classes-1)) / (sumAll - sums[c])
			r = max(r, math.Abs(math.Log(p/q)))
		}
		f.idf[b] *= float32(math.Pow(r, float64(f.spec.NB)))
	}
}

// vector returns the feature vector of s: the l2-normalised sublinear TF-IDF
// hashed block followed by the lexicon block.
func (f *featurizer) vector(s string) text.SparseVector { return f.vectorWords(s, nil) }

// vectorWords is vector with s's word terms already computed (nil: compute
// them when the spec has word features).
func (f *featurizer) vectorWords(s string, words []string) text.SparseVector {
	bs := f.buckets(s, words, make([]uint32, 0, 4*len(s)))
	slices.Sort(bs)
	var v text.SparseVector
	v.Idx = make([]int32, 0, len(bs)/2+int(numCues))
	v.Val = make([]float32, 0, cap(v.Idx))
	var norm float64
	for i := 0; i < len(bs); {
		j := i + 1
		for j < len(bs) && bs[j] == bs[i] {
			j++
		}
		if w := f.idf[bs[i]]; w > 0 {
			x := (1 + math.Log(float64(j-i))) * float64(w)
			v.Idx = append(v.Idx, int32(bs[i]))
			v.Val = append(v.Val, float32(x))
			norm += x * x
		}
		i = j
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range v.Val {
			v.Val[i] *= inv
		}
	}
	if f.spec.LexiconWeight > 0 && f.lex != nil {
		base := int32(1 << f.spec.HashBits)
		for c, x := range f.lex.features(s) {
			if x != 0 {
				v.Idx = append(v.Idx, base+int32(c))
				v.Val = append(v.Val, x*f.spec.LexiconWeight)
			}
		}
	}
	return v
}
