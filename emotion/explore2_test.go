package emotion

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost/text"
)

// TestExplore2 compares feature views, C and ensembles on the development
// splits. Run with STARPOST_EXPLORE2=<task>.
func TestExplore2(t *testing.T) {
	want := os.Getenv("STARPOST_EXPLORE2")
	if want == "" {
		t.Skip("set STARPOST_EXPLORE2")
	}
	dataDir := dataDirForTest()
	lex := NewLexicon()
	tok, err := NewWordTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	specs := map[string]FeatureSpec{
		"c14nb":    {CharMin: 1, CharMax: 4, HashBits: 19, NB: 0.5},
		"c14nb20":  {CharMin: 1, CharMax: 4, HashBits: 20, NB: 0.5},
		"c14nb1":   {CharMin: 1, CharMax: 4, HashBits: 20, NB: 1},
		"c14w":     {CharMin: 1, CharMax: 4, HashBits: 20, Words: true},
		"c14wnb":   {CharMin: 1, CharMax: 4, HashBits: 20, Words: true, NB: 0.5},
		"c15wnb":   {CharMin: 1, CharMax: 5, HashBits: 20, Words: true, NB: 0.5},
		"c13wnb":   {CharMin: 1, CharMax: 3, HashBits: 20, Words: true, NB: 0.5},
		"c14wnbl":  {CharMin: 1, CharMax: 4, HashBits: 20, Words: true, NB: 0.5, LexiconWeight: 0.3},
		"c14wnb1":  {CharMin: 1, CharMax: 4, HashBits: 20, Words: true, NB: 1},
		"c14nb20l": {CharMin: 1, CharMax: 4, HashBits: 20, NB: 0.5, LexiconWeight: 0.3},
		"c13nb":    {CharMin: 1, CharMax: 3, HashBits: 19, NB: 0.5},
		"c15wnbl":  {CharMin: 1, CharMax: 5, HashBits: 21, Words: true, NB: 0.5, LexiconWeight: 0.3},
		"c14wnbl1": {CharMin: 1, CharMax: 4, HashBits: 20, Words: true, NB: 0.5, LexiconWeight: 1},
	}
	names := strings.Split(os.Getenv("STARPOST_SPECS"), ",")
	cs := []float64{0.1, 0.3, 1}
	if s := os.Getenv("STARPOST_CS"); s != "" {
		cs = nil
		for _, x := range strings.Split(s, ",") {
			var c float64
			fmt.Sscan(x, &c)
			cs = append(cs, c)
		}
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
		type run struct {
			name  string
			probs [][]float64
		}
		var runs []run
		for _, name := range names {
			sp, ok := specs[name]
			if !ok {
				t.Fatalf("no spec %s", name)
			}
			t0 := time.Now()
			f := featurizer{spec: sp, lex: lex, tok: tok}
			f.fitIDF(tr.texts, 2)
			f.fitNB(tr.texts, tr.ys, len(tk.labels))
			xs := make([]text.SparseVector, len(tr.texts))
			for i, s := range tr.texts {
				xs[i] = f.vector(s)
			}
			t.Logf("%s %s: features %s", tk.name, name, time.Since(t0).Round(time.Millisecond))
			for _, c := range cs {
				t0 := time.Now()
				var pw float64
				fmt.Sscan(os.Getenv("STARPOST_CW"), &pw)
				m, err := fitVectors(context.Background(), tk.name, tk.labels, f, xs, tr.ys, c, balancedWeights(tr.ys, len(tk.labels), pw), lex, tok)
				if err != nil {
					t.Fatal(err)
				}
				scores := make([][]float64, len(dev.texts))
				for i, s := range dev.texts {
					scores[i] = m.rawScores(m.feat.vector(s))
				}
				acc, mf1 := scoreOf(scores, dev.ys, len(tk.labels))
				a2, m2 := halfTuned(scores, dev.ys, len(tk.labels), tk.macro)
				temp := text.FitTemperature(scores, dev.ys)
				probs := make([][]float64, len(scores))
				for i := range scores {
					probs[i] = text.Softmax(scores[i], temp)
				}
				runs = append(runs, run{fmt.Sprintf("%s/C%g", name, c), probs})
				t.Logf("%s %s C=%g: dev acc %.4f mF1 %.4f | half-tuned acc %.4f mF1 %.4f (%s)", tk.name, name, c, acc, mf1, a2, m2, time.Since(t0).Round(time.Millisecond))
			}
		}
		for i := range runs {
			for j := i + 1; j < len(runs); j++ {
				if strings.Split(runs[i].name, "/")[0] == strings.Split(runs[j].name, "/")[0] {
					continue
				}
				avg := make([][]float64, len(dev.ys))
				for k := range avg {
					avg[k] = make([]float64, len(tk.labels))
					for c := range avg[k] {
						avg[k][c] = 0.5*runs[i].probs[k][c] + 0.5*runs[j].probs[k][c]
					}
				}
				acc, mf1 := scoreOf(avg, dev.ys, len(tk.labels))
				a2, m2 := halfTuned(avg, dev.ys, len(tk.labels), tk.macro)
				t.Logf("%s ens %s + %s: dev acc %.4f mF1 %.4f | half-tuned acc %.4f mF1 %.4f", tk.name, runs[i].name, runs[j].name, acc, mf1, a2, m2)
			}
		}
	}
}

func scoreOf(scores [][]float64, ys []int, classes int) (float64, float64) {
	pred := make([]int, len(scores))
	for i, s := range scores {
		for c := range s {
			if s[c] > s[pred[i]] {
				pred[i] = c
			}
		}
	}
	acc, mf1, _ := metrics(ys, pred, classes)
	return acc, mf1
}

// halfTuned tunes offsets on one half of dev and scores the other, both ways,
// and returns the pooled figures.
func halfTuned(scores [][]float64, ys []int, classes int, macro bool) (float64, float64) {
	var a, b [][]float64
	var ya, yb []int
	for i := range scores {
		if i%2 == 0 {
			a, ya = append(a, scores[i]), append(ya, ys[i])
		} else {
			b, yb = append(b, scores[i]), append(yb, ys[i])
		}
	}
	pred := make([]int, len(scores))
	for half := range 2 {
		tune, ytune := a, ya
		if half == 1 {
			tune, ytune = b, yb
		}
		off := tuneOffsets(tune, ytune, classes, macro)
		for i := range scores {
			if i%2 == half {
				continue
			}
			best := 0
			for c := range scores[i] {
				if scores[i][c]+off[c] > scores[i][best]+off[best] {
					best = c
				}
			}
			pred[i] = best
		}
	}
	acc, mf1, _ := metrics(ys, pred, classes)
	return acc, mf1
}
