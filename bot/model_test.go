package bot

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/starpost/starpost/text"
)

var (
	tokOnce sync.Once
	tokVal  *text.Tokenizer
	tokErr  error
)

// testTokenizer is shared by the package's tests (loading the segmenter
// dictionary takes about a second).
func testTokenizer(t testing.TB) *text.Tokenizer {
	t.Helper()
	tokOnce.Do(func() { tokVal, tokErr = text.NewTokenizer(TokenizerOptions()) })
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tokVal
}

// faqSet is a small bilingual knowledge base: id → question variants.
var faqSet = map[string][]string{
	"refund":    {"怎么退款", "我要退款", "退款多久到账", "申请退款流程", "钱什么时候退回来", "how do I get a refund", "I want my money back", "refund my order", "when will my refund arrive"},
	"delivery":  {"快递到哪了", "包裹什么时候到", "物流信息怎么查", "还没收到货", "订单发货了吗", "where is my package", "track my order", "my parcel has not arrived", "when will my order be delivered"},
	"password":  {"忘记密码怎么办", "怎么重置密码", "密码错误登录不了", "修改登录密码", "找回密码", "I forgot my password", "reset my password", "can't log in wrong password", "change my password"},
	"invoice":   {"怎么开发票", "发票在哪里下载", "需要增值税发票", "开具电子发票", "发票抬头写错了", "how do I get an invoice", "download my invoice", "I need a VAT invoice", "invoice has the wrong company name"},
	"card_lost": {"银行卡丢了", "卡丢失了怎么挂失", "卡被偷了", "挂失银行卡", "I lost my card", "my card was stolen", "freeze my lost card", "report a stolen card"},
	"card_new":  {"申请新卡", "补办银行卡", "新卡什么时候寄到", "换一张新卡", "order a new card", "replace my card", "when will my new card arrive", "I need a replacement card"},
}

func trainingData() ([]Example, map[string]Intent) {
	var ex []Example
	intents := map[string]Intent{}
	ids := make([]string, 0, len(faqSet))
	for id := range faqSet {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		intents[id] = Intent{ID: id, Title: faqSet[id][0]}
		for _, q := range faqSet[id] {
			ex = append(ex, Example{Text: q, Intent: id})
		}
	}
	return ex, intents
}

func trainTest(t testing.TB) *Model {
	t.Helper()
	ex, intents := trainingData()
	m, err := Train(context.Background(), testTokenizer(t), ex, intents, TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClassifierZhEn(t *testing.T) {
	m := trainTest(t)
	for _, c := range []struct{ text, want string }{
		{"退款一般几天能到账？", "refund"},
		{"我的快递怎么还没到", "delivery"},
		{"密码忘了登录不上去", "password"},
		{"请帮我开一张发票", "invoice"},
		{"How long does a refund take?", "refund"},
		{"Where is my parcel? It hasn't arrived", "delivery"},
		{"I can't remember my password", "password"},
		{"Somebody stole my card", "card_lost"},
	} {
		p := m.Predict(c.text)
		if p.Intent != c.want {
			t.Errorf("%q: intent %s (%.2f), want %s; ranked %v", c.text, p.Intent, p.Confidence, c.want, p.Ranked[:3])
			continue
		}
		if p.OutOfScope {
			t.Errorf("%q: out of scope (similarity %.3f < %.3f)", c.text, p.Similarity, m.Metrics.MinSimilarity)
		}
	}
	if m.Metrics.Folds != 3 || m.Metrics.Temperature <= 0 || m.Metrics.Intents != len(faqSet) {
		t.Fatalf("metrics %+v", m.Metrics)
	}
}

func TestOutOfScopeNonsense(t *testing.T) {
	m := trainTest(t)
	answerAt := (Policy{}).withDefaults().AnswerAt
	for _, c := range []struct {
		text string
		oos  bool // must be flagged out of scope, not only unsure
	}{
		{"asdkjh qwpoeiru zxmcnb", true},
		{"¥¥¥ ### ???", true},
		{"qqqqqqqq", true},
		{"今天天气怎么样", true},
		{"what's the capital of Mongolia", false},
	} {
		p := m.Predict(c.text)
		if c.oos && !p.OutOfScope {
			t.Errorf("%q: in scope: similarity %.3f >= %.3f (intent %s %.3f)", c.text, p.Similarity, m.Metrics.MinSimilarity, p.Intent, p.Confidence)
		}
		if !p.OutOfScope && p.Confidence >= answerAt {
			t.Errorf("%q: the bot would answer %s (confidence %.3f, similarity %.3f)", c.text, p.Intent, p.Confidence, p.Similarity)
		}
	}
}

// TestCalibrationMonotonic checks that temperature scaling keeps the order
// of the classes and of confidences, and that over held-out data its
// confidence follows accuracy better than the raw softmax (lower ECE).
func TestCalibrationMonotonic(t *testing.T) {
	scores := []float64{0.9, -0.2, -0.7, 0.1}
	prev := -1.0
	for _, tmp := range []float64{2, 1, 0.5, 0.2, 0.1, 0.05} {
		p := text.Softmax(scores, tmp)
		if argmax(p) != 0 {
			t.Fatalf("T=%g changed the best class: %v", tmp, p)
		}
		for i := 1; i < len(p); i++ {
			if (scores[i] < scores[0]) != (p[i] < p[0]) {
				t.Fatalf("T=%g reordered classes: %v", tmp, p)
			}
		}
		if p[0] <= prev {
			t.Fatalf("confidence not increasing as T falls: %g then %g", prev, p[0])
		}
		prev = p[0]
	}
	m := trainTest(t)
	if m.Metrics.ECECalibrated > m.Metrics.ECERaw {
		t.Fatalf("calibration made held-out ECE worse: raw %.3f calibrated %.3f (T %.3f)", m.Metrics.ECERaw, m.Metrics.ECECalibrated, m.Metrics.Temperature)
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := trainTest(t)
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadModel(data, testTokenizer(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"退款多久到账", "track my order", "asdkjh"} {
		a, b := m.Predict(s), back.Predict(s)
		if a.Intent != b.Intent || a.Confidence != b.Confidence || a.Similarity != b.Similarity || a.OutOfScope != b.OutOfScope {
			t.Fatalf("%q: %+v before, %+v after", s, a, b)
		}
	}
	if _, err := LoadModel(data[:len(data)/2], testTokenizer(t)); err == nil {
		t.Fatal("a truncated model loaded")
	}
}

func TestTooFewIntents(t *testing.T) {
	_, err := Train(context.Background(), testTokenizer(t), []Example{{Text: "a", Intent: "x"}, {Text: "b", Intent: "x"}}, nil, TrainOptions{})
	if err != ErrTooFewIntents {
		t.Fatalf("err %v", err)
	}
}
