package http_test

import (
	"context"
	"strings"
	"testing"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// TestWidgetSeesReassignment: a customer is told when their agent changes
// (the router gave the conversation back to the queue because the agent's
// connection was lost, another agent took over, that agent transferred it),
// in their stream and in their event list, without the internal reason or
// the transfer note meant for the next agent.
func TestWidgetSeesReassignment(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	vis := e.visitor(tn.ws.ID)
	var started sphttp.ConversationResponse
	vis.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "where is my parcel", "idempotency_key": "v-0"}, 201, &started)
	conv := started.Conversation.ID
	visConn := e.anon().dial(ctx, "/api/v1/widget/stream?cursor=0&token="+vis.bearer)

	e.offer(tn.ws.ID, conv, tn.agent.ID)
	e.login(tn.agent).mustJSON("POST", "/api/v1/conversations/"+conv+"/accept", nil, 200, nil)
	// The router's decision when the agent's grace period ran out.
	evs, err := e.db.Append(e.ctx, &starpost.Event{WorkspaceID: tn.ws.ID, ConversationID: conv, Kind: starpost.KindUnassigned,
		Actor: starpost.System, Body: starpost.MustBody(starpost.UnassignedBody{AgentID: tn.agent.ID, Reason: "disconnected"})})
	must(t, err)
	must(t, e.bus.Publish(e.ctx, evs...))
	e.offer(tn.ws.ID, conv, tn.agent2.ID)
	agent2 := e.login(tn.agent2)
	agent2.mustJSON("POST", "/api/v1/conversations/"+conv+"/accept", nil, 200, nil)
	const note = "angry about the delay, offered nothing yet"
	agent2.mustJSON("POST", "/api/v1/conversations/"+conv+"/transfer", sphttp.TransferRequest{ToQueueID: tn.queue.ID, Note: note}, 200, nil)

	check := func(where string, got []*starpost.Event) {
		t.Helper()
		var kinds []string
		for _, ev := range got {
			kinds = append(kinds, string(ev.Kind))
			switch ev.Kind {
			case starpost.KindUnassigned:
				var b starpost.UnassignedBody
				must(t, ev.DecodeBody(&b))
				if b.AgentID != tn.agent.ID || b.Reason != "" {
					t.Errorf("%s: unassigned %+v, want the agent and no reason", where, b)
				}
			case starpost.KindTransferred:
				if strings.Contains(string(ev.Body), "delay") {
					t.Errorf("%s: the customer sees the transfer note: %s", where, ev.Body)
				}
				var b starpost.TransferBody
				must(t, ev.DecodeBody(&b))
				if b.ToQueueID != tn.queue.ID {
					t.Errorf("%s: transferred %+v, want to %s", where, b, tn.queue.ID)
				}
			case starpost.KindOffer, starpost.KindNote:
				t.Errorf("%s: the customer sees %s", where, ev.Kind)
			}
		}
		want := "created message assigned unassigned assigned transferred"
		if strings.Join(kinds, " ") != want {
			t.Errorf("%s: kinds %v, want %s", where, kinds, want)
		}
	}

	var page sphttp.EventPage
	vis.mustJSON("GET", "/api/v1/widget/conversations/"+conv+"/events", nil, 200, &page)
	check("event list", page.Items)
	var streamed []*starpost.Event
	for _, f := range readUntil(t, ctx, visConn, func(f sphttp.Frame) bool { return f.Event != nil && f.Event.Kind == starpost.KindTransferred }) {
		if f.Event != nil && f.Event.Cursor > 0 {
			streamed = append(streamed, f.Event)
		}
	}
	check("stream", streamed)
}
