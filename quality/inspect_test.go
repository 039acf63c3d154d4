package quality_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
)

var t0 = time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)

// script builds a synthetic conversation: each step is an event at an
// offset from t0, with seq 1, 2, 3 ...
type script struct{ evs []*starpost.Event }

func (s *script) add(d time.Duration, k starpost.EventKind, a starpost.Actor, body any) *script {
	e := &starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Seq: int64(len(s.evs) + 1), Cursor: int64(len(s.evs) + 1),
		Kind: k, Actor: a, At: t0.Add(d)}
	if body != nil {
		e.Body = starpost.MustBody(body)
	}
	s.evs = append(s.evs, e)
	return s
}

var (
	cust  = starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	ada   = starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "ag_ada"}
	boss  = starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: "us_boss"}
	emoAc = starpost.Actor{Role: starpost.RoleSystem, ID: "emotion"}
)

func open(d time.Duration) *script {
	s := &script{}
	s.add(0, starpost.KindCreated, cust, starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: "qu_1"})
	return s.add(d, starpost.KindAssigned, starpost.System, starpost.AssignedBody{AgentID: "ag_ada", By: "router"})
}
func (s *script) c(d time.Duration, text string) *script {
	return s.add(d, starpost.KindMessage, cust, starpost.MessageBody{Text: text})
}
func (s *script) a(d time.Duration, text string) *script {
	return s.add(d, starpost.KindMessage, ada, starpost.MessageBody{Text: text})
}
func (s *script) resolve(d time.Duration, by starpost.Actor) *script {
	return s.add(d, starpost.KindState, by, starpost.StateBody{State: starpost.StateResolved})
}
func (s *script) emotion(d time.Duration, msgSeq int64, anger float64) *script {
	return s.add(d, "emotion", emoAc, map[string]any{"message_seq": msgSeq, "anger": anger, "abusive": anger > 0.9})
}

// brief renders findings as "rule:pass|fail@seq".
func brief(fs []quality.Finding) []string {
	var out []string
	for _, f := range fs {
		v := "fail"
		if f.Pass {
			v = "pass"
		}
		out = append(out, fmt.Sprintf("%s:%s@%d", f.Rule, v, f.MessageSeq))
	}
	return out
}

func TestInspect(t *testing.T) {
	s, m := time.Second, time.Minute
	tests := []struct {
		name  string
		evs   []*starpost.Event
		want  []string
		score int
	}{
		{"good zh", open(5*s).c(10*s, "你好，我的订单还没发货").a(30*s, "您好，很高兴为您服务，我帮您查一下").
			c(60*s, "好的").a(90*s, "已经发货了，请问还有其他问题吗？").resolve(100*s, ada).evs,
			[]string{"first_response:pass@3", "greeting:pass@4", "closing:pass@6", "resolution:pass@6"}, 100},
		{"good en", open(5*s).c(10*s, "Hi, where is my parcel?").a(40*s, "Hello! Let me check that for you.").
			c(60*s, "ok").a(80*s, "It arrives tomorrow. Anything else I can help with?").resolve(2*m, ada).evs,
			[]string{"first_response:pass@3", "greeting:pass@4", "closing:pass@6", "resolution:pass@6"}, 100},
		{"slow first response", open(5*s).c(10*s, "在吗").a(100*s, "您好，在的").a(110*s, "祝您生活愉快").resolve(2*m, ada).evs,
			[]string{"first_response:fail@3", "greeting:pass@4", "closing:pass@5", "resolution:fail@5"}, 79},
		{"slow reply", open(5*s).c(10*s, "hello?").a(20*s, "Hi, how can I help?").c(30*s, "my refund").
			a(30*s+3*m, "Done. Have a nice day").resolve(4*m, ada).evs,
			[]string{"first_response:pass@3", "slow_reply:fail@5", "greeting:pass@4", "closing:pass@6", "resolution:fail@6"}, 79},
		{"agent silent five minutes", open(5*s).c(10*s, "你好").a(20*s, "您好").c(30*s, "我的快递丢了").
			a(30*s+6*m, "抱歉久等，已为您补发，祝您愉快").resolve(7*m, ada).evs,
			[]string{"first_response:pass@3", "ignored_customer:fail@5", "greeting:pass@4", "closing:pass@6", "resolution:fail@6"}, 0},
		{"never answered", open(5*s).c(10*s, "有人吗").c(20*s, "???").resolve(10*m, ada).evs,
			[]string{"ignored_customer:fail@3", "first_response:fail@3"}, 0},
		{"agent disconnected", open(5*s).c(10*s, "hello").a(15*s, "Hello, one moment").c(20*s, "still there?").
			add(2*m, starpost.KindUnassigned, starpost.System, starpost.UnassignedBody{AgentID: "ag_ada", Reason: "disconnected"}).
			resolve(3*m, boss).evs,
			[]string{"first_response:pass@3", "agent_vanished:fail@6", "ignored_customer:fail@5", "greeting:pass@4", "closing:fail@4", "resolution:fail@4"}, 0},
		{"agent went silent, supervisor resolved", open(5*s).c(10*s, "hello").a(15*s, "Hello, one moment").c(20*s, "any news?").
			resolve(12*m, boss).evs,
			[]string{"first_response:pass@3", "ignored_customer:fail@5", "agent_vanished:fail@4", "greeting:pass@4", "closing:fail@4", "resolution:fail@4"}, 0},
		{"forbidden phrases", open(5*s).c(10*s, "怎么还没到").a(20*s, "您好，这个不归我管").a(25*s, "Calm down, it's your own fault, thanks for waiting").
			resolve(1*m, ada).evs,
			[]string{"first_response:pass@3", "greeting:pass@4", "closing:pass@5", "forbidden_phrase:fail@4",
				"forbidden_phrase:fail@5", "forbidden_phrase:fail@5", "resolution:fail@5"}, 0},
		{"forbidden regex", open(5*s).c(10*s, "hi").a(20*s, "Hi. That was a STUPID question. Bye").resolve(1*m, ada).evs,
			[]string{"first_response:pass@3", "greeting:pass@4", "closing:pass@4", "forbidden_phrase:fail@4", "resolution:fail@4"}, 0},
		{"no greeting or closing", open(5*s).c(10*s, "订单号123").a(20*s, "查到了，明天到").resolve(1*m, ada).evs,
			[]string{"first_response:pass@3", "greeting:fail@4", "closing:fail@4", "resolution:fail@4"}, 84},
		{"angry customer, no empathy", open(5*s).c(10*s, "你们太差了，气死我了！！！").emotion(11*s, 3, 0.8).
			a(20*s, "您好，请提供订单号").a(30*s, "好的，祝您愉快").resolve(1*m, ada).evs,
			[]string{"first_response:pass@3", "greeting:pass@5", "closing:pass@6", "empathy:fail@3", "resolution:fail@6"}, 86},
		{"angry customer, empathy shown", open(5*s).c(10*s, "This is ridiculous!!!").emotion(11*s, 3, 0.95).
			a(20*s, "Hello, I'm so sorry about this.").a(30*s, "Fixed. Anything else?").resolve(1*m, ada).evs,
			[]string{"first_response:pass@3", "greeting:pass@5", "closing:pass@6", "empathy:pass@3", "resolution:pass@6"}, 100},
		{"calm customer, no empathy needed", open(5*s).c(10*s, "你好").emotion(11*s, 3, 0.1).
			a(20*s, "您好").a(30*s, "再见").resolve(1*m, ada).evs,
			[]string{"first_response:pass@3", "greeting:pass@5", "closing:pass@6", "resolution:fail@6"}, 95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := quality.Inspect(tt.evs, quality.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(rep.Findings); !slices.Equal(got, tt.want) {
				t.Errorf("findings\n got %v\nwant %v", got, tt.want)
			}
			if rep.Score != tt.score {
				t.Errorf("score %d, want %d (failed %v)", rep.Score, tt.score, rep.Failed)
			}
		})
	}
}

func TestEnding(t *testing.T) {
	s, m := time.Second, time.Minute
	closed := starpost.StateBody{State: starpost.StateClosed}
	sys := starpost.Actor{Role: starpost.RoleSystem, ID: "emotion"}
	tests := []struct {
		name string
		evs  []*starpost.Event
		want int64 // seq of the ending, 0 for none
	}{
		{"open", open(s).c(2*s, "hi").evs, 0},
		{"resolved", open(s).c(2*s, "hi").resolve(m, ada).evs, 4},
		{"resolved then closed", open(s).c(2*s, "hi").resolve(m, ada).add(2*m, starpost.KindState, starpost.System, closed).evs, 4},
		{"closed by the abuse policy", open(s).c(2*s, "废物").add(3*s, starpost.KindState, sys, closed).evs, 4},
		{"reopened and resolved again", open(s).c(2*s, "hi").resolve(m, ada).c(2*m, "one more thing").
			add(2*m, starpost.KindAssigned, starpost.System, starpost.AssignedBody{AgentID: "ag_ada", By: "router"}).
			a(3*m, "yes?").resolve(4*m, ada).evs, 8},
		{"reopened, still open: the last ending", open(s).c(2*s, "hi").resolve(m, ada).c(2*m, "one more thing").evs, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int64
			if e := quality.Ending(tt.evs); e != nil {
				got = e.Seq
			}
			if got != tt.want {
				t.Fatalf("ending at %d, want %d", got, tt.want)
			}
		})
	}
}
