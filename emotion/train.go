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
// one with the best development-split score (with the best C) is kept.
func candidateSpecs() []FeatureSpec {
	return []FeatureSpec{
		{CharMin: 1, CharMax: 3, HashBits: 19},
		{CharMin: 1, CharMax: 3, HashBits: 19, NB: 0.5},
		{CharMin: 1, CharMax: 4, HashBits: 19, NB: 0.5},
		{CharMin: 1, CharMax: 4, HashBits: 19, LexiconWeight: 0.3},
		{CharMin: 1, CharMax: 4, HashBits: 19, LexiconWeight: 0.3, NB: 0.5},
	}
}

// candidateC is the grid of SVM regularisation strengths.
var candidateC = []float64{0.3, 1, 3}

// minDF drops hashed buckets seen in fewer training documents.
const minDF = 2

// TaskResult describes how one shipped model was chosen.
type TaskResult struct {
	Task    string      // model name
	Data    string      // data set name
	Train   int         // training examples
	Dev     int         // development examples used for selection
	Spec    FeatureSpec // chosen features
	C       float64     // chosen SVM C
	DevRaw  float64     // development score before offset tuning (accuracy or macro-F1)
	DevFit  float64     // development score after offset tuning
	Bytes   int         // compressed model file size
	Elapsed time.Duration
}

// buildModels trains one model per task found under dataDir (a task whose
// data folder is missing is skipped and reported), choosing features and C
// on the development split and then calibrating offsets and temperature on
// it. The test split is never read.
func buildModels(ctx context.Context, dataDir string, only map[string]bool, w io.Writer) (map[string]*Model, []TaskResult, error) {
	lex := NewLexicon()
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
		var best *Model
		res := TaskResult{Task: tk.name, Data: tk.title, Train: len(tr.texts), Dev: len(dev.texts), DevRaw: -1}
		for _, sp := range candidateSpecs() {
			f := featurizer{spec: sp, lex: lex}
			f.fitIDF(tr.texts, minDF)
			f.fitNB(tr.texts, tr.ys, len(tk.labels))
			xs := make([]text.SparseVector, len(tr.texts))
			for i, s := range tr.texts {
				if i%1024 == 0 && ctx.Err() != nil {
					return nil, nil, fmt.Errorf("emotion: train %s: %w", tk.name, ctx.Err())
				}
				xs[i] = f.vector(s)
			}
			for _, c := range candidateC {
				m, err := fitVectors(ctx, tk.name, tk.labels, f, xs, tr.ys, c, lex, nil)
				if err != nil {
					return nil, nil, err
				}
				score := selectionScore(m, dev, tk.macro)
				fmt.Fprintf(w, "%s: chars %d-%d lexicon %.1f nb %.1f C %g: dev %.4f\n", tk.name, sp.CharMin, sp.CharMax, sp.LexiconWeight, sp.NB, c, score)
				if score > res.DevRaw {
					best, res.DevRaw, res.Spec, res.C = m, score, sp, c
				}
			}
		}
		best.calibrate(dev.texts, dev.ys, tk.macro)
		res.DevFit = selectionScore(best, dev, tk.macro)
		var buf bytes.Buffer
		if err := best.Save(&buf); err != nil {
			return nil, nil, err
		}
		res.Bytes = buf.Len()
		res.Elapsed = time.Since(start)
		fmt.Fprintf(w, "%s: chose chars %d-%d lexicon %.1f nb %.1f C %g: dev %.4f, after offsets %.4f, %.2f MB, %.1f s\n",
			tk.name, res.Spec.CharMin, res.Spec.CharMax, res.Spec.LexiconWeight, res.Spec.NB, res.C, res.DevRaw, res.DevFit,
			float64(res.Bytes)/1e6, res.Elapsed.Seconds())
		models[tk.name] = best
		results = append(results, res)
	}
	return models, results, nil
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
// logging progress to w. Features and C are chosen on each development
// split; the test splits are not read. Training is deterministic.
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
