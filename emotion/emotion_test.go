package emotion

import (
	"bytes"
	"context"
	"math"
	"os"
	"strings"
	"testing"
)

func TestLexicon(t *testing.T) {
	lex := NewLexicon()
	tests := []struct {
		name string
		in   string
		want map[Cue]int
	}{
		{"zh insult", "你们客服都是废物！", map[Cue]int{CueInsult: 1}},
		{"zh insult and exclaim", "垃圾客服，傻逼！！！", map[Cue]int{CueInsult: 2, CueExclaim: 1}},
		{"zh question run", "到底什么时候发货？？？", map[Cue]int{CueQuestion: 1, CueAnger: 1}},
		{"zh thanks", "谢谢，问题解决了", map[Cue]int{CuePositive: 2}},
		{"zh negation intensifier", "太慢了，一直没人回", map[Cue]int{CueAnger: 1, CueIntensifier: 1, CueNegation: 1}},
		{"zh slang sb", "你是sb吗", map[Cue]int{CueInsult: 1}},
		{"en insult", "You are an idiot and this is useless", map[Cue]int{CueInsult: 2}},
		{"en prefix", "what a bunch of morons", map[Cue]int{CueInsult: 1}},
		{"en profanity shout", "WHY is this SO damn slow!!", map[Cue]int{CueProfanity: 1, CueShout: 1, CueIntensifier: 1, CueExclaim: 1}},
		{"en thanks", "Thanks, that solved it", map[Cue]int{CuePositive: 2}},
		{"en no false word match", "sbx class assistant", map[Cue]int{}},
		{"emoji", "发货太慢😡[怒]", map[Cue]int{CueAngryEmoji: 2, CueAnger: 1}}, // 太慢 is one anger word, not 太 + 慢
		{"weibo happy", "好开心[哈哈]", map[Cue]int{CueHappyEmoji: 1, CuePositive: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lex.Count(tc.in)
			for c := range numCues {
				if got[c] != tc.want[c] {
					t.Errorf("%s: %v = %d, want %d (matches %+v)", tc.in, c, got[c], tc.want[c], lex.Find(tc.in))
				}
			}
			for _, m := range lex.Find(tc.in) {
				if m.Start < 0 || m.End > len(tc.in) || m.Start >= m.End {
					t.Errorf("bad span %+v", m)
				}
			}
		})
	}
}

func TestFindSpans(t *testing.T) {
	lex := NewLexicon()
	s := "你们客服都是废物"
	for _, m := range lex.Find(s) {
		if m.Cue == CueInsult && s[m.Start:m.End] != "废物" {
			t.Errorf("insult span %q, want 废物", s[m.Start:m.End])
		}
	}
}

// toySet is a small synthetic three-class set.
func toySet() (texts []string, ys []int) {
	angry := []string{"气死我了", "太慢了气死", "什么破服务气死人", "投诉你们气死", "等了半天没人理气死了", "垃圾服务气死"}
	happy := []string{"谢谢你", "非常感谢", "谢谢帮忙", "太好了谢谢", "感谢客服", "问题解决了谢谢"}
	neutral := []string{"请问几点发货", "订单号是多少", "我想查询物流", "几点营业", "发票怎么开", "地址在哪里"}
	for k, group := range [][]string{neutral, angry, happy} {
		for _, s := range group {
			texts = append(texts, s)
			ys = append(ys, k)
		}
	}
	return texts, ys
}

func trainToy(t *testing.T) *Model {
	t.Helper()
	texts, ys := toySet()
	spec := FeatureSpec{CharMin: 1, CharMax: 3, HashBits: 12, LexiconWeight: 0.3}
	m, err := trainModel(context.Background(), "toy", []string{"neutral", "angry", "happy"}, texts, ys,
		trainConfig{Spec: spec, C: 1, MinDF: 1}, NewLexicon(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTrainToy(t *testing.T) {
	m := trainToy(t)
	tests := []struct{ in, want string }{
		{"真是气死了", "angry"},
		{"谢谢客服", "happy"},
		{"请问物流到哪里了", "neutral"},
	}
	for _, tc := range tests {
		p, best := m.Predict(tc.in)
		if got := m.Labels[best]; got != tc.want {
			t.Errorf("Predict(%q) = %s %v, want %s", tc.in, got, p, tc.want)
		}
		var sum float64
		for _, x := range p {
			sum += x
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("probabilities sum to %v", sum)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := trainToy(t)
	texts, ys := toySet()
	m.calibrate(texts, ys, true)
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadModel(&buf, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(texts, "完全没见过的句子", "") {
		p1, b1 := m.Predict(s)
		p2, b2 := m2.Predict(s)
		if b1 != b2 {
			t.Fatalf("%q: best %d vs %d after reload", s, b1, b2)
		}
		for i := range p1 {
			if math.Abs(p1[i]-p2[i]) > 1e-12 {
				t.Fatalf("%q: probabilities %v vs %v after reload", s, p1, p2)
			}
		}
	}
	if _, err := LoadModel(strings.NewReader("not a model"), nil, nil); err == nil {
		t.Error("LoadModel accepted garbage")
	}
}

func TestBinaryModel(t *testing.T) {
	texts := []string{"好评很满意", "非常好用", "质量很好", "很喜欢", "差评太差", "垃圾质量", "很失望", "太差劲了"}
	ys := []int{1, 1, 1, 1, 0, 0, 0, 0}
	m, err := trainModel(context.Background(), "toy", sentimentLabels, texts, ys,
		trainConfig{Spec: FeatureSpec{CharMin: 1, CharMax: 2, HashBits: 10}, C: 1, MinDF: 1}, NewLexicon(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Binary || len(m.Scale) != 1 {
		t.Fatalf("binary model keeps %d rows", len(m.Scale))
	}
	if _, b := m.Predict("很好很满意"); m.Labels[b] != "positive" {
		t.Errorf("很好很满意 -> %s", m.Labels[b])
	}
	if _, b := m.Predict("太差了很失望"); m.Labels[b] != "negative" {
		t.Errorf("太差了很失望 -> %s", m.Labels[b])
	}
}

func TestTuneOffsets(t *testing.T) {
	// Class 1 is always scored 0.2 too low; an offset fixes it.
	scores := [][]float64{{0.5, 0.4}, {0.5, 0.45}, {0.6, 0.1}, {0.7, 0.2}}
	ys := []int{1, 1, 0, 0}
	off := tuneOffsets(scores, ys, 2, false)
	if off[0] != 0 || off[1] <= 0.1 || off[1] >= 0.4 {
		t.Errorf("offsets %v, want class 1 raised by between 0.1 and 0.4", off)
	}
}

func TestTrendScriptedConversation(t *testing.T) {
	tr := NewTrend(TrendOptions{})
	script := []struct {
		anger, sentiment float64
		want             Direction
	}{
		{0.05, 0.2, Steady},
		{0.10, 0.0, Steady},
		{0.50, -0.5, Escalating},
		{0.90, -0.9, Escalating},
		{0.95, -0.9, Escalating},
		{0.30, -0.2, Steady}, // one calmer message after a peak is not yet a trend
		{0.05, 0.6, Calming},
	}
	for i, step := range script {
		st := tr.Observe(Result{Anger: step.anger, Sentiment: step.sentiment})
		if st.Direction != step.want {
			t.Errorf("message %d: %v (delta %.3f), want %v", i+1, st.Direction, st.Delta, step.want)
		}
		if st.Messages != i+1 {
			t.Errorf("message %d: Messages = %d", i+1, st.Messages)
		}
	}
}

func TestAnalyzerLexiconFallback(t *testing.T) {
	a := NewAnalyzer(Models{})
	tests := []struct {
		in        string
		abusive   bool
		emotion   string
		lang      string
		sentiment int // sign
	}{
		{"you are a useless idiot", true, Anger, "en", -1},
		{"thanks, that was helpful", false, Satisfaction, "en", 1},
		{"你们都是废物", true, Anger, "zh", -1},
		{"谢谢，问题解决了", false, Satisfaction, "zh", 1},
		{"请问几点发货", false, Neutral, "zh", 0},
	}
	for _, tc := range tests {
		r := a.Analyze(tc.in)
		if (r.Abuse > 0.5) != tc.abusive || r.Emotion != tc.emotion || r.Lang != tc.lang {
			t.Errorf("%q: abuse %.2f emotion %s lang %s, want abusive %v %s %s", tc.in, r.Abuse, r.Emotion, r.Lang, tc.abusive, tc.emotion, tc.lang)
		}
		if sign(r.Sentiment) != tc.sentiment {
			t.Errorf("%q: sentiment %.2f, want sign %d", tc.in, r.Sentiment, tc.sentiment)
		}
	}
}

func sign(x float64) int {
	switch {
	case x > 1e-9:
		return 1
	case x < -1e-9:
		return -1
	}
	return 0
}

func TestEmbeddedSmoke(t *testing.T) {
	a, err := LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in       string
		abusive  bool
		angry    bool
		positive bool
	}{
		{"你们客服都是废物！", true, true, false},
		{"谢谢，问题解决了", false, false, true},
		{"You are useless idiots, I want a refund NOW!!", true, true, false},
		{"Thank you so much, that fixed it!", false, false, true},
	}
	for _, tc := range tests {
		r := a.Analyze(tc.in)
		if (r.Abuse > 0.5) != tc.abusive {
			t.Errorf("%q: abuse %.3f", tc.in, r.Abuse)
		}
		if (r.Anger > 0.5) != tc.angry {
			t.Errorf("%q: anger %.3f (emotion %s %.3v)", tc.in, r.Anger, r.Emotion, r.Emotions)
		}
		if (r.Sentiment > 0) != tc.positive {
			t.Errorf("%q: sentiment %.3f", tc.in, r.Sentiment)
		}
	}
}

func TestEvalPublicData(t *testing.T) {
	if os.Getenv("STARPOST_EVAL") == "" {
		t.Skip("set STARPOST_EVAL=1 to evaluate on ../shared/data (a few minutes)")
	}
	rep, err := Eval(context.Background(), dataDirForTest(), testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Sets {
		if s.Test == 0 || s.Accuracy < 0.5 {
			t.Errorf("%s: %d test examples, accuracy %.3f", s.Task, s.Test, s.Accuracy)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func BenchmarkAnalyze(b *testing.B) {
	a, err := LoadEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	msgs := []string{"你们客服都是废物！", "谢谢，问题解决了", "我的快递到底什么时候到？？？已经等了一个星期了", "I have been waiting for two hours, this is ridiculous"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Analyze(msgs[i%len(msgs)])
	}
}

func BenchmarkLoadEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadEmbedded(); err != nil {
			b.Fatal(err)
		}
	}
}
