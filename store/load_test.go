package store_test

import (
	"context"
	"testing"

	"github.com/starpost/starpost"
)

func TestCountWaiting(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		other := newFixture(t, db, "globex")
		n, oldest, err := db.CountWaiting(ctx, f.ws.ID, starpost.ChannelChat)
		if err != nil || n != 0 || !oldest.IsZero() {
			t.Fatalf("empty: %d %v %v", n, oldest, err)
		}
		first := f.open(t, db)
		f.open(t, db)
		assigned := f.open(t, db)
		other.open(t, db)
		_, err = db.Append(ctx, &starpost.Event{WorkspaceID: f.ws.ID, ConversationID: assigned, Kind: starpost.KindAssigned,
			Actor: starpost.System, Body: starpost.MustBody(starpost.AssignedBody{AgentID: f.agent1.ID, By: "router"})})
		must(t, err)
		email := f.created("")
		email.Body = starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelEmail, ContactID: f.contact.ID, QueueID: f.queue.ID})
		_, err = db.Append(ctx, email)
		must(t, err)
		c, err := db.FindConversation(ctx, f.ws.ID, first)
		must(t, err)
		for _, tc := range []struct {
			ch   starpost.Channel
			want int
		}{{starpost.ChannelChat, 2}, {starpost.ChannelEmail, 1}, {starpost.ChannelVoice, 0}} {
			n, oldest, err := db.CountWaiting(ctx, f.ws.ID, tc.ch)
			must(t, err)
			if n != tc.want {
				t.Errorf("%s: %d waiting, want %d", tc.ch, n, tc.want)
			}
			if tc.ch == starpost.ChannelChat && !oldest.Equal(c.CreatedAt) {
				t.Errorf("oldest %v, want %v", oldest, c.CreatedAt)
			}
		}
		if _, _, err := db.CountWaiting(ctx, "", starpost.ChannelChat); err == nil {
			t.Error("no workspace must fail")
		}
	})
}
