package text

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
)

// ClassifierOptions configures TrainClassifier.
type ClassifierOptions struct {
	// Features selects the TF-IDF features; the zero value means
	// DefaultFeatures().
	Features FeatureConfig
	// Linear configures the SVM; Linear.C is used when CGrid is empty.
	Linear LinearConfig
	// CGrid, when not empty, is searched by k-fold cross-validation on the
	// training data and the most accurate C is kept.
	CGrid []float64
	// Folds is the number of cross-validation folds used to choose C and to
	// fit the confidence temperature on out-of-fold scores; 0 means 3, and 1
	// skips cross-validation (temperature stays 1).
	Folds int
	// Seed makes fold assignment reproducible.
	Seed uint64
	// Blend, with cross-validation on, also scores every class by the
	// similarity of its nearest training example and adds Beta times that
	// to the SVM's scores, Beta chosen on the out-of-fold scores. The blend
	// is kept only when its cross-validated accuracy beats the SVM's alone
	// (nested: Beta is chosen on some of the out-of-fold rows and measured
	// on the others).
	Blend bool
	// KeepExamples keeps the training vectors and their Neighbours index
	// in the classifier (and its file) even without the blend, for callers
	// that need the nearest-example similarity (out-of-scope detection).
	KeepExamples bool
}

// CVResult is what cross-validation measured on the training data.
type CVResult struct {
	Folds int
	// Fold is the fold each training example was held out in.
	Fold []int
	// Scores are the out-of-fold decision values of the chosen combination
	// (before the temperature): what calibration and thresholds are
	// fitted on.
	Scores [][]float64
	// Accuracy is the out-of-fold accuracy of the chosen combination and
	// SVMAccuracy that of the SVM alone.
	Accuracy, SVMAccuracy float64
	// Beta is the weight of the nearest-neighbour similarity in the
	// scores (0: the SVM alone).
	Beta        float64
	Temperature float64
}

// Classifier is a text classifier: TF-IDF features, a one-vs-rest linear
// SVM, optionally blended with nearest-neighbour similarity, and a softmax
// calibrated by temperature scaling. It is safe for concurrent prediction.
type Classifier struct {
	Labels []string     // class names, indexed like the model's rows
	Vec    *Vectorizer  // fitted features
	Model  *LinearModel // linear SVM; its Temperature calibrates Scores
	// Beta is the weight of Neighbours' similarities added to the SVM's
	// scores (0: the SVM's scores alone).
	Beta float64
	// Neighbours indexes the training vectors.
	Neighbours *Neighbours
	// Examples are the training vectors, kept to rebuild Neighbours.
	Examples []SparseVector
	// CVAccuracy is the cross-validated accuracy of the chosen
	// configuration on the training data (0 when cross-validation was
	// skipped).
	CVAccuracy float64
	// CV holds the cross-validation details of a freshly trained
	// classifier (nil after loading or without cross-validation).
	CV *CVResult

	chosenC float64
}

// LabelScore is one class and its calibrated probability.
type LabelScore struct {
	Label string  // class name
	Prob  float64 // calibrated probability
}

// Prediction is the result of Classify: the classes ordered by probability.
type Prediction struct {
	// Label is the most probable class and Confidence its probability.
	Label      string
	Confidence float64
	// Ranked holds every class, most probable first.
	Ranked []LabelScore
}

// Margin returns the probability gap between the two most probable classes,
// useful to decide when to ask a clarifying question.
func (p Prediction) Margin() float64 {
	if len(p.Ranked) < 2 {
		return p.Confidence
	}
	return p.Ranked[0].Prob - p.Ranked[1].Prob
}

// TrainClassifier fits features and a linear SVM on texts with their labels.
// With cross-validation on (Folds != 1) it chooses C from CGrid, decides on
// the nearest-neighbour blend (opts.Blend) and fits the confidence temperature on out-of-fold
// decision values before training the final model on all the data.
func TrainClassifier(ctx context.Context, tok *Tokenizer, texts, labels []string, opts ClassifierOptions) (*Classifier, error) {
	if len(texts) != len(labels) {
		return nil, fmt.Errorf("text: train classifier: %d texts but %d labels", len(texts), len(labels))
	}
	if opts.Features == (FeatureConfig{}) {
		opts.Features = DefaultFeatures()
	}
	index := map[string]int{}
	var names []string
	ys := make([]int, len(labels))
	for i, l := range labels {
		id, ok := index[l]
		if !ok {
			id = len(names)
			index[l] = id
			names = append(names, l)
		}
		ys[i] = id
	}
	if len(names) < 2 {
		return nil, errors.New("text: train classifier: need at least two labels")
	}
	vec := NewVectorizer(tok, opts.Features)
	vec.Fit(texts)
	xs := make([]SparseVector, len(texts))
	for i, t := range texts {
		xs[i] = vec.Transform(t)
	}
	return TrainClassifierVectors(ctx, vec, names, xs, ys, opts)
}

// TrainClassifierVectors is TrainClassifier on vectors already made by the
// fitted vec: xs[i] belongs to class labels[ys[i]]. opts.Features is not
// used.
func TrainClassifierVectors(ctx context.Context, vec *Vectorizer, labels []string, xs []SparseVector, ys []int, opts ClassifierOptions) (*Classifier, error) {
	if len(xs) != len(ys) {
		return nil, fmt.Errorf("text: train classifier: %d vectors but %d labels", len(xs), len(ys))
	}
	if opts.Folds == 0 {
		opts.Folds = 3
	}
	classes := len(labels)
	c := &Classifier{Labels: labels, Vec: vec, Examples: xs, Neighbours: NewNeighbours(xs, ys, classes)}
	cfg := opts.Linear
	temperature := 1.0
	if opts.Folds > 1 && len(xs) >= 2*opts.Folds {
		grid := opts.CGrid
		if len(grid) == 0 {
			grid = []float64{cfg.C}
		}
		cv := &CVResult{Folds: opts.Folds, Fold: stratifiedFolds(ys, classes, opts.Folds, opts.Seed), Accuracy: -1}
		for _, cv1 := range grid {
			lc := cfg
			lc.C = cv1
			acc, scores, err := crossValidate(ctx, xs, ys, classes, vec.Dim(), lc, opts.Folds, opts.Seed)
			if err != nil {
				return nil, err
			}
			if acc > cv.Accuracy {
				cv.Accuracy, cv.Scores = acc, scores
				cfg.C = cv1
			}
		}
		cv.SVMAccuracy = cv.Accuracy
		if opts.Blend {
			beta, scores, acc := chooseBlend(xs, ys, classes, cv, opts.Seed)
			if acc > cv.Accuracy {
				c.Beta, cv.Scores, cv.Accuracy, cv.Beta = beta, scores, acc, beta
			}
		}
		cv.Temperature = FitTemperature(cv.Scores, ys)
		temperature = cv.Temperature
		c.CVAccuracy, c.CV = cv.Accuracy, cv
	}
	m, err := TrainLinear(ctx, xs, ys, classes, vec.Dim(), cfg)
	if err != nil {
		return nil, fmt.Errorf("text: train classifier: %w", err)
	}
	m.Temperature = temperature
	c.Model = m
	c.chosenC = cfg.C
	if c.Beta == 0 && !opts.KeepExamples {
		c.Examples, c.Neighbours = nil, nil
	}
	return c, nil
}

// chooseBlend adds out-of-fold nearest-neighbour similarities to the
// out-of-fold SVM scores in cv and returns the beta of the most accurate
// blend on all rows, the blended scores and the nested accuracy: beta
// chosen on the rows of all inner folds but one, measured on that one.
func chooseBlend(xs []SparseVector, ys []int, classes int, cv *CVResult, seed uint64) (float64, [][]float64, float64) {
	rows := make([][]float64, len(xs))
	for f := range cv.Folds {
		var trX []SparseVector
		var trY []int
		for i := range xs {
			if cv.Fold[i] != f {
				trX, trY = append(trX, xs[i]), append(trY, ys[i])
			}
		}
		nb := NewNeighbours(trX, trY, classes)
		for i := range xs {
			if cv.Fold[i] == f {
				rows[i] = append(append(make([]float64, 0, 2*classes), cv.Scores[i]...), nb.Nearest(xs[i])...)
			}
		}
	}
	inner := stratifiedFolds(ys, classes, cv.Folds, seed+1)
	correct := 0
	for f := range cv.Folds {
		var trR [][]float64
		var trY []int
		for i := range rows {
			if inner[i] != f {
				trR, trY = append(trR, rows[i]), append(trY, ys[i])
			}
		}
		b := blendBeta(trR, trY, classes)
		for i, r := range rows {
			if inner[i] == f && argmax(blend(r, classes, b)) == ys[i] {
				correct++
			}
		}
	}
	beta := blendBeta(rows, ys, classes)
	scores := make([][]float64, len(rows))
	for i, r := range rows {
		scores[i] = blend(r, classes, beta)
	}
	return beta, scores, float64(correct) / float64(len(rows))
}

// blend returns svm + beta*nearest for a row holding both blocks.
func blend(row []float64, classes int, beta float64) []float64 {
	out := make([]float64, classes)
	for c := range out {
		out[c] = row[c] + beta*row[classes+c]
	}
	return out
}

// crossValidate returns the k-fold accuracy and the out-of-fold decision
// values of every example.
func crossValidate(ctx context.Context, xs []SparseVector, ys []int, classes, dim int, cfg LinearConfig, folds int, seed uint64) (float64, [][]float64, error) {
	fold := stratifiedFolds(ys, classes, folds, seed)
	scores := make([][]float64, len(xs))
	correct := 0
	for f := range folds {
		var trX []SparseVector
		var trY []int
		for i := range xs {
			if fold[i] != f {
				trX = append(trX, xs[i])
				trY = append(trY, ys[i])
			}
		}
		m, err := TrainLinear(ctx, trX, trY, classes, dim, cfg)
		if err != nil {
			return 0, nil, fmt.Errorf("text: cross-validate fold %d: %w", f, err)
		}
		for i := range xs {
			if fold[i] == f {
				scores[i] = m.Scores(xs[i])
				if argmax(scores[i]) == ys[i] {
					correct++
				}
			}
		}
	}
	return float64(correct) / float64(len(xs)), scores, nil
}

// stratifiedFolds assigns each example a fold so every class is spread evenly.
func stratifiedFolds(ys []int, classes, folds int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	byClass := make([][]int, classes)
	for i, y := range ys {
		byClass[y] = append(byClass[y], i)
	}
	fold := make([]int, len(ys))
	start := 0
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for k, i := range idx {
			fold[i] = (start + k) % folds
		}
		start += len(idx)
	}
	return fold
}

func argmax(v []float64) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// blendBeta returns the beta of the blend svm + beta*nearest that is most
// accurate on rows (blocks: SVM scores, nearest similarities).
func blendBeta(rows [][]float64, ys []int, classes int) float64 {
	beta, bestCorrect := 0.0, -1
	for _, b := range []float64{0, 0.125, 0.25, 0.5, 1} {
		correct := 0
		for i, r := range rows {
			if argmax(blend(r, classes, b)) == ys[i] {
				correct++
			}
		}
		if correct > bestCorrect {
			beta, bestCorrect = b, correct
		}
	}
	return beta
}

// Score returns the decision value of every class for x: the SVM's plus,
// with a blend, Beta times the similarity of the nearest training example
// of the class, which is then returned too (nil without a blend). Apply
// Model.Temperature and Softmax for probabilities.
func (c *Classifier) Score(x SparseVector) (scores, nearest []float64) {
	scores = c.Model.Scores(x)
	if c.Beta != 0 && c.Neighbours != nil {
		nearest = c.Neighbours.Nearest(x)
		for k := range scores {
			scores[k] += c.Beta * nearest[k]
		}
	}
	return scores, nearest
}

// Classify returns the calibrated prediction for text.
func (c *Classifier) Classify(text string) Prediction {
	s, _ := c.Score(c.Vec.Transform(text))
	p := Softmax(s, c.Model.Temperature)
	ranked := make([]LabelScore, len(p))
	for i, x := range p {
		ranked[i] = LabelScore{Label: c.Labels[i], Prob: x}
	}
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].Prob > ranked[j].Prob })
	return Prediction{Label: ranked[0].Label, Confidence: ranked[0].Prob, Ranked: ranked}
}

// classifierFile is the persisted form of a Classifier.
type classifierFile struct {
	Version    int
	Labels     []string
	Vec        *Vectorizer
	Model      *LinearModel
	CVAccuracy float64
	// Added after the first files were written; absent in those (no
	// blend, no neighbours).
	Beta          float64
	Examples      []SparseVector
	ExampleLabels []int32
}

const classifierFileVersion = 1

// Save writes the classifier with encoding/gob.
func (c *Classifier) Save(w io.Writer) error {
	f := classifierFile{Version: classifierFileVersion, Labels: c.Labels, Vec: c.Vec, Model: c.Model, CVAccuracy: c.CVAccuracy,
		Beta: c.Beta, Examples: c.Examples}
	if c.Neighbours != nil {
		f.ExampleLabels = c.Neighbours.Labels
	}
	if err := gob.NewEncoder(w).Encode(&f); err != nil {
		return fmt.Errorf("text: save classifier: %w", err)
	}
	return nil
}

// LoadClassifier reads a classifier written by Save and attaches tok, which
// must tokenise as the one used in training did.
func LoadClassifier(r io.Reader, tok *Tokenizer) (*Classifier, error) {
	var f classifierFile
	if err := gob.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("text: load classifier: %w", err)
	}
	if f.Version != classifierFileVersion {
		return nil, fmt.Errorf("text: load classifier: unsupported version %d", f.Version)
	}
	if f.Vec == nil || f.Model == nil || len(f.Labels) != len(f.Model.W) {
		return nil, errors.New("text: load classifier: incomplete model")
	}
	if len(f.Examples) != len(f.ExampleLabels) || (f.Beta != 0 && len(f.Examples) == 0) {
		return nil, errors.New("text: load classifier: examples do not match their labels")
	}
	f.Vec.SetTokenizer(tok)
	c := &Classifier{Labels: f.Labels, Vec: f.Vec, Model: f.Model, CVAccuracy: f.CVAccuracy, Beta: f.Beta}
	if len(f.Examples) > 0 {
		ys := make([]int, len(f.ExampleLabels))
		for i, y := range f.ExampleLabels {
			if y < 0 || int(y) >= len(f.Labels) {
				return nil, errors.New("text: load classifier: example label out of range")
			}
			ys[i] = int(y)
		}
		c.SetExamples(f.Examples, ys)
	}
	return c, nil
}

// SetExamples replaces the training vectors the classifier's Neighbours
// index (for a classifier loaded from a file that did not hold them).
func (c *Classifier) SetExamples(xs []SparseVector, ys []int) {
	c.Examples = xs
	c.Neighbours = NewNeighbours(xs, ys, len(c.Labels))
}
