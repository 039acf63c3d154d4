package quality_test

import (
	"fmt"
	"log"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
)

// Inspect a conversation where the agent left the customer waiting six
// minutes before resolving it.
func Example() {
	at := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	agent := starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "ag_1"}
	var evs []*starpost.Event
	add := func(sec int, k starpost.EventKind, who starpost.Actor, body any) {
		evs = append(evs, &starpost.Event{ConversationID: "cv_1", Seq: int64(len(evs) + 1), Kind: k, Actor: who,
			At: at.Add(time.Duration(sec) * time.Second), Body: starpost.MustBody(body)})
	}
	add(0, starpost.KindCreated, cust, starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: "qu_1"})
	add(5, starpost.KindAssigned, starpost.System, starpost.AssignedBody{AgentID: "ag_1", By: "router"})
	add(10, starpost.KindMessage, cust, starpost.MessageBody{Text: "Hi, my parcel hasn't arrived"})
	add(30, starpost.KindMessage, agent, starpost.MessageBody{Text: "Hello! Let me check."})
	add(40, starpost.KindMessage, cust, starpost.MessageBody{Text: "Any news?"})
	add(400, starpost.KindMessage, agent, starpost.MessageBody{Text: "It ships today. Anything else?"})
	add(420, starpost.KindState, agent, starpost.StateBody{State: starpost.StateResolved})

	rep, err := quality.Inspect(evs, quality.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range rep.Findings {
		fmt.Printf("%s pass=%v message=%d wait=%.0fs\n", f.Rule, f.Pass, f.MessageSeq, f.WaitSeconds)
	}
	fmt.Println("score", rep.Score, "auto-failed", rep.AutoFailed)
	// Output:
	// first_response pass=true message=3 wait=20s
	// ignored_customer pass=false message=5 wait=360s
	// greeting pass=true message=4 wait=0s
	// closing pass=true message=6 wait=0s
	// resolution pass=true message=6 wait=0s
	// score 0 auto-failed true
}

// Agreement between the automatic greeting check and a reviewer over ten
// conversations: they agree on eight.
func ExampleCohenKappa() {
	auto := []string{"pass", "pass", "pass", "pass", "pass", "pass", "fail", "fail", "fail", "pass"}
	human := []string{"pass", "pass", "pass", "pass", "pass", "pass", "fail", "fail", "pass", "fail"}
	k := quality.CohenKappa(auto, human)
	fmt.Printf("n=%d observed=%.2f expected=%.2f kappa=%.3f\n", k.N, k.Observed, k.Expected, *k.Value)
	// Output:
	// n=10 observed=0.80 expected=0.58 kappa=0.524
}

// A reviewer's overrides change a scorecard's final score: Score computes
// it from the item results.
func ExampleScore() {
	items := []quality.ItemResult{
		{Rule: quality.RuleFirstResponse, Weight: 15, Applicable: true, Passed: true},
		{Rule: quality.RuleIgnoredCustomer, Weight: 20, AutoFail: true, Applicable: true, Passed: false},
		{Rule: quality.RuleGreeting, Weight: 5, Applicable: true, Passed: true},
		{Rule: quality.RuleEmpathy, Weight: 10, Applicable: false},
	}
	score, autoFailed, failed := quality.Score(items)
	fmt.Println(score, autoFailed, failed)
	items[1].Passed = true // the reviewer's override
	score, autoFailed, failed = quality.Score(items)
	fmt.Println(score, autoFailed, failed)
	items[2].Passed = false
	score, _, _ = quality.Score(items)
	fmt.Println(score)
	// Output:
	// 0 true [ignored_customer]
	// 100 false []
	// 88
}

// How well a reply addresses a question, by the words they share.
func ExampleLexicalRelevance() {
	q := "我的退款什么时候到账？"
	for _, a := range []string{"退款会在三个工作日内到账", "我们新推出了会员积分活动"} {
		r := quality.LexicalRelevance(q, a)
		fmt.Printf("%.2f off-topic=%v\n", r, r < quality.DefaultConfig().OffTopicBelow)
	}
	// Output:
	// 0.29 off-topic=false
	// 0.05 off-topic=true
}
