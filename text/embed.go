package text

import (
	"math"
	"math/rand/v2"
	"sort"
)

// WordVectors are distributional word vectors learnt from unlabelled
// sentences: each word's row of positive pointwise mutual information with
// the words it shares a sentence with, randomly projected to Dim dimensions
// (which keeps cosines between rows, Johnson-Lindenstrauss) and
// l2-normalised. Words used in the same contexts (还款 and 还钱) get close
// vectors. Exported fields allow encoding/gob persistence.
type WordVectors struct {
	Dim  int
	Vecs map[string][]float32
}

// LearnWordVectors learns vectors for the terms that occur at least
// minCount times in sentences (already tokenised into terms), projected to
// dim dimensions with a random projection seeded by seed.
func LearnWordVectors(sentences [][]string, minCount, dim int, seed uint64) *WordVectors {
	count := map[string]int{}
	for _, s := range sentences {
		for w := range set(s) {
			count[w]++
		}
	}
	var vocab []string
	for w, c := range count {
		if c >= minCount {
			vocab = append(vocab, w)
		}
	}
	sort.Strings(vocab)
	id := make(map[string]int, len(vocab))
	for i, w := range vocab {
		id[w] = i
	}
	// Sentence-level co-occurrence counts.
	co := make([]map[int]float64, len(vocab))
	for i := range co {
		co[i] = map[int]float64{}
	}
	var total float64
	marg := make([]float64, len(vocab))
	for _, s := range sentences {
		var ids []int
		for w := range set(s) {
			if i, ok := id[w]; ok {
				ids = append(ids, i)
			}
		}
		for _, a := range ids {
			for _, b := range ids {
				if a != b {
					co[a][b]++
					marg[a]++
					total++
				}
			}
		}
	}
	// Context distribution smoothed with exponent 0.75 (Levy et al. 2015).
	var ctxSum float64
	ctxP := make([]float64, len(vocab))
	for i, m := range marg {
		ctxP[i] = math.Pow(m, 0.75)
		ctxSum += ctxP[i]
	}
	rng := rand.New(rand.NewPCG(seed, 0xe3b))
	proj := make([][]float32, len(vocab))
	for i := range proj {
		proj[i] = make([]float32, dim)
		for k := range proj[i] {
			proj[i][k] = float32(rng.NormFloat64())
		}
	}
	wv := &WordVectors{Dim: dim, Vecs: make(map[string][]float32, len(vocab))}
	for a, row := range co {
		if marg[a] == 0 {
			continue
		}
		v := make([]float64, dim)
		for b, n := range row {
			pmi := math.Log(n * ctxSum / (marg[a] * ctxP[b]))
			if pmi <= 0 {
				continue
			}
			for k, r := range proj[b] {
				v[k] += pmi * float64(r)
			}
		}
		var norm float64
		for _, x := range v {
			norm += x * x
		}
		if norm == 0 {
			continue
		}
		out := make([]float32, dim)
		inv := 1 / math.Sqrt(norm)
		for k, x := range v {
			out[k] = float32(x * inv)
		}
		wv.Vecs[vocab[a]] = out
	}
	return wv
}

// Similarity returns the cosine of the vectors of words a and b and whether
// both have one; a word is always similar 1 to itself.
func (wv *WordVectors) Similarity(a, b string) (float64, bool) {
	if a == b {
		return 1, true
	}
	va, ok1 := wv.Vecs[a]
	vb, ok2 := wv.Vecs[b]
	if !ok1 || !ok2 {
		return 0, false
	}
	var s float64
	for k := range va {
		s += float64(va[k]) * float64(vb[k])
	}
	return s, true
}

// Mean returns the l2-normalised weighted mean of the vectors of terms
// (weight(term) each; terms without a vector are skipped), nil when none
// has one.
func (wv *WordVectors) Mean(terms []string, weight func(string) float64) []float64 {
	var out []float64
	for _, t := range terms {
		v, ok := wv.Vecs[t]
		if !ok {
			continue
		}
		if out == nil {
			out = make([]float64, wv.Dim)
		}
		w := weight(t)
		for k, x := range v {
			out[k] += w * float64(x)
		}
	}
	var norm float64
	for _, x := range out {
		norm += x * x
	}
	if norm == 0 {
		return nil
	}
	for k := range out {
		out[k] /= math.Sqrt(norm)
	}
	return out
}
