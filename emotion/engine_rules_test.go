package emotion_test

import (
	"strings"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/emotion"
)

// TestEngineHandle calls the engine directly on conversations stored in
// the real store and checks what it would write after each message.
func TestEngineHandle(t *testing.T) {
	a, err := emotion.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		role starpost.ParticipantRole
		text string
		want string // output kinds, coaching and alert with their reason
	}
	c, ag := starpost.RoleCustomer, starpost.RoleAgentParticipant
	tests := []struct {
		name  string
		steps []step
	}{
		{"calm zh", []step{{c, "你好，请问我的订单什么时候发货？", "emotion"}}},
		{"agent messages are not scored", []step{{ag, "您好，这边帮您查询", ""}}},
		{"escalating en", []step{
			{c, "Where is my refund? I've been waiting for a week.", "emotion"},
			{c, "This is ridiculous, I'm furious!!!", "emotion coaching:escalating"},
		}},
		{"abuse zh, then warn and end", []step{
			{c, "垃圾客服，你们都是废物！！！", "emotion coaching:abuse alert:abuse"},
			{ag, "非常抱歉给您带来不便", ""},
			{c, "傻逼客服，废物", "emotion coaching:abuse alert:abuse_warned message"},
			{c, "你们就是一群废物", "emotion coaching:abuse alert:abuse"},
			{c, "Fuck you, idiots!!!", "emotion coaching:abuse alert:abuse_ended message state"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			h, err := emotion.NewEngine(a, w.db, emotion.EngineConfig{})
			if err != nil {
				t.Fatal(err)
			}
			conv := w.conversation()
			for i, s := range tt.steps {
				id := "ct_1"
				if s.role == ag {
					id = w.agent.ID
				}
				ev := w.say(conv, s.role, id, s.text)
				out, err := h.Handle(w.ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, o := range out {
					k := string(o.Kind)
					var r struct{ Reason string }
					if o.Kind == emotion.KindCoaching || o.Kind == emotion.KindAlert {
						if err := o.DecodeBody(&r); err != nil {
							t.Fatal(err)
						}
						k += ":" + r.Reason
					}
					got = append(got, k)
				}
				if g := strings.Join(got, " "); g != s.want {
					t.Fatalf("step %d %q: got %q, want %q", i, s.text, g, s.want)
				}
			}
		})
	}
}

func TestCoachNamesTheIssue(t *testing.T) {
	tests := []struct {
		reason, issue string
		zh, en        string // substrings of the apology
	}{
		{"escalating", "refund", "退款", "the refund"},
		{"abuse", "delivery", "发货", "the delivery delay"},
		{"escalating", "发票开错了", "发票开错了", "发票开错了"},
		{"abuse", "", "不便", "the trouble"},
	}
	for _, tt := range tests {
		b := emotion.Coach(tt.reason, tt.issue, 7, "ag_1")
		if !strings.Contains(b.ZH.Apologise, tt.zh) || !strings.Contains(b.EN.Apologise, tt.en) {
			t.Errorf("%s/%s: %q / %q", tt.reason, tt.issue, b.ZH.Apologise, b.EN.Apologise)
		}
		if b.MessageSeq != 7 || b.AgentID != "ag_1" || b.ZH.Avoid == "" || b.EN.NextStep == "" || b.ZH.Acknowledge == "" {
			t.Errorf("%s/%s: incomplete %+v", tt.reason, tt.issue, b)
		}
	}
}

func TestMask(t *testing.T) {
	a, err := emotion.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"你们都是废物", "你们都是**"},
		{"thanks a lot", "thanks a lot"},
	}
	for _, tt := range tests {
		if got := emotion.Mask(tt.in, a.Analyze(tt.in).Cues); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
