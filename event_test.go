package starpost_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/starpost/starpost"
)

var t0 = time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)

// ev builds an event for the conversation "cv_1" of workspace "ws_1".
func ev(kind starpost.EventKind, actor starpost.Actor, body any) *starpost.Event {
	e := &starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: kind, Actor: actor, At: t0}
	if body != nil {
		e.Body = starpost.MustBody(body)
	}
	return e
}

var (
	customer = starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	agentA   = starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "ag_a"}
	agentB   = starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "ag_b"}
	sup      = starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: "su_1"}
)

func created() *starpost.Event {
	return ev(starpost.KindCreated, customer, starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct_1", QueueID: "qu_1"})
}

// apply runs events through a fresh conversation, stopping at the first error.
func apply(events ...*starpost.Event) (*starpost.Conversation, error) {
	c := &starpost.Conversation{}
	for i, e := range events {
		e.Seq = int64(i + 1)
		if err := c.Apply(e); err != nil {
			return c, fmt.Errorf("event %d (%s): %w", i+1, e.Kind, err)
		}
	}
	return c, nil
}

func TestConversationApply(t *testing.T) {
	offerA := ev(starpost.KindOffer, starpost.System, starpost.OfferBody{AgentID: "ag_a", ExpiresAt: t0.Add(time.Minute)})
	acceptA := ev(starpost.KindAssigned, agentA, starpost.AssignedBody{AgentID: "ag_a", By: "accept"})
	tests := []struct {
		name      string
		events    []*starpost.Event
		wantErr   string // error code, "" for none
		wantState starpost.State
		wantAgent string
	}{
		{"created is queued", []*starpost.Event{created()}, "", starpost.StateQueued, ""},
		{"offer then accept", []*starpost.Event{created(), offerA, acceptA}, "", starpost.StateAssigned, "ag_a"},
		{"accept without offer", []*starpost.Event{created(), acceptA}, starpost.ECONFLICT, starpost.StateQueued, ""},
		{"accept by another agent", []*starpost.Event{created(), offerA,
			ev(starpost.KindAssigned, agentB, starpost.AssignedBody{AgentID: "ag_b", By: "accept"})}, starpost.ECONFLICT, starpost.StateOffered, ""},
		{"declined goes back to queue", []*starpost.Event{created(), offerA,
			ev(starpost.KindOfferEnd, agentA, starpost.OfferEndBody{AgentID: "ag_a", Reason: "declined"})}, "", starpost.StateQueued, ""},
		{"double offer", []*starpost.Event{created(), offerA, offerA}, starpost.ECONFLICT, starpost.StateOffered, ""},
		{"agent waits on customer, customer replies", []*starpost.Event{created(), offerA, acceptA,
			ev(starpost.KindState, agentA, starpost.StateBody{State: starpost.StateWaiting}),
			ev(starpost.KindMessage, customer, starpost.MessageBody{Text: "hi"})}, "", starpost.StateAssigned, "ag_a"},
		{"unassigned requeues", []*starpost.Event{created(), offerA, acceptA,
			ev(starpost.KindUnassigned, starpost.System, starpost.UnassignedBody{AgentID: "ag_a", Reason: "offline"})}, "", starpost.StateQueued, ""},
		{"unassign wrong agent", []*starpost.Event{created(), offerA, acceptA,
			ev(starpost.KindUnassigned, starpost.System, starpost.UnassignedBody{AgentID: "ag_b", Reason: "offline"})}, starpost.ECONFLICT, starpost.StateAssigned, "ag_a"},
		{"transfer to agent", []*starpost.Event{created(), offerA, acceptA,
			ev(starpost.KindTransferred, agentA, starpost.TransferBody{ToAgentID: "ag_b", Note: "billing"})}, "", starpost.StateAssigned, "ag_b"},
		{"transfer to queue", []*starpost.Event{created(), offerA, acceptA,
			ev(starpost.KindTransferred, agentA, starpost.TransferBody{ToQueueID: "qu_2"})}, "", starpost.StateQueued, ""},
		{"force assign while offered", []*starpost.Event{created(), offerA,
			ev(starpost.KindAssigned, sup, starpost.AssignedBody{AgentID: "ag_b", By: "force"})}, "", starpost.StateAssigned, "ag_b"},
		{"resolve then customer reopens", []*starpost.Event{created(), offerA, acceptA,
			ev(starpost.KindState, agentA, starpost.StateBody{State: starpost.StateResolved}),
			ev(starpost.KindMessage, customer, starpost.MessageBody{Text: "still broken"})}, "", starpost.StateQueued, ""},
		{"closed is final", []*starpost.Event{created(),
			ev(starpost.KindState, agentA, starpost.StateBody{State: starpost.StateClosed}),
			ev(starpost.KindMessage, customer, starpost.MessageBody{Text: "hello?"})}, starpost.ECONFLICT, starpost.StateClosed, ""},
		{"agent not in conversation cannot write", []*starpost.Event{created(), offerA, acceptA,
			ev(starpost.KindMessage, agentB, starpost.MessageBody{Text: "hi"})}, starpost.EFORBIDDEN, starpost.StateAssigned, "ag_a"},
		{"bot hands over", []*starpost.Event{
			ev(starpost.KindCreated, customer, starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct_1", State: starpost.StateBot}),
			ev(starpost.KindState, starpost.Actor{Role: starpost.RoleBot, ID: "bot"}, starpost.StateBody{State: starpost.StateQueued})}, "", starpost.StateQueued, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := apply(tt.events...)
			if got := starpost.ErrorCode(err); got != tt.wantErr {
				t.Fatalf("error = %v, want code %q", err, tt.wantErr)
			}
			if c.State != tt.wantState || c.AgentID != tt.wantAgent {
				t.Fatalf("state %s agent %q, want %s %q", c.State, c.AgentID, tt.wantState, tt.wantAgent)
			}
		})
	}
}

func TestConversationApplyTimes(t *testing.T) {
	c, err := apply(created(),
		ev(starpost.KindOffer, starpost.System, starpost.OfferBody{AgentID: "ag_a"}),
		ev(starpost.KindAssigned, agentA, starpost.AssignedBody{AgentID: "ag_a", By: "accept"}),
		ev(starpost.KindMessage, customer, starpost.MessageBody{Text: "where is my parcel"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.AwaitingAgentReply() {
		t.Fatal("customer wrote last: the agent owes a reply")
	}
	reply := ev(starpost.KindMessage, agentA, starpost.MessageBody{Text: "on its way"})
	reply.At, reply.Seq = t0.Add(time.Minute), 5
	if err := c.Apply(reply); err != nil {
		t.Fatal(err)
	}
	if c.AwaitingAgentReply() || c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(reply.At) || c.LastSeq != 5 {
		t.Fatalf("after reply: awaiting=%v first=%v seq=%d", c.AwaitingAgentReply(), c.FirstResponseAt, c.LastSeq)
	}
}

func TestEventValidate(t *testing.T) {
	tests := []struct {
		name      string
		e         starpost.Event
		wantField string // "" means valid
	}{
		{"message ok", *ev(starpost.KindMessage, customer, starpost.MessageBody{Text: "hi"}), ""},
		{"no workspace", starpost.Event{Kind: starpost.KindMessage, Actor: customer}, "workspace_id"},
		{"bad kind", starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: "Bad Kind", Actor: customer}, "kind"},
		{"unknown role", starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: "message", Actor: starpost.Actor{Role: "god"}}, "actor"},
		{"empty message", *ev(starpost.KindMessage, customer, starpost.MessageBody{Text: "  "}), "text"},
		{"body not json", starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: "emotion", Actor: customer, Body: json.RawMessage("{")}, "body"},
		{"engine kind ok", starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: "qa.finding", Actor: starpost.System, Body: json.RawMessage(`{"rule":"greeting"}`)}, ""},
		{"message needs conversation", starpost.Event{WorkspaceID: "ws_1", Kind: "message", Actor: customer, Body: starpost.MustBody(starpost.MessageBody{Text: "x"})}, "conversation_id"},
		{"presence ok", starpost.Event{WorkspaceID: "ws_1", Kind: "presence", Actor: agentA, Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceBreak})}, ""},
		{"presence unknown", starpost.Event{WorkspaceID: "ws_1", Kind: "presence", Actor: agentA, Body: starpost.MustBody(starpost.PresenceBody{Presence: "napping"})}, "presence"},
		{"transfer needs one target", *ev(starpost.KindTransferred, agentA, starpost.TransferBody{}), "to_agent_id"},
		{"created needs channel", *ev(starpost.KindCreated, customer, starpost.CreatedBody{ContactID: "c", QueueID: "q"}), "channel"},
		{"key too long", starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: "note", Actor: agentA, IdempotencyKey: string(make([]byte, 200))}, "idempotency_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if starpost.ErrorCode(err) != starpost.EINVALID || starpost.ErrorField(err) != tt.wantField {
				t.Fatalf("error %v, want invalid field %q", err, tt.wantField)
			}
		})
	}
}

func TestBusinessHours(t *testing.T) {
	bh := &starpost.BusinessHours{TimeZone: "Asia/Shanghai", Days: map[time.Weekday][]string{
		time.Wednesday: {"09:00-12:00", "13:00-18:00"},
	}}
	if err := bh.Validate(); err != nil {
		t.Fatal(err)
	}
	// 2026-11-11 is a Wednesday; 02:00 UTC is 10:00 in Shanghai.
	for _, tt := range []struct {
		utc  string
		open bool
	}{{"2026-11-11T02:00:00Z", true}, {"2026-11-11T04:30:00Z", false}, {"2026-11-11T09:59:00Z", true}, {"2026-11-12T02:00:00Z", false}} {
		at, _ := time.Parse(time.RFC3339, tt.utc)
		if got := bh.Open(at); got != tt.open {
			t.Errorf("Open(%s) = %v, want %v", tt.utc, got, tt.open)
		}
	}
	bad := &starpost.BusinessHours{TimeZone: "Asia/Shanghai", Days: map[time.Weekday][]string{time.Monday: {"18:00-09:00"}}}
	if starpost.ErrorCode(bad.Validate()) != starpost.EINVALID {
		t.Fatal("reversed span must be invalid")
	}
}

func TestQueueValidate(t *testing.T) {
	q := starpost.Queue{Name: "Billing", Skills: []starpost.SkillRequired{{SkillID: "sk_1", MinLevel: 3}},
		Overflow: []starpost.OverflowStep{{AfterSeconds: 30, MinLevelDrop: 1}, {AfterSeconds: 20, AnySite: true}}}
	if starpost.ErrorField(q.Validate()) != "overflow" {
		t.Fatal("decreasing overflow steps must be rejected")
	}
	q.Overflow[1].AfterSeconds = 60
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
}

func ExampleConversation_Apply() {
	c := &starpost.Conversation{}
	for i, e := range []*starpost.Event{
		{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: starpost.KindCreated, Actor: customer,
			Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct_1", QueueID: "qu_1"})},
		{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: starpost.KindOffer, Actor: starpost.System,
			Body: starpost.MustBody(starpost.OfferBody{AgentID: "ag_a"})},
		{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: starpost.KindAssigned, Actor: agentA,
			Body: starpost.MustBody(starpost.AssignedBody{AgentID: "ag_a", By: "accept"})},
	} {
		e.Seq = int64(i + 1)
		if err := c.Apply(e); err != nil {
			fmt.Println(err)
		}
		fmt.Printf("%s offered=%q agent=%q\n", c.State, c.OfferedTo, c.AgentID)
	}
	// Output:
	// queued offered="" agent=""
	// offered offered="ag_a" agent=""
	// assigned offered="" agent="ag_a"
}
