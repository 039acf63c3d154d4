package text

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"testing"
)

func sv(idx []int32, val []float32) SparseVector { return SparseVector{Idx: idx, Val: val} }

func TestNeighboursNearest(t *testing.T) {
	xs := []SparseVector{
		sv([]int32{0, 1}, []float32{0.6, 0.8}),
		sv([]int32{1}, []float32{1}),
		sv([]int32{2}, []float32{1}),
	}
	nb := NewNeighbours(xs, []int{0, 0, 1}, 3)
	tests := []struct {
		name string
		x    SparseVector
		want []float64
	}{
		{"closest of class 0 wins", sv([]int32{1}, []float32{1}), []float64{1, 0, 0}},
		{"both classes", sv([]int32{0, 2}, []float32{0.6, 0.8}), []float64{0.36, 0.8, 0}},
		{"no shared feature", sv([]int32{7}, []float32{1}), []float64{0, 0, 0}},
		{"empty", SparseVector{}, []float64{0, 0, 0}},
	}
	for _, tt := range tests {
		got := nb.Nearest(tt.x)
		for c := range tt.want {
			if math.Abs(got[c]-tt.want[c]) > 1e-6 {
				t.Errorf("%s: Nearest = %v, want %v", tt.name, got, tt.want)
				break
			}
			if in := nb.NearestIn(tt.x, c); math.Abs(in-got[c]) > 1e-6 {
				t.Errorf("%s: NearestIn(class %d) = %v, Nearest says %v", tt.name, c, in, got[c])
			}
		}
	}
}

func TestBlendBeta(t *testing.T) {
	// The SVM block is wrong on two rows the nearest block gets right; a
	// small beta fixes them without breaking the rest.
	rows := [][]float64{
		{1, 0, 0.9, 0.1},
		{0.45, 0.5, 1, 0},
		{0.4, 0.5, 1, 0.1},
		{0, 1, 0.5, 0.4},
	}
	if got := blendBeta(rows, []int{0, 0, 0, 1}, 2); got == 0 || got > 0.5 {
		t.Fatalf("blendBeta = %v, want a small positive beta", got)
	}
}

func TestClassifierBlendSaveLoad(t *testing.T) {
	tok := mustTokenizer(t)
	texts, labels := toyIntents()
	ctx := context.Background()
	plain, err := TrainClassifier(ctx, tok, texts, labels, ClassifierOptions{Folds: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Examples != nil || plain.Neighbours != nil || plain.Beta != 0 {
		t.Fatal("a classifier without blend kept its training vectors")
	}
	clf, err := TrainClassifier(ctx, tok, texts, labels, ClassifierOptions{Folds: 2, Seed: 3, Blend: true, KeepExamples: true})
	if err != nil {
		t.Fatal(err)
	}
	if clf.CV == nil || clf.Neighbours == nil || len(clf.Examples) != len(texts) {
		t.Fatalf("blend run kept no cross-validation or neighbours: %+v", clf.CV)
	}
	if clf.CV.Beta != clf.Beta || clf.CV.Accuracy < clf.CV.SVMAccuracy {
		t.Fatalf("blend weight %v with accuracy %.3f against the SVM's %.3f", clf.Beta, clf.CV.Accuracy, clf.CV.SVMAccuracy)
	}
	if clf.Beta == 0 {
		// Too little data for the blend to win here; set one so saving and
		// loading it is tested.
		clf.Beta = 0.25
	}
	var buf bytes.Buffer
	if err := clf.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := LoadClassifier(&buf, tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"my card still has not arrived", "reset pin", "转人工", "something else entirely"} {
		a, an := clf.Score(clf.Vec.Transform(in))
		b, bn := back.Score(back.Vec.Transform(in))
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(an, bn) {
			t.Errorf("loaded classifier scores %q differently: %v %v vs %v %v", in, a, an, b, bn)
		}
		svm := clf.Model.Scores(clf.Vec.Transform(in))
		for k := range a {
			if math.Abs(a[k]-(svm[k]+clf.Beta*an[k])) > 1e-12 {
				t.Fatalf("score of class %d is not svm + beta*nearest", k)
			}
		}
	}
}

func TestWordVectors(t *testing.T) {
	// 还款 and 还钱 share their contexts; 额度 has others.
	var sents [][]string
	for range 5 {
		sents = append(sents,
			[]string{"花呗", "怎么", "还款"}, []string{"花呗", "怎么", "还钱"},
			[]string{"借呗", "逾期", "还款"}, []string{"借呗", "逾期", "还钱"},
			[]string{"提高", "额度"}, []string{"额度", "降低", "为什么"})
	}
	wv := LearnWordVectors(sents, 2, 64, 1)
	syn, ok1 := wv.Similarity("还款", "还钱")
	other, ok2 := wv.Similarity("还款", "额度")
	if !ok1 || !ok2 || syn <= other {
		t.Fatalf("similarity 还款~还钱 %.3f (%v), 还款~额度 %.3f (%v)", syn, ok1, other, ok2)
	}
	if _, ok := wv.Similarity("还款", "unknown"); ok {
		t.Error("a word without a vector has a similarity")
	}
	if s, ok := wv.Similarity("unknown", "unknown"); !ok || s != 1 {
		t.Error("a word is not similar to itself")
	}
	if wv.Mean([]string{"unknown"}, func(string) float64 { return 1 }) != nil {
		t.Error("mean of unknown words is not nil")
	}
}

func TestQuestionTypes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"借呗为何关闭", []string{"why"}},
		{"花呗为什么不能用", []string{"why", "can", "what"}}, // cues overlap; the model weighs them
		{"花呗怎么还款", []string{"how"}},
		{"借呗什么时候到账", []string{"when", "what"}},
		{"可以提前还吗", []string{"can"}},
		{"花呗账单", nil},
	}
	for _, tt := range tests {
		var got []string
		m := questionTypes(tt.in)
		for k, q := range questionCues {
			if m&(1<<k) != 0 {
				got = append(got, q.name)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("questionTypes(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
