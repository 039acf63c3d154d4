package bot

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/starpost/starpost"
)

// countingStore counts the conversation reads the engine makes.
type countingStore struct {
	starpost.Store
	finds atomic.Int64
}

func (s *countingStore) FindConversation(ctx context.Context, workspaceID, id string) (*starpost.Conversation, error) {
	s.finds.Add(1)
	return s.Store.FindConversation(ctx, workspaceID, id)
}

// Customer messages of conversations that people handle cost the bot no
// store read once it knows they are out of state bot; those still with the
// bot are read every time (the bot must see a handover at once).
func TestBotSkipsConversationsPeopleHandle(t *testing.T) {
	w := newWorld(t)
	queued := w.append(&starpost.Event{Kind: starpost.KindCreated, Actor: cust,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: cust.ID, QueueID: w.queue.ID})})
	handedOver := w.conversation()
	w.append(&starpost.Event{ConversationID: handedOver, Kind: starpost.KindState, Actor: Participant,
		Body: starpost.MustBody(starpost.StateBody{State: starpost.StateQueued})})
	withBot := w.conversation()

	for _, tc := range []struct {
		name    string
		created *starpost.Event // handled first when not nil
		conv    string
		reads   []int64 // store reads after each of three customer messages
	}{
		{"created queued", queued, queued.ConversationID, []int64{0, 0, 0}},
		{"handed over", nil, handedOver, []int64{1, 1, 1}},
		{"still with the bot", nil, withBot, []int64{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := &countingStore{Store: w.db}
			eng, err := NewEngine(w.models, cs, Config{})
			check(t, err)
			if tc.created != nil {
				if _, err := eng.Handle(w.ctx, tc.created); err != nil {
					t.Fatal(err)
				}
			}
			for i, want := range tc.reads {
				msg := &starpost.Event{WorkspaceID: w.ws.ID, ConversationID: tc.conv, Seq: int64(10 + i), Kind: starpost.KindMessage, Actor: cust,
					Body: starpost.MustBody(starpost.MessageBody{Text: "还在吗"})}
				if _, err := eng.Handle(w.ctx, msg); err != nil {
					t.Fatal(err)
				}
				if got := cs.finds.Load(); got != want {
					t.Fatalf("after message %d: %d conversation reads, want %d", i+1, got, want)
				}
			}
		})
	}
}
