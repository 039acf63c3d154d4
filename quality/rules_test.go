package quality_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
)

func (s *script) csat(d time.Duration, score int, comment string) *script {
	return s.add(d, "csat", cust, map[string]any{"score": score, "comment": comment})
}

// only keeps the findings of some rules.
func only(fs []quality.Finding, rules ...string) []quality.Finding {
	var out []quality.Finding
	for _, f := range fs {
		if slices.Contains(rules, f.Rule) {
			out = append(out, f)
		}
	}
	return out
}

func TestInspectNewRules(t *testing.T) {
	s, m := time.Second, time.Minute
	withDisclosure := func(c *quality.Config) {
		c.Disclosures = []quality.Disclosure{{Name: "recording notice", Phrases: []string{"录音", "recorded"}}}
	}
	tests := []struct {
		name  string
		evs   []*starpost.Event
		edit  func(*quality.Config)
		rules []string
		want  []string
	}{
		{"zh answer on topic", open(5*s).c(10*s, "我的退款什么时候到账？").a(20*s, "您好，退款会在三个工作日内到账").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, nil},
		{"zh answer beside the question", open(5*s).c(10*s, "我的退款什么时候到账？").a(20*s, "您好，我们新推出了会员积分活动").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, []string{"off_topic:fail@3"}},
		{"en answer on topic", open(5*s).c(10*s, "When will my refund arrive on my card?").a(20*s, "Your refund reaches the card within three days").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, nil},
		{"en answer beside the question", open(5*s).c(10*s, "When will my refund arrive on my card?").a(20*s, "Our new loyalty programme gives you points").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, []string{"off_topic:fail@3"}},
		{"a later reply addresses it", open(5*s).c(10*s, "When will my refund arrive on my card?").a(20*s, "Let me look").
			a(30*s, "The refund reaches your card on Friday").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, nil},
		{"holding reply, ok, then the answer", open(5*s).c(10*s, "When will my refund arrive on my card?").a(20*s, "Let me check that for you").
			c(25*s, "ok").a(40*s, "The refund reaches your card on Friday").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, nil},
		{"holding reply, then another question", open(5*s).c(10*s, "When will my refund arrive on my card?").a(20*s, "Let me check that for you").
			c(25*s, "also, can I change my delivery address?").a(40*s, "The refund reaches your card on Friday").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, []string{"off_topic:fail@3", "off_topic:fail@5"}}, // and the address question got the refund answer
		{"short question not judged", open(5*s).c(10*s, "在吗？").a(20*s, "您好").resolve(m, ada).evs,
			nil, []string{quality.RuleOffTopic}, nil},
		{"rule off", open(5*s).c(10*s, "When will my refund arrive on my card?").a(20*s, "Our new loyalty programme gives you points").resolve(m, ada).evs,
			func(c *quality.Config) { c.OffTopicBelow = 0 }, []string{quality.RuleOffTopic}, nil},
		{"disclosure said", open(5*s).c(10*s, "你好").a(20*s, "您好，本次通话将被录音").resolve(m, ada).evs,
			withDisclosure, []string{quality.RuleDisclosure}, []string{"disclosure:pass@4"}},
		{"disclosure missing", open(5*s).c(10*s, "hello").a(20*s, "Hello!").a(30*s, "Bye").resolve(m, ada).evs,
			withDisclosure, []string{quality.RuleDisclosure}, []string{"disclosure:fail@5"}},
		{"no disclosure configured", open(5*s).c(10*s, "hello").a(20*s, "Hello!").resolve(m, ada).evs,
			nil, []string{quality.RuleDisclosure}, nil},
		{"customer confirms zh", open(5*s).c(10*s, "快递丢了").a(20*s, "已为您补发").c(30*s, "好的，谢谢").resolve(m, ada).evs,
			nil, []string{quality.RuleResolution}, []string{"resolution:pass@5"}},
		{"agent checks en", open(5*s).c(10*s, "card blocked").a(20*s, "Unblocked it. Did that solve it?").resolve(m, ada).evs,
			nil, []string{quality.RuleResolution}, []string{"resolution:pass@4"}},
		{"customer denies after the check", open(5*s).c(10*s, "card blocked").a(20*s, "Unblocked it. Did that solve it?").
			c(30*s, "No, it still does not work").resolve(m, ada).evs,
			nil, []string{quality.RuleResolution}, []string{"resolution:fail@5"}},
		{"never confirmed", open(5*s).c(10*s, "卡被冻结了").a(20*s, "已处理").resolve(m, ada).evs,
			nil, []string{quality.RuleResolution}, []string{"resolution:fail@4"}},
		{"a last thank-you needs no reply", open(5*s).c(10*s, "卡被冻结了").a(20*s, "已解冻").c(30*s, "好的，谢谢").resolve(10*m, ada).evs,
			nil, []string{quality.RuleIgnoredCustomer}, nil},
		{"thanks, then a question left unanswered", open(5*s).c(10*s, "card blocked").a(20*s, "Unblocked").c(30*s, "thanks").
			c(40*s, "and my pin?").resolve(10*m, ada).evs,
			nil, []string{quality.RuleIgnoredCustomer}, []string{"ignored_customer:fail@5"}},
		{"thanks before any reply is still a wait", open(5*s).c(10*s, "谢谢").resolve(10*m, ada).evs,
			nil, []string{quality.RuleIgnoredCustomer}, []string{"ignored_customer:fail@3"}},
		{"csat good after resolution", open(5*s).c(10*s, "hi").a(20*s, "Hello").resolve(m, ada).csat(2*m, 5, "great").evs,
			nil, []string{quality.RuleCSAT}, []string{"csat:pass@6"}},
		{"csat low, latest wins", open(5*s).c(10*s, "hi").a(20*s, "Hello").resolve(m, ada).csat(2*m, 5, "").csat(3*m, 2, "slow").evs,
			nil, []string{quality.RuleCSAT}, []string{"csat:fail@7"}},
		{"csat out of range ignored", open(5*s).c(10*s, "hi").a(20*s, "Hello").resolve(m, ada).csat(2*m, 9, "").evs,
			nil, []string{quality.RuleCSAT}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quality.DefaultConfig()
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			rep, err := quality.Inspect(tt.evs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(only(rep.Findings, tt.rules...)); !slices.Equal(got, tt.want) {
				t.Errorf("findings\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestInspectWaitsAndBreaches(t *testing.T) {
	s, m := time.Second, time.Minute
	evs := open(5*s).c(10*s, "你好").a(90*s, "您好").c(100*s, "订单呢").a(100*s+3*m, "查到了").
		c(5*m, "还在吗").resolve(11*m, ada).evs
	rep, err := quality.Inspect(evs, quality.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	wantWaits := []quality.Wait{
		{MessageSeq: 3, ReplySeq: 4, From: t0.Add(10 * s), Seconds: 80, Breach: true},
		{MessageSeq: 5, ReplySeq: 6, From: t0.Add(100 * s), Seconds: 180, Breach: true},
		{MessageSeq: 7, From: t0.Add(5 * m), Seconds: 360, Breach: true},
	}
	if !slices.Equal(rep.Waits, wantWaits) {
		t.Errorf("waits\n got %+v\nwant %+v", rep.Waits, wantWaits)
	}
	if rep.FirstResponseSeconds == nil || *rep.FirstResponseSeconds != 80 {
		t.Errorf("first response %v, want 80", rep.FirstResponseSeconds)
	}
	breach := map[string]time.Time{}
	for _, f := range rep.Findings {
		if !f.BreachAt.IsZero() {
			breach[f.Rule] = f.BreachAt
		}
	}
	want := map[string]time.Time{
		quality.RuleFirstResponse:   t0.Add(10*s + time.Minute), // SLA 60 s after the first message
		quality.RuleSlowReply:       t0.Add(100*s + 2*m),        // 2 min after the second
		quality.RuleIgnoredCustomer: t0.Add(5*m + 5*m),          // 5 min after the unanswered one
	}
	for rule, at := range want {
		if !breach[rule].Equal(at) {
			t.Errorf("%s breached at %v, want %v", rule, breach[rule], at)
		}
	}
}

func TestScorecardWeightsAndAutoFail(t *testing.T) {
	s, m := time.Second, time.Minute
	evs := open(5*s).c(10*s, "hi").a(20*s, "Hello").resolve(m, ada).csat(2*m, 1, "").evs
	tests := []struct {
		name       string
		card       []quality.ScoreItem
		score      int
		autoFailed bool
	}{
		// greeting passes (3), closing fails (1), csat fails (1): 3/5.
		{"weights", []quality.ScoreItem{{Rule: quality.RuleGreeting, Weight: 3}, {Rule: quality.RuleClosing, Weight: 1}, {Rule: quality.RuleCSAT, Weight: 1}}, 60, false},
		{"auto-fail on csat", []quality.ScoreItem{{Rule: quality.RuleGreeting, Weight: 3}, {Rule: quality.RuleCSAT, Weight: 1, AutoFail: true}}, 0, true},
		// empathy is not applicable (no angry customer): only greeting counts.
		{"not applicable left out", []quality.ScoreItem{{Rule: quality.RuleGreeting, Weight: 1}, {Rule: quality.RuleEmpathy, Weight: 9}}, 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quality.DefaultConfig()
			cfg.Scorecard = tt.card
			rep, err := quality.Inspect(evs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Score != tt.score || rep.AutoFailed != tt.autoFailed {
				t.Errorf("score %d auto-failed %v, want %d %v", rep.Score, rep.AutoFailed, tt.score, tt.autoFailed)
			}
		})
	}
}

func TestLexicalRelevance(t *testing.T) {
	tests := []struct {
		a, b     string
		min, max float64
	}{
		{"退款什么时候到账", "退款三天内到账", 0.3, 1},
		{"退款什么时候到账", "会员积分活动", 0, 0.01},
		{"refund to my card", "the refunds reach your card", 0.5, 1},
		{"refund to my card", "loyalty points", 0, 0.01},
		{"", "anything", 0, 0},
		{"same text", "same text", 0.999, 1.001},
	}
	for _, tt := range tests {
		if got := quality.LexicalRelevance(tt.a, tt.b); got < tt.min || got > tt.max {
			t.Errorf("LexicalRelevance(%q, %q) = %.3f, want in [%v, %v]", tt.a, tt.b, got, tt.min, tt.max)
		}
	}
}

func TestRetrievalRelevance(t *testing.T) {
	s, m := time.Second, time.Minute
	// A toy knowledge base: each entry is found by its words.
	kb := map[string][]string{"faq_reset": {"password", "forgot", "sign-in", "密码"}, "faq_refund": {"refund", "退款"}}
	search := func(_ context.Context, ws, q string, k int) ([]string, error) {
		if ws != "ws_1" {
			return nil, errors.New("wrong workspace")
		}
		var ids []string
		for _, id := range []string{"faq_reset", "faq_refund"} {
			for _, w := range kb[id] {
				if strings.Contains(strings.ToLower(q), w) {
					ids = append(ids, id)
					break
				}
			}
		}
		return ids[:min(k, len(ids))], nil
	}
	failing := func(context.Context, string, string, int) ([]string, error) { return nil, errors.New("down") }
	evs := open(5*s).c(10*s, "How do I change my account password please?").a(20*s, "Click Forgot on the sign-in page").resolve(m, ada).evs
	tests := []struct {
		name string
		rel  quality.RelevanceFunc
		want []string
	}{
		{"words only: no shared word", nil, []string{"off_topic:fail@3"}},
		{"the same FAQ on both sides", quality.RetrievalRelevance(context.Background(), "ws_1", search, 3), nil},
		{"search down: words only", quality.RetrievalRelevance(context.Background(), "ws_1", failing, 3), []string{"off_topic:fail@3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quality.DefaultConfig()
			cfg.Relevance = tt.rel
			rep, err := quality.Inspect(evs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(only(rep.Findings, quality.RuleOffTopic)); !slices.Equal(got, tt.want) {
				t.Errorf("findings %v, want %v", got, tt.want)
			}
		})
	}
	// An answer about another entry stays off topic.
	other := open(5*s).c(10*s, "How do I change my account password please?").a(20*s, "Your refund was issued today").resolve(m, ada).evs
	cfg := quality.DefaultConfig()
	cfg.Relevance = quality.RetrievalRelevance(context.Background(), "ws_1", search, 3)
	rep, err := quality.Inspect(other, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := brief(only(rep.Findings, quality.RuleOffTopic)); !slices.Equal(got, []string{"off_topic:fail@3"}) {
		t.Errorf("refund answer to a password question: %v", got)
	}
}
