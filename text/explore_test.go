package text

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestExploreIntentCV prints cross-validated accuracy on the BANKING77 train
// split for a few feature sets (used to choose intentOptions; never the test
// split). Run with STARPOST_EXPLORE=1.
func TestExploreIntentCV(t *testing.T) {
	if os.Getenv("STARPOST_EXPLORE") == "" {
		t.Skip("set STARPOST_EXPLORE=1")
	}
	dir := filepath.Join(dataRoot(), "banking77")
	trX, trY, err := readLabelledCSV(filepath.Join(dir, "train.csv"))
	if err != nil {
		t.Skip(err)
	}
	tok, err := NewTokenizer(TokenizerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, fc := range []FeatureConfig{
		{WordNGrams: 1, CharMin: 2, CharMax: 5},
		{WordNGrams: 2, CharMin: 1, CharMax: 5},
		{WordNGrams: 2, CharMin: 2, CharMax: 5},
		{WordNGrams: 3, CharMin: 2, CharMax: 6},
		{WordNGrams: 2, CharMin: 1, CharMax: 5, CharWeight: 1.5},
		{WordNGrams: 2, CharMin: 1, CharMax: 5, CharWeight: 0.7},
	} {
		for _, c := range []float64{0.3, 1, 2} {
			st := time.Now()
			clf, err := TrainClassifier(context.Background(), tok, trX, trY, ClassifierOptions{Features: fc, Linear: LinearConfig{C: c}, Folds: 3, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v C=%g cv=%.4f dim=%d T=%.3f %s", fc, c, clf.CVAccuracy, clf.Vec.Dim(), clf.Model.Temperature, time.Since(st))
		}
	}
}

// knnScores returns, for every query, the highest cosine to a reference
// vector of each class (vectors are l2-normalised), via an inverted index.
func knnScoresExplore(queries, refs []SparseVector, refY []int, classes int) [][]float64 {
	post := map[int32][]int32{}
	pval := map[int32][]float32{}
	for i, r := range refs {
		for k, id := range r.Idx {
			post[id] = append(post[id], int32(i))
			pval[id] = append(pval[id], r.Val[k])
		}
	}
	acc := make([]float64, len(refs))
	out := make([][]float64, len(queries))
	for qi, q := range queries {
		clear(acc)
		for k, id := range q.Idx {
			v := float64(q.Val[k])
			ps, vs := post[id], pval[id]
			for j, d := range ps {
				acc[d] += v * float64(vs[j])
			}
		}
		s := make([]float64, classes)
		for d, a := range acc {
			if a > s[refY[d]] {
				s[refY[d]] = a
			}
		}
		out[qi] = s
	}
	return out
}

// TestExploreIntentBlend prints 3-fold CV accuracy on the BANKING77 train
// split of the SVM alone, blended with nearest-neighbour similarity, and
// ensembles of feature views. Run with STARPOST_EXPLORE=blend.
func TestExploreIntentBlend(t *testing.T) {
	if os.Getenv("STARPOST_EXPLORE") != "blend" {
		t.Skip("set STARPOST_EXPLORE=blend")
	}
	ctx := context.Background()
	dir := filepath.Join(dataRoot(), "banking77")
	trX, trY, err := readLabelledCSV(filepath.Join(dir, "train.csv"))
	if err != nil {
		t.Skip(err)
	}
	tok, err := NewTokenizer(TokenizerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]int{}
	ys := make([]int, len(trY))
	for i, l := range trY {
		if _, ok := index[l]; !ok {
			index[l] = len(index)
		}
		ys[i] = index[l]
	}
	classes := len(index)
	const folds = 3
	fold := stratifiedFolds(ys, classes, folds, 1)
	type view struct {
		name string
		fc   FeatureConfig
		lc   LinearConfig
	}
	w2c15 := FeatureConfig{WordNGrams: 2, CharMin: 1, CharMax: 5, MinDF: 1}
	views := []view{
		{"w2c15 C1", w2c15, LinearConfig{C: 1}},
		{"w3", FeatureConfig{WordNGrams: 3, MinDF: 1}, LinearConfig{C: 1}},
		{"c26", FeatureConfig{CharMin: 2, CharMax: 6, MinDF: 1}, LinearConfig{C: 1}},
	}
	oofSVM := make([][][]float64, len(views))
	oofKNN := make([][][]float64, len(views))
	for vi, v := range views {
		st := time.Now()
		oofSVM[vi] = make([][]float64, len(trX))
		oofKNN[vi] = make([][]float64, len(trX))
		for f := range folds {
			var fitDocs []string
			for i := range trX {
				if fold[i] != f {
					fitDocs = append(fitDocs, trX[i])
				}
			}
			vec := NewVectorizer(tok, v.fc)
			vec.Fit(fitDocs)
			var xTr, xTe []SparseVector
			var yTr, iTe []int
			for i := range trX {
				x := vec.Transform(trX[i])
				if fold[i] != f {
					xTr, yTr = append(xTr, x), append(yTr, ys[i])
				} else {
					xTe, iTe = append(xTe, x), append(iTe, i)
				}
			}
			m, err := TrainLinear(ctx, xTr, yTr, classes, vec.Dim(), v.lc)
			if err != nil {
				t.Fatal(err)
			}
			kn := knnScoresExplore(xTe, xTr, yTr, classes)
			for k, i := range iTe {
				oofSVM[vi][i] = m.Scores(xTe[k])
				oofKNN[vi][i] = kn[k]
			}
		}
		t.Logf("view %s: svm %.4f knn %.4f (%s)", v.name, accOf(oofSVM[vi], ys), accOf(oofKNN[vi], ys), time.Since(st))
	}
	combine := func(ws []float64, betas []float64) [][]float64 {
		out := make([][]float64, len(ys))
		for i := range ys {
			s := make([]float64, classes)
			for vi := range views {
				for c := range classes {
					s[c] += ws[vi]*oofSVM[vi][i][c] + betas[vi]*oofKNN[vi][i][c]
				}
			}
			out[i] = s
		}
		return out
	}
	for vi := range views {
		for _, b := range []float64{0.25, 0.5} {
			ws, bs := make([]float64, len(views)), make([]float64, len(views))
			ws[vi], bs[vi] = 1, b
			t.Logf("%s + %.2f knn: %.4f", views[vi].name, b, accOf(combine(ws, bs), ys))
		}
	}
}

func accOf(scores [][]float64, ys []int) float64 {
	c := 0
	for i, s := range scores {
		if argmax(s) == ys[i] {
			c++
		}
	}
	return float64(c) / float64(len(ys))
}

// TestExploreMatchCV trains the AFQMC matcher on the train split only and
// prints its out-of-fold accuracy and F1 (the dev split is not read). Run
// with STARPOST_EXPLORE=match.
func TestExploreMatchCV(t *testing.T) {
	if os.Getenv("STARPOST_EXPLORE") != "match" {
		t.Skip("set STARPOST_EXPLORE=match")
	}
	train, err := readPairs(filepath.Join(dataRoot(), "afqmc", "train.txt"))
	if err != nil {
		t.Skip(err)
	}
	st := time.Now()
	opts := matchOptions()
	if f := os.Getenv("STARPOST_FOLDS"); f != "" {
		fmt.Sscan(f, &opts.Folds)
	}
	opts.Log = func(s string) { t.Log(s) }
	m, _, err := trainMatchEval(context.Background(), train, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cv accuracy %.4f F1 %.4f threshold %.2f (%s)", m.CVAccuracy, m.CVF1, m.Threshold, time.Since(st))
}

// TestExploreIntentBlendCV runs the product's nested-CV blend choice on
// the BANKING77 train split. Run with STARPOST_EXPLORE=blendcv.
func TestExploreIntentBlendCV(t *testing.T) {
	if os.Getenv("STARPOST_EXPLORE") != "blendcv" {
		t.Skip("set STARPOST_EXPLORE=blendcv")
	}
	ctx := context.Background()
	trX, trY, err := readLabelledCSV(filepath.Join(dataRoot(), "banking77", "train.csv"))
	if err != nil {
		t.Skip(err)
	}
	tok, err := NewTokenizer(TokenizerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := intentOptions()
	opts.CGrid = []float64{1}
	opts.Blend = true
	st := time.Now()
	clf, err := TrainClassifier(ctx, tok, trX, trY, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("svm %.4f chosen %.4f beta %v (%s)", clf.CV.SVMAccuracy, clf.CV.Accuracy, clf.CV.Beta, time.Since(st))
}
