package bot

import (
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/emotion"
	"github.com/starpost/starpost/engine"
)

// With the real emotion engine: an angry customer's in-scope question is
// answered, then the emotion engine's event on it makes the bot hand over
// (reason angry), carrying the intent it had understood.
func TestAngryCustomerWithEmotionEngine(t *testing.T) {
	w := newWorld(t)
	a, err := emotion.LoadEmbedded()
	check(t, err)
	em, err := emotion.NewEngine(a, w.db, emotion.EngineConfig{})
	check(t, err)
	emr, err := engine.NewRunner(em, engine.Options{Store: w.db, Bus: w.bus, SQL: w.db.SQL(), Driver: w.db.Driver()})
	check(t, err)
	r := w.runner()
	conv := w.conversation()
	w.say(conv, "退款到现在还没到账，气死我了！！")
	check(t, emr.Sync(w.ctx))
	check(t, r.Sync(w.ctx))
	evs, err := w.db.ListEvents(w.ctx, starpost.EventFilter{WorkspaceID: w.ws.ID, ConversationID: conv, Kinds: []starpost.EventKind{KindTurn, KindHandoff}})
	check(t, err)
	if len(evs) != 2 || evs[0].Kind != KindTurn || evs[1].Kind != KindHandoff {
		t.Fatalf("bot events %+v", evs)
	}
	var turn TurnBody
	check(t, evs[0].DecodeBody(&turn))
	var ho HandoffBody
	check(t, evs[1].DecodeBody(&ho))
	if turn.Action != ActAnswer || turn.Intent != w.faqs["refund"] || ho.Reason != ReasonAngry || ho.Intent != w.faqs["refund"] || ho.IntentTitle == "" || len(ho.Transcript) != 2 {
		t.Fatalf("turn %+v, handoff %+v", turn, ho)
	}
	c, err := w.db.FindConversation(w.ctx, w.ws.ID, conv)
	check(t, err)
	if c.State != starpost.StateQueued {
		t.Fatalf("state %s", c.State)
	}
}
