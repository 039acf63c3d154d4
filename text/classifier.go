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
}

// Classifier is a text classifier: TF-IDF features and a calibrated
// one-vs-rest linear SVM. It is safe for concurrent prediction.
type Classifier struct {
	Labels []string     // class names, indexed like the model's rows
	Vec    *Vectorizer  // fitted features
	Model  *LinearModel // calibrated linear SVM
	// CVAccuracy is the cross-validated accuracy of the chosen C on the
	// training data (0 when cross-validation was skipped).
	CVAccuracy float64

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
// With cross-validation on (Folds != 1) it chooses C from CGrid and fits the
// confidence temperature on out-of-fold decision values before training the
// final model on all the data.
func TrainClassifier(ctx context.Context, tok *Tokenizer, texts, labels []string, opts ClassifierOptions) (*Classifier, error) {
	if len(texts) != len(labels) {
		return nil, fmt.Errorf("text: train classifier: %d texts but %d labels", len(texts), len(labels))
	}
	if opts.Features == (FeatureConfig{}) {
		opts.Features = DefaultFeatures()
	}
	if opts.Folds == 0 {
		opts.Folds = 3
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
	c := &Classifier{Labels: names, Vec: vec}
	cfg := opts.Linear
	temperature := 1.0
	if opts.Folds > 1 && len(texts) >= 2*opts.Folds {
		grid := opts.CGrid
		if len(grid) == 0 {
			grid = []float64{cfg.C}
		}
		best := -1.0
		for _, cv := range grid {
			lc := cfg
			lc.C = cv
			acc, scores, err := crossValidate(ctx, xs, ys, len(names), vec.Dim(), lc, opts.Folds, opts.Seed)
			if err != nil {
				return nil, err
			}
			if acc > best {
				best = acc
				cfg.C = cv
				temperature = FitTemperature(scores, ys)
			}
		}
		c.CVAccuracy = best
	}
	m, err := TrainLinear(ctx, xs, ys, len(names), vec.Dim(), cfg)
	if err != nil {
		return nil, fmt.Errorf("text: train classifier: %w", err)
	}
	m.Temperature = temperature
	c.Model = m
	c.chosenC = cfg.C
	return c, nil
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

// Classify returns the calibrated prediction for text.
func (c *Classifier) Classify(text string) Prediction {
	p := c.Model.Probabilities(c.Vec.Transform(text))
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
}

const classifierFileVersion = 1

// Save writes the classifier with encoding/gob.
func (c *Classifier) Save(w io.Writer) error {
	f := classifierFile{Version: classifierFileVersion, Labels: c.Labels, Vec: c.Vec, Model: c.Model, CVAccuracy: c.CVAccuracy}
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
	f.Vec.SetTokenizer(tok)
	return &Classifier{Labels: f.Labels, Vec: f.Vec, Model: f.Model, CVAccuracy: f.CVAccuracy}, nil
}
