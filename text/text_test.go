package text

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"sync"
	"testing"
)

// testTokenizer loads the segmenter once for all tests of the package run.
var testTokenizer = sync.OnceValues(func() (*Tokenizer, error) {
	return NewTokenizer(TokenizerOptions{UserWords: []string{"花呗", "借呗"}})
})

func mustTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := testTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSegmentChinese(t *testing.T) {
	tok := mustTokenizer(t)
	tests := []struct {
		in   string
		want []string
	}{
		{"我想转人工客服", []string{"我", "想", "转", "人工", "客服"}},
		{"花呗逾期了怎么办", []string{"花呗", "逾期", "了", "怎么办"}},
		{"蚂蚁借呗可以提前还款吗", []string{"蚂蚁", "借呗", "可以", "提前", "还款", "吗"}},
		{"我的Card还没到，怎么办？", []string{"我", "的", "card", "还", "没到", "怎么办"}},
	}
	for _, tt := range tests {
		if got := tok.Terms(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Terms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenOffsets(t *testing.T) {
	tok := mustTokenizer(t)
	in := "Ｃａｒｄ  declined at the ATM，花呗不能用了 can't pay"
	for _, tk := range tok.Tokenize(in) {
		if tk.Start < 0 || tk.End > len(in) || tk.Start >= tk.End {
			t.Fatalf("bad offsets %+v", tk)
		}
	}
	toks := tok.Tokenize(in)
	want := []string{"card", "declin", "at", "the", "atm", "花呗", "不能", "用", "了", "cant", "pay"}
	var got []string
	for _, tk := range toks {
		got = append(got, tk.Term)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("terms = %q, want %q", got, want)
	}
	if s := in[toks[0].Start:toks[0].End]; s != "Ｃａｒｄ" {
		t.Errorf("surface of first token = %q", s)
	}
	if s := in[toks[5].Start:toks[5].End]; s != "花呗" {
		t.Errorf("surface of 花呗 token = %q", s)
	}
}

func TestStopWords(t *testing.T) {
	tok, err := NewTokenizer(TokenizerOptions{DropStopWords: true})
	if err != nil {
		t.Fatal(err)
	}
	got := tok.Terms("Why is the card not working? 我的卡为什么不能用")
	want := []string{"card", "work", "卡", "为什么", "不能", "用"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Terms = %q, want %q", got, want)
	}
	// AllTerms keeps them, as a tokenizer that keeps stop words does.
	keep, err := NewTokenizer(TokenizerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := "Why is the card not working? 我的卡为什么不能用"
	all, want := tok.AllTerms(in), keep.Terms(in)
	if !reflect.DeepEqual(all, want) || len(all) <= len(got) {
		t.Fatalf("AllTerms = %q, want %q", all, want)
	}
}

func TestStemming(t *testing.T) {
	tok := mustTokenizer(t)
	tests := []struct{ in, want string }{
		{"running", "run"},
		{"cards", "card"},
		{"charged", "charg"},
		{"charges", "charg"},
		{"generously", "generous"},
		{"transferred", "transfer"},
		{"identification", "identif"},
		{"activation", "activ"},
		{"2024", "2024"},
	}
	for _, tt := range tests {
		if got := tok.Terms(tt.in); len(got) != 1 || got[0] != tt.want {
			t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCharNGrams(t *testing.T) {
	tests := []struct {
		in       string
		min, max int
		want     []string
	}{
		{"Ab", 1, 2, []string{"a", "b", " a", "ab", "b "}},
		{"花呗!", 2, 3, []string{" 花", "花呗", "呗 ", " 花呗", "花呗 "}},
		{"", 1, 3, nil},
	}
	for _, tt := range tests {
		if got := CharNGrams(tt.in, tt.min, tt.max); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CharNGrams(%q,%d,%d) = %q, want %q", tt.in, tt.min, tt.max, got, tt.want)
		}
	}
}

func TestTFIDF(t *testing.T) {
	tok := mustTokenizer(t)
	v := NewVectorizer(tok, FeatureConfig{WordNGrams: 1})
	v.Fit([]string{"card card lost", "card arrived", "pin blocked"})
	// n = 3; idf(card) = ln(4/3)+1, idf(lost) = ln(4/2)+1.
	x := v.Transform("card card lost")
	idfCard := math.Log(4.0/3) + 1
	idfLost := math.Log(4.0/2) + 1
	wc := (1 + math.Log(2)) * idfCard
	wl := idfLost
	n := math.Hypot(wc, wl)
	want := map[string]float64{"w\x00card": wc / n, "w\x00lost": wl / n}
	if len(x.Idx) != 2 {
		t.Fatalf("vector has %d entries, want 2", len(x.Idx))
	}
	for g, w := range want {
		id := v.Vocab[g]
		found := false
		for k, i := range x.Idx {
			if i == id {
				found = true
				if math.Abs(float64(x.Val[k])-w) > 1e-6 {
					t.Errorf("weight of %q = %v, want %v", g, x.Val[k], w)
				}
			}
		}
		if !found {
			t.Errorf("feature %q missing", g)
		}
	}
	if got := x.Norm(); math.Abs(got-1) > 1e-6 {
		t.Errorf("norm = %v, want 1", got)
	}
	if got := v.Transform("unknown words"); len(got.Idx) != 0 {
		t.Errorf("unknown words gave %v", got)
	}
}

func toyIntents() (texts, labels []string) {
	data := []struct{ text, label string }{
		{"my card has not arrived yet", "card_arrival"},
		{"when will my new card arrive", "card_arrival"},
		{"still waiting for the card in the mail", "card_arrival"},
		{"card delivery is taking too long", "card_arrival"},
		{"i forgot my pin code", "pin"},
		{"how do i reset my pin", "pin"},
		{"my pin is blocked after wrong attempts", "pin"},
		{"change the pin number please", "pin"},
		{"我要转人工", "human"},
		{"请帮我转人工客服", "human"},
		{"I want to talk to a human agent", "human"},
		{"connect me with a real person", "human"},
	}
	for _, d := range data {
		texts = append(texts, d.text)
		labels = append(labels, d.label)
	}
	return texts, labels
}

func TestClassifierTrainSaveLoad(t *testing.T) {
	tok := mustTokenizer(t)
	texts, labels := toyIntents()
	ctx := context.Background()
	clf, err := TrainClassifier(ctx, tok, texts, labels, ClassifierOptions{Folds: 2, CGrid: []float64{0.5, 2}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, tx := range texts {
		if p := clf.Classify(tx); p.Label != labels[i] {
			t.Errorf("training example %q classified %q, want %q", tx, p.Label, labels[i])
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
	tests := []struct{ in, want string }{
		{"my card still has not arrived", "card_arrival"},
		{"reset pin", "pin"},
		{"转人工", "human"},
	}
	for _, tt := range tests {
		a, b := clf.Classify(tt.in), back.Classify(tt.in)
		if a.Label != tt.want {
			t.Errorf("Classify(%q) = %q, want %q", tt.in, a.Label, tt.want)
		}
		if a.Label != b.Label || math.Abs(a.Confidence-b.Confidence) > 1e-12 {
			t.Errorf("loaded model differs on %q: %+v vs %+v", tt.in, a, b)
		}
		var sum float64
		for _, r := range a.Ranked {
			sum += r.Prob
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("probabilities sum to %v", sum)
		}
	}
	if _, err := LoadClassifier(bytes.NewReader([]byte("junk")), tok); err == nil {
		t.Error("loading junk succeeded")
	}
}

func TestLinearSeparable(t *testing.T) {
	// Two Gaussian-free, perfectly separable clusters on 3 features.
	var xs []SparseVector
	var ys []int
	for i := range 40 {
		v := float32(i%5+1) / 5
		if i%2 == 0 {
			xs = append(xs, SparseVector{Idx: []int32{0, 2}, Val: []float32{1, v}})
			ys = append(ys, 0)
		} else {
			xs = append(xs, SparseVector{Idx: []int32{1, 2}, Val: []float32{1, v}})
			ys = append(ys, 1)
		}
	}
	for _, l1 := range []bool{false, true} {
		m, err := TrainLinear(context.Background(), xs, ys, 2, 3, LinearConfig{C: 1, L1Loss: l1})
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			if got := argmax(m.Scores(x)); got != ys[i] {
				t.Fatalf("l1=%v: example %d classified %d", l1, i, got)
			}
		}
	}
}

func TestFitTemperature(t *testing.T) {
	// Scores that are right 3 times in 4 with a big margin are overconfident
	// at T=1, so the fitted temperature must soften them (T > 1).
	var scores [][]float64
	var ys []int
	for i := range 100 {
		scores = append(scores, []float64{5, 0})
		ys = append(ys, map[bool]int{true: 1, false: 0}[i%4 == 0])
	}
	if T := FitTemperature(scores, ys); T <= 1 {
		t.Fatalf("temperature = %v, want > 1", T)
	} else if p := Softmax(scores[0], T)[0]; math.Abs(p-0.75) > 0.01 {
		t.Fatalf("calibrated probability = %v, want 0.75", p)
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "花呗逾期了怎么办", "Card can't pay！", "ｆｕｌｌ　ｗｉｄｔｈ", "\xff\xfe", "a'", "'a", "日本語のテキスト", "مرحبا"} {
		f.Add(s)
	}
	tok := mustTokenizer(f)
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for _, tk := range tok.Tokenize(s) {
			if tk.Start < prev || tk.End > len(s) || tk.Start >= tk.End {
				t.Fatalf("bad token %+v in %q", tk, s)
			}
			if tk.Term == "" {
				t.Fatalf("empty term in %q", s)
			}
			prev = tk.End
		}
		_ = CharNGrams(s, 1, 4)
	})
}

func TestHasHan(t *testing.T) {
	for s, want := range map[string]bool{"退款多久到账": true, "where is order 42": false, "order 42 到了吗": true, "": false, "ありがとう": false} {
		if got := HasHan(s); got != want {
			t.Errorf("HasHan(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestLinearClassWeight checks that ClassWeight moves the boundary toward
// the lighter class and that weights of 1 change nothing.
func TestLinearClassWeight(t *testing.T) {
	// Class 1 is rare and overlaps class 0 on feature 0.
	var xs []SparseVector
	var ys []int
	for i := range 60 {
		xs = append(xs, SparseVector{Idx: []int32{0}, Val: []float32{1}})
		ys = append(ys, 0)
		if i%6 == 0 {
			xs = append(xs, SparseVector{Idx: []int32{0, 1}, Val: []float32{1, 0.2}})
			ys = append(ys, 1)
		}
	}
	probe := SparseVector{Idx: []int32{0, 1}, Val: []float32{1, 0.2}}
	for _, classes := range []int{2, 3} {
		base, err := TrainLinear(context.Background(), xs, ys, classes, 2, LinearConfig{C: 0.1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		ones, err := TrainLinear(context.Background(), xs, ys, classes, 2, LinearConfig{C: 0.1, Seed: 1, ClassWeight: []float64{1, 1, 1}})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(base.W, ones.W) {
			t.Fatalf("%d classes: weights of 1 changed the model", classes)
		}
		heavy, err := TrainLinear(context.Background(), xs, ys, classes, 2, LinearConfig{C: 0.1, Seed: 1, ClassWeight: []float64{1, 20, 1}})
		if err != nil {
			t.Fatal(err)
		}
		b, h := base.Scores(probe), heavy.Scores(probe)
		if !(h[1]-h[0] > b[1]-b[0]) {
			t.Fatalf("%d classes: weighting class 1 did not favour it: %v -> %v", classes, b, h)
		}
		if argmax(h) != 1 {
			t.Fatalf("%d classes: weighted model still misses the rare class: %v", classes, h)
		}
	}
}
