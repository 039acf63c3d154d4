package bot

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecide feeds arbitrary customer text through the model and the
// policy: no panic, a known action, a clarification always offers two
// intents, and the rule readers (person, negative, greeting, ordinal)
// accept anything.
func FuzzDecide(f *testing.F) {
	m := trainTest(f)
	for _, s := range []string{"", "转人工", "1", "第二个", "no, that didn't help", "你好", "\xff\xfe", "退款多久到账", "card", "агент"} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, failed int) {
		p := m.Predict(s)
		if p.Confidence < 0 || p.Confidence > 1+1e-9 || p.Similarity < -1e-9 || p.Similarity > 1+1e-6 {
			t.Fatalf("%q: prediction %+v", s, p)
		}
		mem := Memory{LastAction: ActClarify, Options: []string{"refund", "delivery"}, FailedTurns: failed % 5}
		for _, in := range []Input{{Text: s, Pred: &p, MaxFailedTurns: 2}, {Text: s, Pred: &p, Mem: mem, MaxFailedTurns: 3}, {Text: s, MaxFailedTurns: 1}} {
			turn := Policy{}.Decide(in)
			switch turn.Action {
			case ActAnswer, ActRephrase, ActGreet, ActHandoff:
			case ActClarify:
				if len(turn.Options) != 2 || turn.Options[0] == turn.Options[1] {
					t.Fatalf("%q: clarification %+v", s, turn)
				}
			default:
				t.Fatalf("%q: action %q", s, turn.Action)
			}
			if turn.Action == ActHandoff && turn.Reason == "" {
				t.Fatalf("%q: handoff without a reason", s)
			}
		}
		_ = IsChinese(s)
		if utf8.ValidString(s) {
			_ = cutRunes(s, 5)
		}
	})
}
