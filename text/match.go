package text

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strings"
)

// Pair is a labelled question pair: Same is true when both ask the same
// thing.
type Pair struct {
	A, B string
	Same bool
}

// rate is a smoothed, target-encoded match rate of a word (or word pair)
// seen on one side of a pair only.
type rate struct {
	N, Pos int
}

// PairFeaturizer turns a question pair into dense similarity features: TF-IDF
// cosines over words and characters, overlap and Jaccard, edit distances,
// longest common substring, length ratios, and "mismatch" features for words
// present on one side only (花呗 vs 借呗), scored by how often such a one-sided
// word went with a match in the training pairs.
type PairFeaturizer struct {
	Words *Vectorizer
	Chars *Vectorizer
	// Diff holds, per word, how many training pairs had it on one side only
	// and how many of those were matches; Cross does the same for an
	// (A-only word, B-only word) couple such as 花呗|借呗.
	Diff, Cross map[string]rate
	Prior       float64
	// Sparse scores hashed one-sided words, shared words and cross pairs of
	// one-sided words with a linear SVM trained on the same pairs.
	Sparse *LinearModel
	// Emb holds word vectors learnt from the training sentences (no labels)
	// for soft-overlap features: are the words on one side only synonyms of
	// words on the other?
	Emb *WordVectors
	tok *Tokenizer
}

// sparseDim is the size of the hashed pair-feature space.
const sparseDim = 1 << 18

func hashFeature(s string) int32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return int32(h % sparseDim)
}

// sparsePair returns the hashed, l2-normalised indicator vector of the pair:
// shared words, one-sided words, cross pairs and one-sided character bigrams.
func (p *PairFeaturizer) sparsePair(a, b string) SparseVector {
	onlyA, onlyB := p.sides(a, b)
	wa, wb := set(p.tok.Terms(a)), set(p.tok.Terms(b))
	seen := map[int32]struct{}{}
	add := func(f string) { seen[hashFeature(f)] = struct{}{} }
	var shared []string
	for w := range wa {
		if _, ok := wb[w]; ok {
			add("s\x00" + w)
			shared = append(shared, w)
		}
	}
	for _, w := range append(append([]string(nil), onlyA...), onlyB...) {
		add("d\x00" + w)
		// What differs, in the context of what is shared: 额度 differs in
		// a 花呗 question and in a 借呗 one.
		for _, sw := range shared {
			add("sd\x00" + sw + "|" + w)
		}
	}
	for _, k := range crossKeys(onlyA, onlyB) {
		add("x\x00" + k)
	}
	qa, qb := questionTypes(a), questionTypes(b)
	var qOnlyA, qOnlyB []string
	for k, q := range questionCues {
		switch {
		case qa&(1<<k) != 0 && qb&(1<<k) == 0:
			qOnlyA = append(qOnlyA, q.name)
		case qb&(1<<k) != 0 && qa&(1<<k) == 0:
			qOnlyB = append(qOnlyB, q.name)
		}
	}
	for _, q := range append(append([]string(nil), qOnlyA...), qOnlyB...) {
		add("q\x00" + q)
	}
	for _, k := range crossKeys(qOnlyA, qOnlyB) {
		add("qx\x00" + k)
	}
	ba, bb := set(CharNGrams(a, 2, 2)), set(CharNGrams(b, 2, 2))
	for g := range ba {
		if _, ok := bb[g]; !ok {
			add("c\x00" + g)
		}
	}
	for g := range bb {
		if _, ok := ba[g]; !ok {
			add("c\x00" + g)
		}
	}
	idx := make([]int32, 0, len(seen))
	for i := range seen {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
	val := make([]float32, len(idx))
	for i := range val {
		val[i] = float32(1 / math.Sqrt(float64(len(idx))))
	}
	return SparseVector{Idx: idx, Val: val}
}

// fitSparse trains the hashed pair model on pairs.
func (p *PairFeaturizer) fitSparse(ctx context.Context, pairs []Pair) error {
	xs := make([]SparseVector, len(pairs))
	ys := make([]int, len(pairs))
	for i, pr := range pairs {
		xs[i] = p.sparsePair(pr.A, pr.B)
		if pr.Same {
			ys[i] = 1
		}
	}
	m, err := TrainLinear(ctx, xs, ys, 2, sparseDim, LinearConfig{C: 0.1, Workers: 1})
	if err != nil {
		return fmt.Errorf("text: fit sparse pair model: %w", err)
	}
	p.Sparse = m
	return nil
}

// pairFeatureNames lists the columns PairFeaturizer.Features returns.
func pairFeatureNames() []string {
	return []string{"len_a", "len_b", "len_diff", "len_ratio", "char_jaccard", "bigram_jaccard",
		"word_jaccard", "word_overlap_min", "edit_norm", "edit", "lcsubstr_ratio", "lcsubseq_ratio",
		"cos_words", "cos_chars", "diff_words", "diff_idf_sum", "diff_idf_max", "te_min", "te_mean",
		"te_cross_min", "te_known", "neg_mismatch", "digit_mismatch", "equal", "sparse_svm",
		"q_why", "q_how", "q_when", "q_amount", "q_can", "q_what", "q_where", "q_mismatch",
		"emb_cos", "align_mean", "align_min", "te_char_min", "te_char_mean", "te_shared_min", "te_shared_mean"}
}

// questionCues are the kinds of question a customer asks and the words
// that mark them: two questions on the same topic asking "why" and "how"
// are different questions.
var questionCues = []struct {
	name string
	cues []string
}{
	{"why", []string{"为什么", "为啥", "为何", "怎么会", "咋会", "什么原因", "原因"}},
	{"how", []string{"怎么", "如何", "怎样", "咋", "方法", "步骤"}},
	{"when", []string{"什么时候", "何时", "几号", "几点", "多久", "多长时间", "哪天", "时间"}},
	{"amount", []string{"多少", "几个", "几次", "几天", "多大", "多高"}},
	{"can", []string{"能不能", "可不可以", "能否", "可以", "能", "会不会", "是否", "有没有", "吗"}},
	{"what", []string{"什么", "啥"}},
	{"where", []string{"哪里", "在哪", "哪儿", "哪个", "入口"}},
}

// questionTypes returns a bit per entry of questionCues whose cue s holds.
func questionTypes(s string) uint {
	var m uint
	for k, q := range questionCues {
		for _, c := range q.cues {
			if strings.Contains(s, c) {
				m |= 1 << k
				break
			}
		}
	}
	return m
}

// NewPairFeaturizer fits the TF-IDF vocabularies on every sentence of pairs
// and the one-sided word statistics on their labels.
func NewPairFeaturizer(tok *Tokenizer, pairs []Pair) *PairFeaturizer {
	p := &PairFeaturizer{tok: tok,
		Words: NewVectorizer(tok, FeatureConfig{WordNGrams: 1}),
		Chars: NewVectorizer(tok, FeatureConfig{CharMin: 1, CharMax: 3}),
	}
	var docs []string
	for _, pr := range pairs {
		docs = append(docs, pr.A, pr.B)
	}
	p.Words.Fit(docs)
	p.Chars.Fit(docs)
	terms := make([][]string, len(docs))
	for i, d := range docs {
		terms[i] = tok.Terms(d)
	}
	p.Emb = LearnWordVectors(terms, 3, 128, 1)
	p.fitRates(pairs)
	return p
}

// SetTokenizer attaches a Tokenizer after decoding a saved PairFeaturizer.
func (p *PairFeaturizer) SetTokenizer(tok *Tokenizer) {
	p.tok = tok
	p.Words.SetTokenizer(tok)
	p.Chars.SetTokenizer(tok)
}

func (p *PairFeaturizer) fitRates(pairs []Pair) {
	p.Diff, p.Cross = map[string]rate{}, map[string]rate{}
	pos := 0
	for _, pr := range pairs {
		if pr.Same {
			pos++
		}
		onlyA, onlyB := p.sides(pr.A, pr.B)
		for _, w := range append(append([]string(nil), onlyA...), onlyB...) {
			r := p.Diff[w]
			r.N++
			if pr.Same {
				r.Pos++
			}
			p.Diff[w] = r
		}
		for _, k := range crossKeys(onlyA, onlyB) {
			r := p.Cross[k]
			r.N++
			if pr.Same {
				r.Pos++
			}
			p.Cross[k] = r
		}
		for _, k := range p.contextKeys(pr.A, pr.B) {
			r := p.Diff[k]
			r.N++
			if pr.Same {
				r.Pos++
			}
			p.Diff[k] = r
		}
	}
	p.Prior = 0.5
	if len(pairs) > 0 {
		p.Prior = float64(pos) / float64(len(pairs))
	}
}

// contextKeys returns the keys under which Diff also counts one-sided
// character bigrams ("c" prefix: robust to segmentation slips) and shared
// words ("s" prefix: topics whose pairs tend to match or not).
func (p *PairFeaturizer) contextKeys(a, b string) []string {
	var out []string
	ba, bb := set(CharNGrams(a, 2, 2)), set(CharNGrams(b, 2, 2))
	for g := range ba {
		if _, ok := bb[g]; !ok {
			out = append(out, "c\x00"+g)
		}
	}
	for g := range bb {
		if _, ok := ba[g]; !ok {
			out = append(out, "c\x00"+g)
		}
	}
	wa, wb := set(p.tok.Terms(a)), set(p.tok.Terms(b))
	for w := range wa {
		if _, ok := wb[w]; ok {
			out = append(out, "s\x00"+w)
		}
	}
	sort.Strings(out)
	return out
}

func crossKeys(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x > y {
				x, y = y, x
			}
			out = append(out, x+"|"+y)
		}
	}
	return out
}

// sides returns the distinct words only in a and only in b.
func (p *PairFeaturizer) sides(a, b string) (onlyA, onlyB []string) {
	sa, sb := set(p.tok.Terms(a)), set(p.tok.Terms(b))
	for w := range sa {
		if _, ok := sb[w]; !ok {
			onlyA = append(onlyA, w)
		}
	}
	for w := range sb {
		if _, ok := sa[w]; !ok {
			onlyB = append(onlyB, w)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB
}

func set(xs []string) map[string]struct{} {
	m := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}

func jaccard[T comparable](a, b map[T]struct{}) float64 {
	if len(a)+len(b) == 0 {
		return 1
	}
	inter := 0
	for x := range a {
		if _, ok := b[x]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func (p *PairFeaturizer) smoothed(r rate, ok bool) float64 {
	const alpha = 5
	if !ok {
		return p.Prior
	}
	return (float64(r.Pos) + alpha*p.Prior) / (float64(r.N) + alpha)
}

// Features returns the feature row of the pair (a, b), in the order of
// pairFeatureNames.
func (p *PairFeaturizer) Features(a, b string) []float64 {
	ra, rb := []rune(Normalize(a)), []rune(Normalize(b))
	la, lb := float64(len(ra)), float64(len(rb))
	ca, cb := map[rune]struct{}{}, map[rune]struct{}{}
	for _, r := range ra {
		ca[r] = struct{}{}
	}
	for _, r := range rb {
		cb[r] = struct{}{}
	}
	ba, bb := set(CharNGrams(a, 2, 2)), set(CharNGrams(b, 2, 2))
	wa, wb := set(p.tok.Terms(a)), set(p.tok.Terms(b))
	inter := 0
	for w := range wa {
		if _, ok := wb[w]; ok {
			inter++
		}
	}
	overlapMin := 0.0
	if m := min(len(wa), len(wb)); m > 0 {
		overlapMin = float64(inter) / float64(m)
	}
	ed := float64(levenshtein(ra, rb))
	maxLen, minLen := math.Max(math.Max(la, lb), 1), math.Max(math.Min(la, lb), 1)
	onlyA, onlyB := p.sides(a, b)
	var idfSum, idfMax float64
	teMin, teSum, known := 1.0, 0.0, 0
	diff := append(append([]string(nil), onlyA...), onlyB...)
	for _, w := range diff {
		idf := 0.0
		if id, ok := p.Words.Vocab["w\x00"+w]; ok {
			idf = float64(p.Words.IDF[id])
		}
		idfSum += idf
		idfMax = math.Max(idfMax, idf)
		r, ok := p.Diff[w]
		if ok {
			known++
		}
		s := p.smoothed(r, ok)
		teMin = math.Min(teMin, s)
		teSum += s
	}
	teMean := 1.0
	if len(diff) > 0 {
		teMean = teSum / float64(len(diff))
	}
	crossMin := 1.0
	for _, k := range crossKeys(onlyA, onlyB) {
		r, ok := p.Cross[k]
		if ok {
			crossMin = math.Min(crossMin, p.smoothed(r, ok))
		}
	}
	eq := 0.0
	if string(ra) == string(rb) {
		eq = 1
	}
	sparse := 0.0
	if p.Sparse != nil {
		sparse = p.Sparse.Scores(p.sparsePair(a, b))[1]
	}
	qa, qb := questionTypes(a), questionTypes(b)
	qs := make([]float64, 0, len(questionCues)+1)
	for k := range questionCues {
		qs = append(qs, float64(qa>>k&1+qb>>k&1))
	}
	qs = append(qs, float64(bits.OnesCount(qa^qb)))
	qs = append(qs, p.embeddingFeatures(a, b, onlyA, onlyB)...)
	qs = append(qs, p.contextRates(a, b)...)
	return append([]float64{la, lb, math.Abs(la - lb), minLen / maxLen, jaccard(ca, cb), jaccard(ba, bb),
		jaccard(wa, wb), overlapMin, ed / maxLen, ed, float64(longestCommonSubstring(ra, rb)) / minLen,
		float64(lcsLength(ra, rb)) / maxLen,
		Cosine(p.Words.Transform(a), p.Words.Transform(b)), Cosine(p.Chars.Transform(a), p.Chars.Transform(b)),
		float64(len(diff)), idfSum, idfMax, teMin, teMean, crossMin, float64(known),
		mismatch(ra, rb, "不没无未非别"), mismatch(ra, rb, "0123456789一二三四五六七八九十"), eq, sparse}, qs...)
}

// contextRates returns the least and mean smoothed match rate of the
// pair's one-sided character bigrams and of its shared words (the prior
// when there is none).
func (p *PairFeaturizer) contextRates(a, b string) []float64 {
	cMin, sMin := 1.0, 1.0
	var cSum, sSum float64
	var cN, sN int
	for _, k := range p.contextKeys(a, b) {
		r, ok := p.Diff[k]
		v := p.smoothed(r, ok)
		if k[0] == 'c' {
			cMin, cSum, cN = min(cMin, v), cSum+v, cN+1
		} else {
			sMin, sSum, sN = min(sMin, v), sSum+v, sN+1
		}
	}
	cMean, sMean := p.Prior, p.Prior
	if cN > 0 {
		cMean = cSum / float64(cN)
	} else {
		cMin = p.Prior
	}
	if sN > 0 {
		sMean = sSum / float64(sN)
	} else {
		sMin = p.Prior
	}
	return []float64{cMin, cMean, sMin, sMean}
}

// embeddingFeatures returns the cosine of the idf-weighted mean word
// vectors of a and b, and the mean and least similarity of each one-sided
// word to its closest word on the other side (1 when there is none).
func (p *PairFeaturizer) embeddingFeatures(a, b string, onlyA, onlyB []string) []float64 {
	if p.Emb == nil {
		return []float64{0, 1, 1}
	}
	ta, tb := p.tok.Terms(a), p.tok.Terms(b)
	idf := func(w string) float64 {
		if id, ok := p.Words.Vocab["w\x00"+w]; ok {
			return float64(p.Words.IDF[id])
		}
		return 1
	}
	cos := 0.0
	if ma, mb := p.Emb.Mean(ta, idf), p.Emb.Mean(tb, idf); ma != nil && mb != nil {
		for k := range ma {
			cos += ma[k] * mb[k]
		}
	}
	var sum float64
	n, least := 0, 1.0
	closest := func(w string, other []string) {
		best, any := 0.0, false
		for _, o := range other {
			if s, ok := p.Emb.Similarity(w, o); ok {
				best, any = max(best, s), true
			}
		}
		if any {
			sum += best
			n++
			least = min(least, best)
		}
	}
	for _, w := range onlyA {
		closest(w, tb)
	}
	for _, w := range onlyB {
		closest(w, ta)
	}
	mean := 1.0
	if n > 0 {
		mean = sum / float64(n)
	}
	return []float64{cos, mean, least}
}

// mismatch is 1 when a and b differ in how many of the given runes they hold.
func mismatch(a, b []rune, runes string) float64 {
	count := func(s []rune) int {
		n := 0
		for _, r := range s {
			if strings.ContainsRune(runes, r) {
				n++
			}
		}
		return n
	}
	if count(a) != count(b) {
		return 1
	}
	return 0
}

func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func longestCommonSubstring(a, b []rune) int {
	best := 0
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				best = max(best, cur[j])
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	return best
}

func lcsLength(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// MatcherOptions configures TrainMatcher.
type MatcherOptions struct {
	GBDT GBDTConfig
	// GBDTGrid, when not empty, replaces GBDT with the configuration of
	// the grid whose out-of-fold accuracy is highest.
	GBDTGrid []GBDTConfig
	// Log, when set, receives a line per configuration tried.
	Log func(string)
	// Folds is the number of folds used for out-of-fold mismatch statistics
	// and for choosing the decision threshold; 0 means 5.
	Folds int
	Seed  uint64
}

// Matcher decides whether two questions ask the same thing.
type Matcher struct {
	Feat      *PairFeaturizer
	Model     *GBDT
	Threshold float64
	// CVAccuracy and CVF1 are the out-of-fold accuracy and positive-class
	// F1 on the training pairs at Threshold.
	CVAccuracy, CVF1 float64
}

// TrainMatcher fits a pair featurizer and a GBDT on labelled pairs. The
// one-sided-word statistics of each training row come from the other folds
// (so the model does not learn from its own labels), and the decision
// threshold is the one that maximises out-of-fold accuracy.
func TrainMatcher(ctx context.Context, tok *Tokenizer, pairs []Pair, opts MatcherOptions) (*Matcher, error) {
	if len(pairs) < 10 {
		return nil, errors.New("text: train matcher: need at least 10 pairs")
	}
	if opts.Folds == 0 {
		opts.Folds = 5
	}
	ys := make([]int, len(pairs))
	for i, p := range pairs {
		if p.Same {
			ys[i] = 1
		}
	}
	fold := stratifiedFolds(ys, 2, opts.Folds, opts.Seed)
	full, xs, err := oofPairFeatures(ctx, tok, pairs, fold, opts.Folds)
	if err != nil {
		return nil, err
	}
	grid := opts.GBDTGrid
	if len(grid) == 0 {
		grid = []GBDTConfig{opts.GBDT}
	}
	best := &Matcher{Feat: full, CVAccuracy: -1}
	var cfg GBDTConfig
	for _, g := range grid {
		// Out-of-fold probabilities choose the configuration and threshold.
		oof, err := oofGBDT(ctx, xs, ys, fold, opts.Folds, g)
		if err != nil {
			return nil, err
		}
		thr, acc, cvF1 := bestThreshold(oof, ys)
		if opts.Log != nil {
			opts.Log(fmt.Sprintf("gbdt %+v: cv accuracy %.4f F1 %.4f at %.2f", g, acc, cvF1, thr))
		}
		if acc > best.CVAccuracy {
			best.Threshold, best.CVAccuracy, best.CVF1, cfg = thr, acc, cvF1, g
		}
	}
	m, err := TrainGBDT(ctx, xs, ys, cfg)
	if err != nil {
		return nil, fmt.Errorf("text: train matcher: %w", err)
	}
	best.Model = m
	return best, nil
}

// oofPairFeatures fits the featurizer on all pairs and returns it with the
// feature rows of every pair computed by a featurizer whose label
// statistics and sparse model come from the other folds, so no row's
// features were learnt from its own label.
func oofPairFeatures(ctx context.Context, tok *Tokenizer, pairs []Pair, fold []int, folds int) (*PairFeaturizer, [][]float64, error) {
	full := NewPairFeaturizer(tok, pairs)
	if err := full.fitSparse(ctx, pairs); err != nil {
		return nil, nil, err
	}
	xs := make([][]float64, len(pairs))
	for f := range folds {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("text: train matcher: %w", err)
		}
		var rest []Pair
		for i, p := range pairs {
			if fold[i] != f {
				rest = append(rest, p)
			}
		}
		part := &PairFeaturizer{tok: tok, Words: full.Words, Chars: full.Chars, Emb: full.Emb}
		part.fitRates(rest)
		if err := part.fitSparse(ctx, rest); err != nil {
			return nil, nil, err
		}
		for i, p := range pairs {
			if fold[i] == f {
				xs[i] = part.Features(p.A, p.B)
			}
		}
	}
	return full, xs, nil
}

// oofGBDT returns every row's probability from a GBDT trained on the other
// folds.
func oofGBDT(ctx context.Context, xs [][]float64, ys []int, fold []int, folds int, cfg GBDTConfig) ([]float64, error) {
	oof := make([]float64, len(xs))
	for f := range folds {
		var trX [][]float64
		var trY []int
		for i := range xs {
			if fold[i] != f {
				trX = append(trX, xs[i])
				trY = append(trY, ys[i])
			}
		}
		m, err := TrainGBDT(ctx, trX, trY, cfg)
		if err != nil {
			return nil, fmt.Errorf("text: train matcher fold %d: %w", f, err)
		}
		for i := range xs {
			if fold[i] == f {
				oof[i] = m.Probability(xs[i])
			}
		}
	}
	return oof, nil
}

// bestThreshold returns the threshold on p that maximises accuracy against
// ys, that accuracy and the positive-class F1 there.
func bestThreshold(p []float64, ys []int) (thr, acc, posF1 float64) {
	thr, best := 0.5, -1
	for t := 0.05; t < 0.951; t += 0.01 {
		c, tp, fp, fn := 0, 0, 0, 0
		for i := range p {
			pred, gold := p[i] >= t, ys[i] == 1
			if pred == gold {
				c++
			}
			switch {
			case pred && gold:
				tp++
			case pred:
				fp++
			case gold:
				fn++
			}
		}
		if c > best {
			best, thr, posF1 = c, t, f1(tp, fp, fn)
		}
	}
	return thr, float64(best) / float64(len(p)), posF1
}

// Match returns the probability that a and b ask the same thing and whether
// it passes the matcher's threshold.
func (m *Matcher) Match(a, b string) (prob float64, same bool) {
	prob = m.Model.Probability(m.Feat.Features(a, b))
	return prob, prob >= m.Threshold
}

// Save writes the matcher with encoding/gob.
func (m *Matcher) Save(w io.Writer) error {
	if err := gob.NewEncoder(w).Encode(m); err != nil {
		return fmt.Errorf("text: save matcher: %w", err)
	}
	return nil
}

// LoadMatcher reads a matcher written by Save and attaches tok.
func LoadMatcher(r io.Reader, tok *Tokenizer) (*Matcher, error) {
	var m Matcher
	if err := gob.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("text: load matcher: %w", err)
	}
	if m.Feat == nil || m.Model == nil {
		return nil, errors.New("text: load matcher: incomplete model")
	}
	m.Feat.SetTokenizer(tok)
	return &m, nil
}
