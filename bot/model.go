package bot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/starpost/starpost/text"
)

// TokenizerOptions returns the tokenizer options the bot's models are
// trained and used with: the knowledge base's (English stemmed, stop words
// dropped), so one tokenizer serves both. Keeping stop words scores 1.4
// points higher in cross-validation on the BANKING77 train split (90.3 %
// against 88.9 %, TestExploreTokenizerCV), but with a workspace's handful of
// questions per FAQ it lets function words ("what's the ...") carry
// off-topic questions to a confident answer.
func TokenizerOptions() text.TokenizerOptions { return text.TokenizerOptions{DropStopWords: true} }

// Example is one training example: a way of asking for an intent.
type Example struct {
	Text   string
	Intent string // intent id (a FAQ's id)
}

// Intent is what the bot can answer: one published FAQ. Its answer is read
// from the knowledge base when the bot answers, so an edited answer is used
// at once; the model keeps the title for clarifying questions.
type Intent struct {
	ID    string `json:"id"`
	Title string `json:"title"` // the FAQ's first question
	Lang  string `json:"lang"`
}

// TrainOptions configure Train. The zero value gives the defaults.
type TrainOptions struct {
	// Features of the TF-IDF vectoriser; zero means word 1-2 grams and
	// character 1-5 grams (text's intent configuration).
	Features text.FeatureConfig
	// C is the SVM's inverse regularisation (0 means 1).
	C float64
	// Folds of the cross-validation that fits the calibration and the
	// out-of-scope threshold (0 means 3).
	Folds int
	// Seed makes the folds reproducible.
	Seed uint64
	// SimQuantile is the share of in-scope training questions (held out)
	// whose similarity to their intent may fall below MinSimilarity
	// (0 means 0.05).
	SimQuantile float64
	// SimFloor is the least MinSimilarity (0 means 0.2): with a handful of
	// questions per intent the quantile alone is too noisy.
	SimFloor float64
	// NoBlend turns off blending the SVM with nearest-neighbour similarity
	// (text.ClassifierOptions.Blend), which cross-validation otherwise
	// keeps when it is more accurate than the SVM alone.
	NoBlend bool
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Features == (text.FeatureConfig{}) {
		o.Features = text.FeatureConfig{WordNGrams: 2, CharMin: 1, CharMax: 5, MinDF: 1}
	}
	if o.C == 0 {
		o.C = 1
	}
	if o.Folds == 0 {
		o.Folds = 3
	}
	if o.SimQuantile == 0 {
		o.SimQuantile = 0.05
	}
	if o.SimFloor == 0 {
		o.SimFloor = 0.2
	}
	return o
}

// Metrics describe a trained model, measured on its training data by
// cross-validation (out-of-fold: every figure is about questions the model
// that scored them did not see).
type Metrics struct {
	Examples int `json:"examples"`
	Intents  int `json:"intents"`
	// Folds used; 0 when there was too little data to cross-validate
	// (then the temperature is 1 and MinSimilarity is SimFloor).
	Folds      int     `json:"folds"`
	CVAccuracy float64 `json:"cv_accuracy"`
	// ECERaw and ECECalibrated are the expected calibration errors (10
	// bins) of the out-of-fold confidences before (softmax at temperature
	// 1) and after temperature scaling.
	ECERaw        float64 `json:"ece_raw"`
	ECECalibrated float64 `json:"ece_calibrated"`
	Temperature   float64 `json:"temperature"`
	MinSimilarity float64 `json:"min_similarity"`
	TrainMillis   int64   `json:"train_ms"`
}

// Model is a workspace's trained intent classifier: TF-IDF word and
// character n-grams, a one-vs-rest linear SVM whose scores are turned into
// calibrated probabilities by temperature scaling, and the training
// questions' vectors for out-of-scope detection (nearest-neighbour
// similarity within the predicted intent). It is safe for concurrent use.
type Model struct {
	// Workspace, Version, TrainedAt, Fingerprint and KBRevision identify
	// the model (see Models).
	Workspace   string
	Version     int64
	TrainedAt   time.Time
	Fingerprint string
	KBRevision  int64
	Metrics     Metrics
	// Intents by id.
	Intents map[string]Intent

	clf *text.Classifier // holds the training questions' vectors too
}

// Prediction is the model's reading of one customer message.
type Prediction struct {
	// Intent is the most probable intent and Confidence its calibrated
	// probability; Second and SecondConfidence the runner-up.
	Intent           string
	Confidence       float64
	Second           string
	SecondConfidence float64
	// Similarity is the cosine between the message and the nearest
	// training question of Intent.
	Similarity float64
	// OutOfScope is set when the message shares no feature with the
	// training data or Similarity is below the model's MinSimilarity.
	OutOfScope bool
	// Ranked holds every intent with its probability, best first.
	Ranked []text.LabelScore
}

// Prob returns the probability of intent id (0 when unknown).
func (p Prediction) Prob(id string) float64 {
	for _, r := range p.Ranked {
		if r.Label == id {
			return r.Prob
		}
	}
	return 0
}

// ErrTooFewIntents is returned by Train when the data holds fewer than two
// intents: a classifier needs something to tell apart.
var ErrTooFewIntents = errors.New("bot: at least two intents with questions are needed to train")

// Fingerprint returns a digest of the training data and options: a model
// whose fingerprint matches the data need not be retrained.
func Fingerprint(examples []Example, opts TrainOptions) string {
	lines := make([]string, len(examples))
	for i, e := range examples {
		lines[i] = e.Intent + "\x00" + strings.TrimSpace(e.Text)
	}
	sort.Strings(lines)
	h := sha256.New()
	fmt.Fprintf(h, "bot-model-v%d %+v\n", modelFileVersion, opts.withDefaults())
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Train fits a model on examples. Intents not named by any example are
// dropped; at least two intents must remain.
func Train(ctx context.Context, tok *text.Tokenizer, examples []Example, intents map[string]Intent, opts TrainOptions) (*Model, error) {
	start := time.Now()
	opts = opts.withDefaults()
	index := map[string]int{}
	var labels []string
	var texts []string
	var ys []int
	for _, e := range examples {
		t := strings.TrimSpace(e.Text)
		if t == "" || e.Intent == "" {
			continue
		}
		id, ok := index[e.Intent]
		if !ok {
			id = len(labels)
			index[e.Intent] = id
			labels = append(labels, e.Intent)
		}
		texts = append(texts, t)
		ys = append(ys, id)
	}
	if len(labels) < 2 {
		return nil, ErrTooFewIntents
	}
	vec := text.NewVectorizer(tok, opts.Features)
	vec.Fit(texts)
	xs := make([]text.SparseVector, len(texts))
	for i, t := range texts {
		xs[i] = vec.Transform(t)
	}
	met := Metrics{Examples: len(texts), Intents: len(labels), Temperature: 1, MinSimilarity: opts.SimFloor}
	folds := min(opts.Folds, len(texts)/2)
	co := text.ClassifierOptions{Linear: text.LinearConfig{C: opts.C, Seed: opts.Seed}, Folds: max(folds, 1), Seed: opts.Seed, Blend: !opts.NoBlend, KeepExamples: true}
	clf, err := text.TrainClassifierVectors(ctx, vec, labels, xs, ys, co)
	if err != nil {
		return nil, fmt.Errorf("bot: train: %w", err)
	}
	if cv := clf.CV; cv != nil {
		met.Folds, met.CVAccuracy, met.Temperature = cv.Folds, cv.Accuracy, cv.Temperature
		met.ECERaw = ece(cv.Scores, ys, 1)
		met.ECECalibrated = ece(cv.Scores, ys, met.Temperature)
		met.MinSimilarity = math.Max(opts.SimFloor, oofSimilarityQuantile(xs, ys, len(labels), cv.Scores, cv.Fold, cv.Folds, opts.SimQuantile))
	}
	m := &Model{Metrics: met, Intents: map[string]Intent{}, clf: clf}
	for _, l := range labels {
		in := intents[l]
		in.ID = l
		m.Intents[l] = in
	}
	m.Metrics.TrainMillis = time.Since(start).Milliseconds()
	return m, nil
}

// oofSimilarityQuantile returns the q-quantile of the similarity of each
// held-out question to the nearest question (of the other folds) of the
// intent it was classified as: the similarity in-scope questions reach.
func oofSimilarityQuantile(xs []text.SparseVector, ys []int, classes int, scores [][]float64, fold []int, folds int, q float64) float64 {
	var sims []float64
	for f := range folds {
		var trX []text.SparseVector
		var trY []int
		for i, x := range xs {
			if fold[i] != f {
				trX, trY = append(trX, x), append(trY, ys[i])
			}
		}
		seen := make([]bool, classes)
		for _, y := range trY {
			seen[y] = true
		}
		nb := text.NewNeighbours(trX, trY, classes)
		for i, x := range xs {
			if c := argmax(scores[i]); fold[i] == f && seen[c] {
				sims = append(sims, nb.NearestIn(x, c))
			}
		}
	}
	if len(sims) == 0 {
		return 0
	}
	sort.Float64s(sims)
	return sims[min(int(q*float64(len(sims))), len(sims)-1)]
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

// ece is the expected calibration error (10 equal-width bins) of the
// softmax at temperature t of scores against the true classes ys.
func ece(scores [][]float64, ys []int, t float64) float64 {
	conf := make([]float64, len(scores))
	correct := make([]bool, len(scores))
	for i, s := range scores {
		p := text.Softmax(s, t)
		c := argmax(p)
		conf[i], correct[i] = p[c], c == ys[i]
	}
	return text.ExpectedCalibrationError(conf, correct, 10)
}

// Predict classifies a customer message.
func (m *Model) Predict(s string) Prediction {
	x := m.clf.Vec.Transform(s)
	if len(x.Idx) == 0 {
		return Prediction{OutOfScope: true}
	}
	scores, near := m.clf.Score(x)
	probs := text.Softmax(scores, m.clf.Model.Temperature)
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	ranked := make([]text.LabelScore, len(probs))
	for i, c := range order {
		ranked[i] = text.LabelScore{Label: m.clf.Labels[c], Prob: probs[c]}
	}
	p := Prediction{Intent: ranked[0].Label, Confidence: ranked[0].Prob, Ranked: ranked}
	if len(ranked) > 1 {
		p.Second, p.SecondConfidence = ranked[1].Label, ranked[1].Prob
	}
	if near != nil {
		p.Similarity = near[order[0]]
	} else {
		p.Similarity = m.clf.Neighbours.NearestIn(x, order[0])
	}
	p.OutOfScope = p.Similarity < m.Metrics.MinSimilarity
	return p
}

// modelFile is the persisted form of a Model's learnt parts; the
// identifying fields live in the bot_models row.
type modelFile struct {
	Version    int
	Classifier []byte
	// Examples are the training vectors per intent in files written before
	// the classifier kept them itself; empty since.
	Examples [][]text.SparseVector
	Intents  map[string]Intent
	Metrics  Metrics
}

const modelFileVersion = 1

// MarshalBinary encodes the model's learnt parts (classifier, examples,
// intents, metrics) with encoding/gob.
func (m *Model) MarshalBinary() ([]byte, error) {
	var clf bytes.Buffer
	if err := m.clf.Save(&clf); err != nil {
		return nil, fmt.Errorf("bot: save model: %w", err)
	}
	var out bytes.Buffer
	f := modelFile{Version: modelFileVersion, Classifier: clf.Bytes(), Intents: m.Intents, Metrics: m.Metrics}
	if err := gob.NewEncoder(&out).Encode(&f); err != nil {
		return nil, fmt.Errorf("bot: save model: %w", err)
	}
	return out.Bytes(), nil
}

// LoadModel decodes a model written by MarshalBinary and attaches tok,
// which must tokenise as the one used in training did.
func LoadModel(data []byte, tok *text.Tokenizer) (*Model, error) {
	var f modelFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
		return nil, fmt.Errorf("bot: load model: %w", err)
	}
	if f.Version != modelFileVersion {
		return nil, fmt.Errorf("bot: load model: unsupported version %d", f.Version)
	}
	clf, err := text.LoadClassifier(bytes.NewReader(f.Classifier), tok)
	if err != nil {
		return nil, fmt.Errorf("bot: load model: %w", err)
	}
	if clf.Neighbours == nil {
		// A file from before the classifier kept its training vectors.
		if len(f.Examples) != len(clf.Labels) {
			return nil, errors.New("bot: load model: examples do not match the intents")
		}
		var xs []text.SparseVector
		var ys []int
		for c, ex := range f.Examples {
			for _, x := range ex {
				xs, ys = append(xs, x), append(ys, c)
			}
		}
		clf.SetExamples(xs, ys)
	}
	if f.Intents == nil {
		f.Intents = map[string]Intent{}
	}
	return &Model{clf: clf, Intents: f.Intents, Metrics: f.Metrics}, nil
}
