package text

import (
	"math"
	"sort"
)

// SparseVector is a sparse vector with strictly increasing indices.
type SparseVector struct {
	Idx []int32   // feature indices, strictly increasing
	Val []float32 // values, one per index
}

// Dot returns the dot product of two sparse vectors.
func (v SparseVector) Dot(u SparseVector) float64 {
	var s float64
	i, j := 0, 0
	for i < len(v.Idx) && j < len(u.Idx) {
		switch {
		case v.Idx[i] == u.Idx[j]:
			s += float64(v.Val[i]) * float64(u.Val[j])
			i++
			j++
		case v.Idx[i] < u.Idx[j]:
			i++
		default:
			j++
		}
	}
	return s
}

// Norm returns the Euclidean norm of v.
func (v SparseVector) Norm() float64 {
	var s float64
	for _, x := range v.Val {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// Cosine returns the cosine similarity of v and u (0 when either is empty).
func Cosine(v, u SparseVector) float64 {
	nv, nu := v.Norm(), u.Norm()
	if nv == 0 || nu == 0 {
		return 0
	}
	return v.Dot(u) / (nv * nu)
}

// FeatureConfig says which features a Vectorizer extracts.
type FeatureConfig struct {
	// WordNGrams is the longest word n-gram (1 = unigrams, 2 = unigrams and
	// bigrams); 0 turns word features off.
	WordNGrams int
	// CharMin and CharMax bound the character n-gram lengths; CharMax 0
	// turns character features off.
	CharMin, CharMax int
	// MinDF drops features seen in fewer documents than this when fitting.
	MinDF int
	// CharWeight scales the character block relative to the word block
	// (each block is l2-normalised on its own first); 0 means 1.
	CharWeight float64
}

// DefaultFeatures returns word 1-2 grams plus character 1-4 grams, MinDF 1.
func DefaultFeatures() FeatureConfig {
	return FeatureConfig{WordNGrams: 2, CharMin: 1, CharMax: 4, MinDF: 1}
}

// Vectorizer turns text into l2-normalised TF-IDF vectors (sublinear tf:
// 1+ln(tf); smooth idf: ln((1+n)/(1+df))+1) over word n-grams and character
// n-grams with a vocabulary learnt by Fit. Fields are exported so a fitted
// Vectorizer can be saved with encoding/gob; its Tokenizer is attached with
// SetTokenizer after loading.
type Vectorizer struct {
	Config FeatureConfig    // the features extracted
	Vocab  map[string]int32 // feature string to index
	IDF    []float32        // idf weight per index
	// WordDim is the number of word features; character features follow.
	WordDim int32

	tok *Tokenizer
}

// NewVectorizer returns an unfitted Vectorizer using tok for words.
func NewVectorizer(tok *Tokenizer, cfg FeatureConfig) *Vectorizer {
	return &Vectorizer{Config: cfg, tok: tok}
}

// SetTokenizer attaches a Tokenizer (after decoding a saved Vectorizer).
func (v *Vectorizer) SetTokenizer(tok *Tokenizer) { v.tok = tok }

// Dim returns the dimension of the vectors Transform produces.
func (v *Vectorizer) Dim() int { return len(v.IDF) }

// Analyze returns the raw features of s: word features prefixed "w\x00" and
// character features prefixed "c\x00".
func (v *Vectorizer) Analyze(s string) (words, chars []string) {
	if v.Config.WordNGrams > 0 && v.tok != nil {
		terms := v.tok.Terms(s)
		for n := 1; n <= v.Config.WordNGrams; n++ {
			for i := 0; i+n <= len(terms); i++ {
				g := "w\x00" + terms[i]
				for k := 1; k < n; k++ {
					g += " " + terms[i+k]
				}
				words = append(words, g)
			}
		}
	}
	if v.Config.CharMax > 0 {
		for _, g := range CharNGrams(s, v.Config.CharMin, v.Config.CharMax) {
			chars = append(chars, "c\x00"+g)
		}
	}
	return words, chars
}

// Fit learns the vocabulary and idf weights from docs.
func (v *Vectorizer) Fit(docs []string) {
	df := map[string]int{}
	seen := map[string]struct{}{}
	isWord := map[string]bool{}
	for _, d := range docs {
		clear(seen)
		w, c := v.Analyze(d)
		for _, g := range w {
			if _, ok := seen[g]; !ok {
				seen[g] = struct{}{}
				df[g]++
				isWord[g] = true
			}
		}
		for _, g := range c {
			if _, ok := seen[g]; !ok {
				seen[g] = struct{}{}
				df[g]++
			}
		}
	}
	var wordKeys, charKeys []string
	for g, n := range df {
		if n < v.Config.MinDF {
			continue
		}
		if isWord[g] {
			wordKeys = append(wordKeys, g)
		} else {
			charKeys = append(charKeys, g)
		}
	}
	sort.Strings(wordKeys)
	sort.Strings(charKeys)
	v.Vocab = make(map[string]int32, len(wordKeys)+len(charKeys))
	v.IDF = make([]float32, 0, len(wordKeys)+len(charKeys))
	n := float64(len(docs))
	for _, g := range append(wordKeys, charKeys...) {
		v.Vocab[g] = int32(len(v.IDF))
		v.IDF = append(v.IDF, float32(math.Log((1+n)/(1+float64(df[g])))+1))
	}
	v.WordDim = int32(len(wordKeys))
}

// Transform returns the TF-IDF vector of s. Unknown features are ignored.
func (v *Vectorizer) Transform(s string) SparseVector {
	w, c := v.Analyze(s)
	a := v.block(w)
	b := v.block(c)
	cw := v.Config.CharWeight
	if cw == 0 {
		cw = 1
	}
	scale := float32(1 / math.Sqrt(1+cw*cw))
	if len(a.Idx) == 0 || len(b.Idx) == 0 {
		scale = 1
		cw = 1
	}
	out := SparseVector{Idx: append(a.Idx, b.Idx...), Val: make([]float32, 0, len(a.Val)+len(b.Val))}
	for _, x := range a.Val {
		out.Val = append(out.Val, x*scale)
	}
	for _, x := range b.Val {
		out.Val = append(out.Val, x*float32(cw)*scale)
	}
	return out
}

// block builds one l2-normalised sublinear TF-IDF block.
func (v *Vectorizer) block(feats []string) SparseVector {
	tf := map[int32]int{}
	for _, g := range feats {
		if id, ok := v.Vocab[g]; ok {
			tf[id]++
		}
	}
	idx := make([]int32, 0, len(tf))
	for id := range tf {
		idx = append(idx, id)
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
	val := make([]float32, len(idx))
	var norm float64
	for i, id := range idx {
		x := (1 + math.Log(float64(tf[id]))) * float64(v.IDF[id])
		val[i] = float32(x)
		norm += x * x
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range val {
			val[i] *= inv
		}
	}
	return SparseVector{Idx: idx, Val: val}
}

func sortStrings(s []string) { sort.Strings(s) }
