package http_test

import (
	"context"
	"testing"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// TestSocketsFollowNewConversations: the bus hub sends an agent's and a
// visitor's socket only their own conversations, so a conversation that
// becomes theirs after they connected must reach them through the event
// that names them (the offer, the creation), and its later events too.
func TestSocketsFollowNewConversations(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	watch, err := e.bus.Subscribe(tn.ws.ID)
	must(t, err)
	defer watch.Close()

	agent := e.login(tn.agent)
	agentConn := agent.dial(ctx, "/api/v1/stream?cursor=0")
	waitBus(t, ctx, watch, func(ev *starpost.Event) bool { return ev.Kind == starpost.KindConnection })
	vis := e.visitor(tn.ws.ID)
	visConn := e.anon().dial(ctx, "/api/v1/widget/stream?cursor=0&token="+vis.bearer)

	// The visitor starts a conversation after connecting.
	var started sphttp.ConversationResponse
	vis.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "help please", "idempotency_key": "v-0"}, 201, &started)
	conv := started.Conversation
	e.startConversation(tn, "someone-else")
	readUntil(t, ctx, visConn, func(f sphttp.Frame) bool {
		return f.Event != nil && f.Event.Kind == starpost.KindMessage && f.Event.ConversationID == conv.ID
	})

	// It is offered to the agent, who accepts and answers.
	e.offer(tn.ws.ID, conv.ID, tn.agent.ID)
	path := "/api/v1/conversations/" + conv.ID
	agent.mustJSON("POST", path+"/accept", nil, 200, nil)
	agent.mustJSON("POST", path+"/messages", map[string]string{"text": "hi, I am here"}, 201, nil, "Idempotency-Key", "a-1")
	vis.mustJSON("POST", "/api/v1/widget/conversations/"+conv.ID+"/messages", map[string]string{"text": "thanks", "idempotency_key": "v-1"}, 201, nil)

	frames := readUntil(t, ctx, agentConn, func(f sphttp.Frame) bool {
		return f.Event != nil && f.Event.Kind == starpost.KindMessage && f.Event.Actor.Role == starpost.RoleCustomer && f.Event.ConversationID == conv.ID && f.Event.Seq > 2
	})
	kinds := map[starpost.EventKind]bool{}
	for _, f := range frames {
		if f.Event != nil && f.Event.ConversationID != "" && f.Event.ConversationID != conv.ID {
			t.Fatalf("agent sees %s", f.Event.ConversationID)
		}
		if f.Event != nil {
			kinds[f.Event.Kind] = true
		}
	}
	if !kinds[starpost.KindOffer] || !kinds[starpost.KindAssigned] {
		t.Fatalf("agent saw %v, want the offer and the assignment", kinds)
	}
	frames = readUntil(t, ctx, visConn, func(f sphttp.Frame) bool {
		return f.Event != nil && f.Event.Kind == starpost.KindMessage && f.Event.Actor.ID == tn.agent.ID
	})
	for _, f := range frames {
		if f.Event != nil && f.Event.ConversationID != conv.ID {
			t.Fatalf("visitor sees %s", f.Event.ConversationID)
		}
	}
}
