package text

import (
	"bytes"
	"context"
	"math"
	"testing"
)

func TestEditDistances(t *testing.T) {
	tests := []struct {
		a, b              string
		lev, substr, subs int
	}{
		{"花呗还款", "借呗还款", 1, 3, 3},
		{"kitten", "sitting", 3, 3, 4},
		{"", "abc", 3, 0, 0},
		{"same", "same", 0, 4, 4},
	}
	for _, tt := range tests {
		a, b := []rune(tt.a), []rune(tt.b)
		if got := levenshtein(a, b); got != tt.lev {
			t.Errorf("levenshtein(%q,%q) = %d, want %d", tt.a, tt.b, got, tt.lev)
		}
		if got := longestCommonSubstring(a, b); got != tt.substr {
			t.Errorf("substring(%q,%q) = %d, want %d", tt.a, tt.b, got, tt.substr)
		}
		if got := lcsLength(a, b); got != tt.subs {
			t.Errorf("subsequence(%q,%q) = %d, want %d", tt.a, tt.b, got, tt.subs)
		}
	}
}

func TestGBDTLearnsXOR(t *testing.T) {
	// XOR is not linearly separable; depth-2 trees learn it.
	var xs [][]float64
	var ys []int
	for i := range 400 {
		a, b := float64(i%2), float64((i/2)%2)
		xs = append(xs, []float64{a + 0.01*float64(i%7), b})
		ys = append(ys, int(a)^int(b))
	}
	m, err := TrainGBDT(context.Background(), xs, ys, GBDTConfig{Trees: 50, MaxDepth: 2, MinLeaf: 5, LearningRate: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		if p := m.Probability(x); (p >= 0.5) != (ys[i] == 1) {
			t.Fatalf("row %v: p = %v, label %d", x, p, ys[i])
		}
	}
}

func toyPairs() []Pair {
	var ps []Pair
	for range 6 {
		ps = append(ps,
			Pair{"花呗怎么还款", "花呗如何还款", true},
			Pair{"花呗怎么还款", "借呗怎么还款", false},
			Pair{"借呗额度怎么提高", "借呗怎么提额", true},
			Pair{"借呗额度怎么提高", "花呗额度怎么提高", false},
			Pair{"how do I reset my pin", "reset pin please", true},
			Pair{"how do I reset my pin", "how do I close my account", false},
		)
	}
	return ps
}

func TestMatcherTrainSaveLoad(t *testing.T) {
	tok := mustTokenizer(t)
	pairs := toyPairs()
	tests := []struct {
		name string
		opts MatcherOptions
		logs int
	}{
		{"one configuration", MatcherOptions{GBDT: GBDTConfig{Trees: 30, MinLeaf: 2}, Folds: 3}, 1},
		{"grid chosen by cv", MatcherOptions{GBDTGrid: []GBDTConfig{{Trees: 5, MinLeaf: 2}, {Trees: 30, MinLeaf: 2}}, Folds: 3}, 2},
	}
	for _, tt := range tests {
		var logs []string
		tt.opts.Log = func(s string) { logs = append(logs, s) }
		m, err := TrainMatcher(context.Background(), tok, pairs, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) != tt.logs || m.CVAccuracy <= 0.5 || m.CVF1 <= 0 {
			t.Fatalf("%s: %d configurations tried, cv accuracy %.3f F1 %.3f", tt.name, len(logs), m.CVAccuracy, m.CVF1)
		}
		if n := len(m.Feat.Features("a", "b")); n != len(pairFeatureNames()) {
			t.Fatalf("%d features but %d names", n, len(pairFeatureNames()))
		}
		var buf bytes.Buffer
		if err := m.Save(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := LoadMatcher(&buf, tok)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs[:6] {
			pa, sa := m.Match(p.A, p.B)
			pb, _ := back.Match(p.A, p.B)
			if sa != p.Same {
				t.Errorf("%s: Match(%q, %q) = %v (p %.2f), want %v", tt.name, p.A, p.B, sa, pa, p.Same)
			}
			if math.Abs(pa-pb) > 1e-12 {
				t.Errorf("%s: loaded matcher differs: %v vs %v", tt.name, pa, pb)
			}
		}
	}
}

func TestDiscoverWords(t *testing.T) {
	tok, err := NewTokenizer(TokenizerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"花呗还款", "花呗逾期", "我的花呗", "花呗额度"}
	got := DiscoverWords(tok, texts, 3)
	if len(got) != 1 || got[0] != "花呗" {
		t.Fatalf("DiscoverWords = %q, want [花呗]", got)
	}
	if err := tok.AddWords(got...); err != nil {
		t.Fatal(err)
	}
	if terms := tok.Terms("花呗还款"); len(terms) == 0 || terms[0] != "花呗" {
		t.Fatalf("after AddWords: %q", terms)
	}
}
