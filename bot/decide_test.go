package bot

import (
	"testing"

	"github.com/starpost/starpost/text"
)

// pred builds a prediction over intents a, b, c with the given
// probabilities (best first).
func pred(oos bool, probs ...float64) *Prediction {
	labels := []string{"a", "b", "c"}
	p := &Prediction{OutOfScope: oos}
	for i, x := range probs {
		p.Ranked = append(p.Ranked, text.LabelScore{Label: labels[i], Prob: x})
	}
	p.Intent, p.Confidence = labels[0], probs[0]
	if len(probs) > 1 {
		p.Second, p.SecondConfidence = labels[1], probs[1]
	}
	return p
}

func TestDecide(t *testing.T) {
	clarifying := Memory{LastAction: ActClarify, Options: []string{"a", "b"}}
	for _, c := range []struct {
		name   string
		in     Input
		action Action
		reason Reason
		intent string
		failed int
	}{
		{"confident answer", Input{Text: "how do I get a refund", Pred: pred(false, 0.9, 0.05, 0.05)}, ActAnswer, "", "a", 0},
		{"close top two: clarify", Input{Text: "card", Pred: pred(false, 0.5, 0.42, 0.08)}, ActClarify, "", "a", 0},
		{"close but too unsure together: rephrase", Input{Text: "x y", Pred: pred(false, 0.3, 0.16, 0.14)}, ActRephrase, "", "a", 1},
		{"clarified by ordinal 2", Input{Text: "2", Pred: pred(false, 0.4, 0.3, 0.3), Mem: clarifying}, ActAnswer, "", "b", 0},
		{"clarified by 第一个", Input{Text: "第一个", Pred: pred(false, 0.2, 0.5, 0.3), Mem: clarifying}, ActAnswer, "", "a", 0},
		{"clarified by words leaning to b", Input{Text: "the stolen one", Pred: &Prediction{Intent: "b", Confidence: 0.6, Second: "a", SecondConfidence: 0.2,
			Ranked: []text.LabelScore{{Label: "b", Prob: 0.6}, {Label: "a", Prob: 0.2}, {Label: "c", Prob: 0.2}}}, Mem: clarifying}, ActAnswer, "", "b", 0},
		{"clarification not understood: failed turn", Input{Text: "hmm", Pred: pred(false, 0.34, 0.33, 0.33), Mem: clarifying}, ActRephrase, "", "a", 1},
		{"neither option", Input{Text: "都不是", Pred: pred(false, 0.34, 0.33, 0.33), Mem: clarifying}, ActRephrase, "", "a", 1},
		{"no second clarification in a row", Input{Text: "card", Pred: pred(false, 0.5, 0.45, 0.05), Mem: Memory{LastAction: ActClarify}}, ActAnswer, "", "a", 0},
		{"asks for a person (zh)", Input{Text: "转人工", Pred: pred(false, 0.9, 0.05, 0.05)}, ActHandoff, ReasonRequested, "a", 0},
		{"asks for a person (人工客服)", Input{Text: "我要人工客服", Pred: pred(false, 0.9, 0.05, 0.05)}, ActHandoff, ReasonRequested, "a", 0},
		{"asks for an agent (en)", Input{Text: "Can I talk to an agent please", Pred: pred(false, 0.9, 0.05, 0.05)}, ActHandoff, ReasonRequested, "a", 0},
		{"asks for a human (en)", Input{Text: "HUMAN", Pred: nil}, ActHandoff, ReasonRequested, "", 0},
		{"asks for a real person", Input{Text: "I want a real person", Pred: pred(false, 0.9, 0.05, 0.05)}, ActHandoff, ReasonRequested, "a", 0},
		{"angry customer", Input{Text: "how do I get a refund", Pred: pred(false, 0.9, 0.05, 0.05), Angry: true}, ActHandoff, ReasonAngry, "a", 0},
		{"out of scope", Input{Text: "weather", Pred: pred(true, 0.9, 0.05, 0.05)}, ActHandoff, ReasonLowConfidence, "a", 0},
		{"very low confidence", Input{Text: "hmm", Pred: pred(false, 0.15, 0.1, 0.1)}, ActHandoff, ReasonLowConfidence, "a", 0},
		{"no model", Input{Text: "refund"}, ActHandoff, ReasonNoModel, "", 0},
		{"unsure: first failed turn", Input{Text: "hmm", Pred: pred(false, 0.4, 0.1, 0.1), MaxFailedTurns: 2}, ActRephrase, "", "a", 1},
		{"unsure again: failed turns reached", Input{Text: "hmm", Pred: pred(false, 0.4, 0.1, 0.1), Mem: Memory{LastAction: ActRephrase, FailedTurns: 1}, MaxFailedTurns: 2},
			ActHandoff, ReasonFailedTurns, "a", 2},
		{"not helpful after an answer", Input{Text: "no, that didn't help", Pred: pred(false, 0.9, 0.05, 0.05), Mem: Memory{LastAction: ActAnswer}, MaxFailedTurns: 3}, ActRephrase, "", "a", 1},
		{"没用 after an answer, limit 1", Input{Text: "没用", Pred: pred(false, 0.9, 0.05, 0.05), Mem: Memory{LastAction: ActAnswer}, MaxFailedTurns: 1}, ActHandoff, ReasonFailedTurns, "a", 1},
		{"greeting", Input{Text: "你好", Pred: pred(true, 0.7, 0.2, 0.1)}, ActGreet, "", "a", 0},
		{"hello", Input{Text: "Hello!", Pred: pred(false, 0.3, 0.2, 0.1)}, ActGreet, "", "a", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.in.MaxFailedTurns == 0 {
				c.in.MaxFailedTurns = 3
			}
			got := Policy{}.Decide(c.in)
			if got.Action != c.action || got.Reason != c.reason || got.Intent != c.intent || got.FailedTurns != c.failed {
				t.Fatalf("got %+v, want action %s reason %q intent %q failed %d", got, c.action, c.reason, c.intent, c.failed)
			}
			if got.Action == ActClarify && (len(got.Options) != 2 || got.Options[0] != "a" || got.Options[1] != "b") {
				t.Fatalf("options %v", got.Options)
			}
		})
	}
}

func TestWantsHumanNotFooledByWords(t *testing.T) {
	for _, s := range []string{"how do I change my personal details", "my card was stolen", "退款多久到账", "humane society donation receipt",
		"你们的人工智能客服能查物流吗", "安装的人工费怎么算", "my travel agent booked this order", "is there an agent fee for returns", "the invoice says human error"} {
		if WantsHuman(s) {
			t.Errorf("%q read as a request for a person", s)
		}
	}
}

// TestWantsHumanStillHears: a real request in the same message as a
// false friend is still a request.
func TestWantsHumanStillHears(t *testing.T) {
	for _, s := range []string{"转人工", "我要人工客服", "人工智能没用，转人工", "I want to talk to a human", "my travel agent said to ask a real person",
		"agent please", "Can I speak to someone?"} {
		if !WantsHuman(s) {
			t.Errorf("%q not read as a request for a person", s)
		}
	}
}

func TestIsChinese(t *testing.T) {
	for s, want := range map[string]bool{"退款多久到账": true, "how long": false, "我的 card 丢了": true, "OK 好": true, "": false} {
		if IsChinese(s) != want {
			t.Errorf("IsChinese(%q) != %v", s, want)
		}
	}
}
