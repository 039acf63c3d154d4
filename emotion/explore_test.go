package emotion

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost/text"
)

// TestExplore compares feature configurations on the development splits
// (never the test splits). Run with STARPOST_EXPLORE=<task,...>.
func TestExplore(t *testing.T) {
	want := os.Getenv("STARPOST_EXPLORE")
	if want == "" {
		t.Skip("set STARPOST_EXPLORE=abuse,sentiment,emotion,emotion_en to compare configurations on dev")
	}
	dataDir := dataDirForTest()
	lex := NewLexicon()
	var tok *text.Tokenizer
	specs := []FeatureSpec{
		{CharMin: 1, CharMax: 3, HashBits: 19},
		{CharMin: 1, CharMax: 3, HashBits: 19, NB: 0.5},
		{CharMin: 1, CharMax: 4, HashBits: 19, NB: 0.5},
		{CharMin: 1, CharMax: 4, HashBits: 19, NB: 1},
	}
	for _, tk := range tasks() {
		if !strings.Contains(want, tk.name) {
			continue
		}
		tr, err := tk.read(dataDir, "train")
		if err != nil {
			t.Fatal(err)
		}
		dev, err := tk.read(dataDir, "dev")
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range specs {
			if sp.Words && tok == nil {
				tok, err = text.NewTokenizer(text.TokenizerOptions{NoStem: false})
				if err != nil {
					t.Fatal(err)
				}
			}
			f := featurizer{spec: sp, lex: lex, tok: tok}
			f.fitIDF(tr.texts, 2)
			f.fitNB(tr.texts, tr.ys, len(tk.labels))
			xs := make([]text.SparseVector, len(tr.texts))
			for i, s := range tr.texts {
				xs[i] = f.vector(s)
			}
			for _, c := range []float64{0.3, 1, 3} {
				t0 := time.Now()
				m, err := fitVectors(context.Background(), tk.name, tk.labels, f, xs, tr.ys, c, nil, lex, tok)
				if err != nil {
					t.Fatal(err)
				}
				acc, mf1, pc := devScore(m, dev)
				m.calibrate(dev.texts, dev.ys, tk.macro)
				acc2, mf12, _ := devScore(m, dev)
				t.Logf("%s %+v C=%g: dev acc %.4f mF1 %.4f perclass %.3f | tuned acc %.4f mF1 %.4f (%s)", tk.name, sp, c, acc, mf1, pc, acc2, mf12, time.Since(t0).Round(time.Millisecond))
			}
		}
	}
}

func devScore(m *Model, d dataset) (float64, float64, []float64) {
	pred := make([]int, len(d.texts))
	for i, s := range d.texts {
		_, pred[i] = m.Predict(s)
	}
	return metrics(d.ys, pred, len(m.Labels))
}

func dataDirForTest() string {
	if d := os.Getenv("STARPOST_DATA"); d != "" {
		return d
	}
	return "../../shared/data"
}
