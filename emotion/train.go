package emotion

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/starpost/starpost/text"
)

// candidateSpecs are the feature configurations tried for every task; the
// one with the best development-split score (with the best C) is kept. The
// first two were the choices of the character-only models; the word specs
// add word unigrams and bigrams (gse segmentation) and a larger hash space
// for them.
func candidateSpecs() []FeatureSpec {
	return []FeatureSpec{
		{CharMin: 1, CharMax: 3, HashBits: 19, NB: 0.5},
		{CharMin: 1, CharMax: 4, HashBits: 19, LexiconWeight: 0.3, NB: 0.5},
		{CharMin: 1, CharMax: 4, HashBits: 20, Words: true, NB: 0.5},
		{CharMin: 1, CharMax: 4, HashBits: 20, Words: true, LexiconWeight: 0.3, NB: 0.5},
	}
}

// candidateC is the grid of SVM regularisation strengths.
var candidateC = []float64{0.3, 1}

// candidateClassWeights are the class-weight powers tried for the
// macro-F1 tasks (see balancedWeights): unweighted, and C scaled by the
// inverse class frequency so rare emotions (fear, surprise) weigh as much
// as common ones. Accuracy tasks stay unweighted.
var candidateClassWeights = []float64{0, 1}

// minDF drops hashed buckets seen in fewer training documents.
const minDF = 2

// NewWordTokenizer returns the tokenizer that word features are computed
// with (default options: English stemmed; AllTerms keeps stop words). A
// Tokenizer with other DropStopWords or stemming options must not be used
// with the models. Loading it takes about a second.
func NewWordTokenizer() (*text.Tokenizer, error) {
	tok, err := text.NewTokenizer(text.TokenizerOptions{})
	if err != nil {
		return nil, fmt.Errorf("emotion: word tokenizer: %w", err)
	}
	return tok, nil
}

// TaskResult describes how one shipped model was chosen.
type TaskResult struct {
	Task  string      // model name
	Data  string      // data set name
	Train int         // training examples
	Dev   int         // development examples used for selection
	Spec  FeatureSpec // chosen features
	C     float64     // chosen SVM C
	// ClassWeight is the chosen class-weight power (0: unweighted).
	ClassWeight float64
	DevRaw      float64 // development score before offset tuning (accuracy or macro-F1)
	DevFit      float64 // development score after offset tuning
	Bytes       int     // compressed model file size
	Elapsed     time.Duration
}

// buildModels trains one model per task found under dataDir (a task whose
// data folder is missing is skipped and reported). Features and C are chosen
// by training on the train split and scoring the development split; class
// offsets and the softmax temperature are then calibrated on the
// development split. The shipped model is refitted with the chosen features
// and C on train and development together (more data, same choices) and
// keeps the calibration. The test split is never read.
func buildModels(ctx context.Context, dataDir string, only map[string]bool, w io.Writer) (map[string]*Model, []TaskResult, error) {
	lex := NewLexicon()
	var tok *text.Tokenizer
	for _, sp := range candidateSpecs() {
		if sp.Words && tok == nil {
			var err error
			if tok, err = NewWordTokenizer(); err != nil {
				return nil, nil, err
			}
		}
	}
	models := map[string]*Model{}
	var results []TaskResult
	for _, tk := range tasks() {
		if only != nil && !only[tk.name] {
			continue
		}
		start := time.Now()
		tr, err := tk.read(dataDir, "train")
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(w, "%s: skipped (%v)\n", tk.name, err)
				continue
			}
			return nil, nil, err
		}
		dev, err := tk.read(dataDir, "dev")
		if err != nil {
			return nil, nil, err
		}
		cache := map[string][]string{} // word terms of this task's texts
		var best *Model
		res := TaskResult{Task: tk.name, Data: tk.title, Train: len(tr.texts), Dev: len(dev.texts), DevRaw: -1}
		for _, sp := range candidateSpecs() {
			f := featurizer{spec: sp, lex: lex, tok: tok, terms: cache}
			xs, err := f.fit(ctx, tk, tr)
			if err != nil {
				return nil, nil, err
			}
			cws := []float64{0}
			if tk.macro {
				cws = candidateClassWeights
			}
			for _, cw := range cws {
				for _, c := range candidateC {
					m, err := fitVectors(ctx, tk.name, tk.labels, f, xs, tr.ys, c, balancedWeights(tr.ys, len(tk.labels), cw), lex, tok)
					if err != nil {
						return nil, nil, err
					}
					m.feat.terms = cache
					score := selectionScore(m, dev, tk.macro)
					fmt.Fprintf(w, "%s: chars %d-%d words %v lexicon %.1f nb %.1f C %g class weight %g: dev %.4f\n",
						tk.name, sp.CharMin, sp.CharMax, sp.Words, sp.LexiconWeight, sp.NB, c, cw, score)
					if score > res.DevRaw {
						best, res.DevRaw, res.Spec, res.C, res.ClassWeight = m, score, sp, c, cw
					}
				}
			}
		}
		best.calibrate(dev.texts, dev.ys, tk.macro)
		res.DevFit = selectionScore(best, dev, tk.macro)
		// Refit on train and dev with the choices made above.
		all := dataset{texts: append(append([]string(nil), tr.texts...), dev.texts...), ys: append(append([]int(nil), tr.ys...), dev.ys...)}
		f := featurizer{spec: res.Spec, lex: lex, tok: tok, terms: cache}
		xs, err := f.fit(ctx, tk, all)
		if err != nil {
			return nil, nil, err
		}
		final, err := fitVectors(ctx, tk.name, tk.labels, f, xs, all.ys, res.C, balancedWeights(all.ys, len(tk.labels), res.ClassWeight), lex, tok)
		if err != nil {
			return nil, nil, err
		}
		final.Offsets, final.Temperature = best.Offsets, best.Temperature
		var buf bytes.Buffer
		if err := final.Save(&buf); err != nil {
			return nil, nil, err
		}
		res.Bytes = buf.Len()
		res.Elapsed = time.Since(start)
		fmt.Fprintf(w, "%s: chose chars %d-%d words %v lexicon %.1f nb %.1f C %g class weight %g: dev %.4f, after offsets %.4f; refitted on %d examples, %.2f MB, %.1f s\n",
			tk.name, res.Spec.CharMin, res.Spec.CharMax, res.Spec.Words, res.Spec.LexiconWeight, res.Spec.NB, res.C, res.ClassWeight, res.DevRaw, res.DevFit,
			len(all.texts), float64(res.Bytes)/1e6, res.Elapsed.Seconds())
		models[tk.name] = final
		results = append(results, res)
	}
	return models, results, nil
}

// fit learns the featurizer's idf (and naive-Bayes) weights from d and
// returns the vectors of d's texts.
func (f *featurizer) fit(ctx context.Context, tk task, d dataset) ([]text.SparseVector, error) {
	f.fitIDF(d.texts, minDF)
	f.fitNB(d.texts, d.ys, len(tk.labels))
	xs := make([]text.SparseVector, len(d.texts))
	for i, s := range d.texts {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("emotion: train %s: %w", tk.name, ctx.Err())
		}
		xs[i] = f.vector(s)
	}
	return xs, nil
}

// selectionScore is macro-F1 for multi-class tasks and accuracy otherwise.
func selectionScore(m *Model, d dataset, macro bool) float64 {
	pred := make([]int, len(d.texts))
	for i, s := range d.texts {
		_, pred[i] = m.Predict(s)
	}
	acc, mf1, _ := metrics(d.ys, pred, len(m.Labels))
	if macro {
		return mf1
	}
	return acc
}

// Train rebuilds the shipped models from the public data sets under dataDir
// (COLD, ChnSentiCorp, SMP2020-EWECT usual, GoEmotions; see
// ../shared/data/README.md) and writes them to outDir as <task>.gob.gz,
// logging progress to w. Features, C and class weights are chosen on each
// development split and the chosen configuration is refitted on train and
// development together; the test splits are not read. Training is
// deterministic.
//
// The shipped files in emotion/models were made with
//
//	go run ./cmd/starpost train emotion --data ../shared/data --out emotion/models
func Train(ctx context.Context, dataDir, outDir string, w io.Writer) ([]TaskResult, error) {
	if w == nil {
		w = io.Discard
	}
	models, results, err := buildModels(ctx, dataDir, nil, w)
	if err != nil {
		return nil, err
	}
	if len(models) == 0 {
		return nil, fmt.Errorf("emotion: train: no data sets found under %s", dataDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("emotion: train: %w", err)
	}
	for name, m := range models {
		var buf bytes.Buffer
		if err := m.Save(&buf); err != nil {
			return nil, err
		}
		path := filepath.Join(outDir, name+".gob.gz")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("emotion: train: %w", err)
		}
	}
	return results, nil
}
