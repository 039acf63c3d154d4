package text

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
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
		}
	}
}

// TestStackerLearnsWhichBlockToTrust gives the stacker a block of noise and
// a block that points at the right class; it must learn to follow the
// second even when it starts trusting the first.
func TestStackerLearnsWhichBlockToTrust(t *testing.T) {
	const classes = 4
	rng := rand.New(rand.NewPCG(1, 2))
	var rows [][]float64
	var ys []int
	for range 400 {
		y := rng.IntN(classes)
		row := make([]float64, 2*classes)
		for c := range classes {
			row[c] = rng.Float64() * 2 // noise
			row[classes+c] = 0.2 * rng.Float64()
		}
		row[classes+y] += 0.5
		rows, ys = append(rows, row), append(ys, y)
	}
	acc := func(score func([]float64) []float64) float64 {
		n := 0
		for i, r := range rows {
			if argmax(score(r)) == ys[i] {
				n++
			}
		}
		return float64(n) / float64(len(rows))
	}
	noise := acc(func(r []float64) []float64 { return r[:classes] })
	st, err := TrainStacker(context.Background(), rows, ys, classes, StackerConfig{Seed: 1, Epochs: 30, Rate: 0.5, BlockWeights: []float64{1, 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := acc(st.Scores); got < 0.95 || got <= noise {
		t.Fatalf("stacker accuracy %.3f (noise block alone %.3f)", got, noise)
	}
	if _, err := TrainStacker(context.Background(), [][]float64{{1, 2, 3}}, []int{0}, 2, StackerConfig{}); err == nil {
		t.Error("rows that are not blocks of the classes were accepted")
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

func TestClassifierStackedSaveLoad(t *testing.T) {
	tok := mustTokenizer(t)
	texts, labels := toyIntents()
	ctx := context.Background()
	clf, err := TrainClassifier(ctx, tok, texts, labels, ClassifierOptions{Folds: 2, Seed: 3, Stack: true})
	if err != nil {
		t.Fatal(err)
	}
	if clf.CV == nil || clf.Neighbours == nil || len(clf.Examples) != len(texts) {
		t.Fatalf("stacking run kept no cross-validation or neighbours: %+v", clf.CV)
	}
	if clf.CV.Stacked != (clf.Stack != nil) || clf.CV.Accuracy < clf.CV.SVMAccuracy {
		t.Fatalf("stack kept %v with accuracy %.3f against the SVM's %.3f", clf.Stack != nil, clf.CV.Accuracy, clf.CV.SVMAccuracy)
	}
	if clf.Stack == nil {
		// Too little data for the stack to win here: attach one trained on
		// the training rows so saving and loading a stack is tested.
		var rows [][]float64
		var ys []int
		for i, tx := range texts {
			s, near := clf.Score(clf.Vec.Transform(tx))
			rows = append(rows, append(s, near...))
			for c, l := range clf.Labels {
				if l == labels[i] {
					ys = append(ys, c)
				}
			}
		}
		if clf.Stack, err = TrainStacker(ctx, rows, ys, len(clf.Labels), StackerConfig{Seed: 1, BlockWeights: []float64{1, 0.5}}); err != nil {
			t.Fatal(err)
		}
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
