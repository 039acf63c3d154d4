package emotion

import (
	"bytes"
	"context"
	"math"
	"testing"
)

func TestBalancedWeights(t *testing.T) {
	ys := []int{0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2}
	tests := []struct {
		power float64
		want  []float64
	}{
		{0, nil},
		{1, []float64{12.0 / 18, 12.0 / 6, 12.0 / 12}},
		{0.5, []float64{math.Sqrt(12.0 / 18), math.Sqrt(12.0 / 6), 1}},
	}
	for _, tc := range tests {
		got := balancedWeights(ys, 3, tc.power)
		if len(got) != len(tc.want) {
			t.Fatalf("power %g: %v, want %v", tc.power, got, tc.want)
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Fatalf("power %g: %v, want %v", tc.power, got, tc.want)
			}
		}
	}
}

// TestWordFeatures trains a model with word features, saves and reloads it
// with a tokenizer, and checks that an Analyzer's shared segmentation gives
// the same probabilities as Predict.
func TestWordFeatures(t *testing.T) {
	tok, err := NewWordTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	texts, ys := toySet()
	labels := []string{"neutral", "angry", "happy"}
	spec := FeatureSpec{CharMin: 1, CharMax: 2, HashBits: 12, Words: true, NB: 0.5}
	m, err := trainModel(context.Background(), "toy", labels, texts, ys, trainConfig{Spec: spec, C: 1, MinDF: 1}, NewLexicon(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trainModel(context.Background(), "toy", labels, texts, ys, trainConfig{Spec: spec, C: 1, MinDF: 1}, NewLexicon(), nil); err == nil {
		t.Fatal("a word model trained without a tokenizer")
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModel(bytes.NewReader(buf.Bytes()), nil, nil); err == nil {
		t.Fatal("a word model loaded without a tokenizer")
	}
	m2, err := LoadModel(bytes.NewReader(buf.Bytes()), nil, tok)
	if err != nil {
		t.Fatal(err)
	}
	// An abuse model with word features (angry toy texts as offensive),
	// to check the Analyzer's shared segmentation.
	bin := make([]int, len(ys))
	for i, y := range ys {
		if y == 1 {
			bin[i] = 1
		}
	}
	ab, err := trainModel(context.Background(), "abuse", abuseLabels, texts, bin, trainConfig{Spec: spec, C: 1, MinDF: 1}, NewLexicon(), tok)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(Models{Abuse: ab})
	for _, s := range []string{"真是气死了", "谢谢客服", "请问物流到哪里了", ""} {
		p1, b1 := m.Predict(s)
		p2, b2 := m2.predict(s, tok.AllTerms(s))
		if b1 != b2 {
			t.Fatalf("%q: best %d vs %d", s, b1, b2)
		}
		for i := range p1 {
			if math.Abs(p1[i]-p2[i]) > 1e-12 {
				t.Fatalf("%q: %v vs %v", s, p1, p2)
			}
		}
		if s == "" {
			continue
		}
		pa, _ := ab.Predict(s)
		if r := a.Analyze(s); math.Abs(r.Abuse-pa[1]) > 1e-12 {
			t.Fatalf("Analyze(%q): abuse %v, Predict %v", s, r.Abuse, pa)
		}
	}
}
