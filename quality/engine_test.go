package quality_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/emotion"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/quality"
	"github.com/starpost/starpost/store"
)

// TestEngineThroughStoreAndBus runs the emotion and QA engines on the real
// store and bus: an abusive customer whom the agent leaves waiting six
// minutes without empathy. Two workspaces hold the same conversation; the
// second has a stricter first-response SLA (scorecards are per tenant).
func TestEngineThroughStoreAndBus(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "starpost.db"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	watch, err := b.Subscribe("")
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	waitFor := func(k starpost.EventKind, conv string) *starpost.Event {
		t.Helper()
		deadline := time.After(30 * time.Second) // a hang guard, not a measurement
		for {
			select {
			case e, ok := <-watch.Events():
				if !ok {
					t.Fatal("watch closed")
				}
				if e.Kind == k && e.ConversationID == conv {
					return e
				}
			case <-deadline:
				t.Fatalf("no %s on %s", k, conv)
			}
		}
	}
	appendEv := func(e *starpost.Event) *starpost.Event {
		t.Helper()
		evs, err := db.Append(ctx, e)
		if err != nil {
			t.Fatalf("append %s: %v", e.Kind, err)
		}
		if err := b.Publish(ctx, evs...); err != nil {
			t.Fatal(err)
		}
		return evs[0]
	}

	var wss []string
	strict := quality.DefaultConfig()
	strict.FirstResponse = 5 * time.Second
	perWS := map[string]quality.Config{}
	for i, name := range []string{"Relaxed", "Strict"} {
		ws := &starpost.Workspace{Name: name}
		if err := db.CreateWorkspace(ctx, ws); err != nil {
			t.Fatal(err)
		}
		wss = append(wss, ws.ID)
		if i == 1 {
			perWS[ws.ID] = strict
		}
	}

	a, err := emotion.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	em, err := emotion.NewEngine(a, db, emotion.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := quality.NewEngine(db, quality.DefaultConfig(), perWS)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []engine.Handler{em, qa} {
		r, err := engine.NewRunner(h, engine.Options{Store: db, Bus: b, SQL: db.SQL(), Driver: db.Driver()})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		defer func() { cancel(); <-done }()
	}

	t0 := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	for i, ws := range wss {
		q := &starpost.Queue{WorkspaceID: ws, Name: "Support", OfferTimeout: 60}
		if err := db.CreateQueue(ctx, q); err != nil {
			t.Fatal(err)
		}
		agent := &starpost.User{WorkspaceID: ws, Email: "ada" + string(rune('a'+i)) + "@acme.test", Name: "Ada", Role: starpost.RoleAgent}
		if err := db.CreateUser(ctx, agent, ""); err != nil {
			t.Fatal(err)
		}
		cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
		ada := starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent.ID}
		conv := appendEv(&starpost.Event{WorkspaceID: ws, Kind: starpost.KindCreated, Actor: cust, At: t0,
			Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: q.ID})}).ConversationID
		step := func(d time.Duration, k starpost.EventKind, who starpost.Actor, body any) *starpost.Event {
			return appendEv(&starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: k, Actor: who, At: t0.Add(d), Body: starpost.MustBody(body)})
		}
		step(5*time.Second, starpost.KindAssigned, starpost.System, starpost.AssignedBody{AgentID: agent.ID, By: "router"})
		step(10*time.Second, starpost.KindMessage, cust, starpost.MessageBody{Text: "你好，我的快递三天了还没到"})
		step(20*time.Second, starpost.KindMessage, ada, starpost.MessageBody{Text: "您好，请稍等"})
		angry := step(30*time.Second, starpost.KindMessage, cust, starpost.MessageBody{Text: "垃圾客服，你们都是废物！！！"})
		// The emotion engine has scored it (not only the first message).
		for {
			var eb emotion.EmotionBody
			if err := waitFor(emotion.KindEmotion, conv).DecodeBody(&eb); err != nil {
				t.Fatal(err)
			}
			if eb.MessageSeq == angry.Seq {
				break
			}
		}
		step(30*time.Second+6*time.Minute, starpost.KindMessage, ada, starpost.MessageBody{Text: "请提供订单号"})
		step(7*time.Minute, starpost.KindMessage, ada, starpost.MessageBody{Text: "已补发，祝您愉快"})
		step(8*time.Minute, starpost.KindState, ada, starpost.StateBody{State: starpost.StateResolved})

		var score quality.ScoreBody
		if err := waitFor(quality.KindScore, conv).DecodeBody(&score); err != nil {
			t.Fatal(err)
		}
		evs, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationID: conv, Kinds: []starpost.EventKind{quality.KindFinding}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]quality.FindingBody{}
		for _, e := range evs {
			var f quality.FindingBody
			if err := e.DecodeBody(&f); err != nil {
				t.Fatal(err)
			}
			if e.Actor != engine.Actor(quality.EngineName) {
				t.Fatalf("finding by %+v", e.Actor)
			}
			got[f.Rule] = f
		}
		ig := got[quality.RuleIgnoredCustomer]
		if ig.Pass || ig.MessageSeq != angry.Seq || ig.WaitSeconds != 360 || !ig.At.Equal(angry.At) {
			t.Errorf("%s: ignored customer finding %+v, want at seq %d after 360 s", ws, ig, angry.Seq)
		}
		if e := got[quality.RuleEmpathy]; e.Pass || e.MessageSeq != angry.Seq {
			t.Errorf("%s: empathy finding %+v", ws, e)
		}
		wantFR := i == 0 // 10 s: within the default 60 s SLA, not within the strict 5 s
		if fr := got[quality.RuleFirstResponse]; fr.Pass != wantFR || fr.WaitSeconds != 10 {
			t.Errorf("%s: first response %+v, want pass=%v", ws, fr, wantFR)
		}
		if score.Score != 0 || !score.AutoFailed || score.Findings != len(evs) || score.AgentID != agent.ID {
			t.Errorf("%s: score %+v with %d findings", ws, score, len(evs))
		}
	}
}
