package emotion

import (
	"compress/gzip"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/starpost/starpost/text"
)

// Model is one compact text classifier: hashed TF-IDF features, a linear
// SVM with 8-bit companded weights, per-class score offsets and a softmax
// temperature. It is safe for concurrent use.
type Model struct {
	// Name identifies the task ("abuse", "sentiment", "emotion", "emotion_en").
	Name string
	// Labels are the class names, indexed like the score rows.
	Labels []string
	// Spec is the feature configuration the model was trained with.
	Spec FeatureSpec

	// Binary models keep one weight row (for Labels[1]); the score of
	// Labels[0] is its negation.
	Binary bool
	// Q holds the quantised weights feature-major: Q[f*rows+r]. A weight is
	// sign(q) * (|q|/127)^2 * Scale[r].
	Q []int8
	// Scale is the largest absolute weight of each row.
	Scale []float32
	// Bias is the bias weight of each row.
	Bias []float32
	// IDF holds the quantised term weight (idf, times the naive-Bayes
	// factor when Spec.NB is set) of each hashed bucket: 0 for a bucket
	// unseen in training, else (q/255)^2 * IDFMax.
	IDF    []uint8
	IDFMax float32
	// Offsets are added to the class scores before the argmax and softmax
	// (chosen on the development split).
	Offsets []float64
	// Temperature divides the offset scores before the softmax (fitted on
	// the development split).
	Temperature float64

	feat featurizer
	deq  [256]float32 // dequantisation table for Q, before the row scale
}

func (m *Model) rows() int {
	if m.Binary {
		return 1
	}
	return len(m.Labels)
}

// prepare rebuilds the derived state after training or loading.
func (m *Model) prepare(lex *Lexicon, tok *text.Tokenizer) error {
	if len(m.Labels) < 2 || m.Spec.HashBits < 4 || m.Spec.HashBits > 24 {
		return fmt.Errorf("emotion: model %q: bad shape", m.Name)
	}
	rows := m.rows()
	if len(m.Q) != m.Spec.dim()*rows || len(m.Scale) != rows || len(m.Bias) != rows ||
		len(m.IDF) != 1<<m.Spec.HashBits || len(m.Offsets) != len(m.Labels) {
		return fmt.Errorf("emotion: model %q: inconsistent sizes", m.Name)
	}
	if m.Spec.Words && tok == nil {
		return fmt.Errorf("emotion: model %q needs a word tokenizer", m.Name)
	}
	idf := make([]float32, len(m.IDF))
	for i, q := range m.IDF {
		if q > 0 {
			x := float32(q) / 255
			idf[i] = x * x * m.IDFMax
		}
	}
	m.feat = featurizer{spec: m.Spec, idf: idf, lex: lex}
	if m.Spec.Words {
		m.feat.tok = tok
	}
	for i := range m.deq {
		q := float32(int8(uint8(i))) / 127
		if q < 0 {
			m.deq[i] = -q * q
		} else {
			m.deq[i] = q * q
		}
	}
	return nil
}

// rawScores returns the decision value of every class for x, offsets added.
func (m *Model) rawScores(x text.SparseVector) []float64 {
	rows := m.rows()
	acc := make([]float64, rows)
	for k, id := range x.Idx {
		base := int(id) * rows
		v := float64(x.Val[k])
		for r := range rows {
			acc[r] += v * float64(m.deq[uint8(m.Q[base+r])])
		}
	}
	out := make([]float64, len(m.Labels))
	if m.Binary {
		s := acc[0]*float64(m.Scale[0]) + float64(m.Bias[0])
		out[0], out[1] = -s, s
	} else {
		for r := range rows {
			out[r] = acc[r]*float64(m.Scale[r]) + float64(m.Bias[r])
		}
	}
	for c := range out {
		out[c] += m.Offsets[c]
	}
	return out
}

// Predict returns the calibrated probability of every class for s, indexed
// like Labels, and the index of the most probable class.
func (m *Model) Predict(s string) (probs []float64, best int) { return m.predict(s, nil) }

// predict is Predict with s's word terms already computed (nil: computed
// when needed).
func (m *Model) predict(s string, words []string) (probs []float64, best int) {
	sc := m.rawScores(m.feat.vectorWords(s, words))
	p := text.Softmax(sc, m.Temperature)
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	return p, best
}

// trainConfig is one candidate training configuration.
type trainConfig struct {
	Spec  FeatureSpec
	C     float64
	MinDF int
}

// trainModel fits a model on texts with class indices ys.
func trainModel(ctx context.Context, name string, labels []string, texts []string, ys []int, cfg trainConfig, lex *Lexicon, tok *text.Tokenizer) (*Model, error) {
	f := featurizer{spec: cfg.Spec, lex: lex, tok: tok}
	f.fitIDF(texts, cfg.MinDF)
	f.fitNB(texts, ys, len(labels))
	xs := make([]text.SparseVector, len(texts))
	for i, t := range texts {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("emotion: train %s: %w", name, ctx.Err())
		}
		xs[i] = f.vector(t)
	}
	return fitVectors(ctx, name, labels, f, xs, ys, cfg.C, nil, lex, tok)
}

// fitVectors trains the SVM on already vectorised examples and quantises it.
// cw, when not nil, weights C per class (text.LinearConfig.ClassWeight).
func fitVectors(ctx context.Context, name string, labels []string, f featurizer, xs []text.SparseVector, ys []int, c float64, cw []float64, lex *Lexicon, tok *text.Tokenizer) (*Model, error) {
	dim := f.spec.dim()
	lm, err := text.TrainLinear(ctx, xs, ys, len(labels), dim, text.LinearConfig{C: c, Seed: 1, Workers: 2, MaxIter: 200, ClassWeight: cw})
	if err != nil {
		return nil, fmt.Errorf("emotion: train %s: %w", name, err)
	}
	m := &Model{Name: name, Labels: labels, Spec: f.spec, Binary: len(labels) == 2, Temperature: 1,
		Offsets: make([]float64, len(labels))}
	rows := m.rows()
	wrows := lm.W
	if m.Binary {
		wrows = lm.W[1:]
	}
	m.Q = make([]int8, dim*rows)
	m.Scale = make([]float32, rows)
	m.Bias = make([]float32, rows)
	for r, w := range wrows {
		var mx float32
		for _, x := range w[:dim] {
			mx = max(mx, float32(math.Abs(float64(x))))
		}
		if mx == 0 {
			mx = 1
		}
		m.Scale[r] = mx
		m.Bias[r] = w[dim] * lm.Bias
		for i, x := range w[:dim] {
			q := math.Round(127 * math.Sqrt(math.Abs(float64(x/mx))))
			if x < 0 {
				q = -q
			}
			m.Q[i*rows+r] = int8(q)
		}
	}
	m.IDF = make([]uint8, len(f.idf))
	for _, w := range f.idf {
		m.IDFMax = max(m.IDFMax, w)
	}
	for i, w := range f.idf {
		if w > 0 {
			m.IDF[i] = uint8(max(1, min(255, math.Round(255*math.Sqrt(float64(w/m.IDFMax))))))
		}
	}
	if err := m.prepare(lex, tok); err != nil {
		return nil, err
	}
	return m, nil
}

// balancedWeights returns per-class C weights (n / (classes * n_c))^power:
// power 0 is unweighted, 1 fully balanced.
func balancedWeights(ys []int, classes int, power float64) []float64 {
	if power == 0 {
		return nil
	}
	n := make([]float64, classes)
	for _, y := range ys {
		n[y]++
	}
	w := make([]float64, classes)
	for c := range w {
		w[c] = 1
		if n[c] > 0 {
			w[c] = math.Pow(float64(len(ys))/(float64(classes)*n[c]), power)
		}
	}
	return w
}

// calibrate chooses per-class offsets on held-out examples (to maximise
// accuracy for a binary model or macro-F1 otherwise) and then fits the
// softmax temperature on the same examples.
func (m *Model) calibrate(texts []string, ys []int, macro bool) {
	clear(m.Offsets)
	scores := make([][]float64, len(texts))
	for i, t := range texts {
		scores[i] = m.rawScores(m.feat.vector(t))
	}
	m.Offsets = tuneOffsets(scores, ys, len(m.Labels), macro)
	for i := range scores {
		for c := range scores[i] {
			scores[i][c] += m.Offsets[c]
		}
	}
	m.Temperature = text.FitTemperature(scores, ys)
}

// tuneOffsets runs a few rounds of coordinate ascent over per-class additive
// offsets on a coarse grid, keeping class 0's offset at zero.
func tuneOffsets(scores [][]float64, ys []int, classes int, macro bool) []float64 {
	off := make([]float64, classes)
	objective := func() float64 {
		pred := make([]int, len(scores))
		for i, s := range scores {
			best := 0
			for c := range s {
				if s[c]+off[c] > s[best]+off[best] {
					best = c
				}
			}
			pred[i] = best
		}
		acc, mf1, _ := metrics(ys, pred, classes)
		if macro {
			return mf1
		}
		return acc
	}
	best := objective()
	for range 3 {
		improved := false
		for c := 1; c < classes; c++ {
			keep := off[c]
			for d := -0.5; d <= 0.5001; d += 0.05 {
				off[c] = d
				if v := objective(); v > best+1e-9 {
					best, keep, improved = v, d, true
				}
			}
			off[c] = keep
		}
		if !improved {
			break
		}
	}
	return off
}

// metrics returns accuracy, macro-F1 over all classes and per-class F1.
func metrics(gold, pred []int, classes int) (acc, macroF1 float64, perClass []float64) {
	tp := make([]int, classes)
	fp := make([]int, classes)
	fn := make([]int, classes)
	correct := 0
	for i := range gold {
		if gold[i] == pred[i] {
			correct++
			tp[gold[i]]++
		} else {
			fp[pred[i]]++
			fn[gold[i]]++
		}
	}
	perClass = make([]float64, classes)
	for c := range classes {
		if tp[c] > 0 {
			p := float64(tp[c]) / float64(tp[c]+fp[c])
			r := float64(tp[c]) / float64(tp[c]+fn[c])
			perClass[c] = 2 * p * r / (p + r)
		}
		macroF1 += perClass[c]
	}
	if len(gold) == 0 {
		return 0, 0, perClass
	}
	return float64(correct) / float64(len(gold)), macroF1 / float64(classes), perClass
}

// modelFileVersion is bumped whenever the Model encoding changes.
const modelFileVersion = 2

type modelFile struct {
	Version int
	Model   *Model
}

// Save writes the model as gzip-compressed gob.
func (m *Model) Save(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return fmt.Errorf("emotion: save %s: %w", m.Name, err)
	}
	if err := gob.NewEncoder(zw).Encode(modelFile{Version: modelFileVersion, Model: m}); err != nil {
		return fmt.Errorf("emotion: save %s: %w", m.Name, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("emotion: save %s: %w", m.Name, err)
	}
	return nil
}

// LoadModel reads a model written by Save. lex is the lexicon for its
// lexicon features (nil means the built-in one); tok is needed only by models
// trained with word features.
func LoadModel(r io.Reader, lex *Lexicon, tok *text.Tokenizer) (*Model, error) {
	m, err := decodeModel(r)
	if err != nil {
		return nil, err
	}
	if lex == nil {
		lex = NewLexicon()
	}
	if err := m.prepare(lex, tok); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeModel reads a model written by Save without preparing it.
func decodeModel(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("emotion: load model: %w", err)
	}
	defer zr.Close()
	var f modelFile
	if err := gob.NewDecoder(zr).Decode(&f); err != nil {
		return nil, fmt.Errorf("emotion: load model: %w", err)
	}
	if f.Version != modelFileVersion {
		return nil, fmt.Errorf("emotion: load model: unsupported version %d", f.Version)
	}
	if f.Model == nil {
		return nil, errors.New("emotion: load model: empty file")
	}
	return f.Model, nil
}
