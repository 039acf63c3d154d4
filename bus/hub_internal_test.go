package bus

import (
	"context"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus/bustest"
)

// TestCatchUpAfterReconnect: events committed while the connection was down
// (published to nobody) are read from the store when it comes back.
func TestCatchUpAfterReconnect(t *testing.T) {
	ctx := context.Background()
	log := bustest.NewLog()
	var evs []*starpost.Event
	for i := 0; i < 5; i++ {
		e, err := log.Append(ctx, &starpost.Event{WorkspaceID: "ws_r", ConversationID: "cv_1", Kind: starpost.KindMessage})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e...)
	}
	b, err := Open(ctx, Options{Store: log, GapDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub, err := b.Subscribe("ws_r")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, evs[0], evs[1]); err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= 2; want++ {
		if e := <-sub.Events(); e.Cursor != want {
			t.Fatalf("got %d, want %d", e.Cursor, want)
		}
	}
	b.hub.catchUp() // as the reconnect handler does
	for want := int64(3); want <= 5; want++ {
		if e := <-sub.Events(); e.Cursor != want {
			t.Fatalf("got %d, want %d", e.Cursor, want)
		}
	}
	if err := b.Publish(ctx, evs[4]); err != nil { // the late publication is a duplicate
		t.Fatal(err)
	}
	b.Publish(ctx, &starpost.Event{WorkspaceID: "ws_r", Kind: starpost.KindTyping})
	if e := <-sub.Events(); e.Cursor != 0 {
		t.Fatalf("got %d after catch-up, want the typing signal", e.Cursor)
	}
	if st := b.Stats(); st.Filled != 3 || st.Duplicates != 1 {
		t.Fatalf("stats %+v", st)
	}
}
