package emotion_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/emotion"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/store"
)

// BenchmarkRunnerCatchUp measures the emotion engine under an
// engine.Runner catching up on stored customer messages (real SQLite store,
// embedded bus): analysis, emotion event append and publish per message.
func BenchmarkRunnerCatchUp(b *testing.B) {
	ctx := context.Background()
	a, err := emotion.LoadEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "starpost.db"), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	eb, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	defer eb.Close()
	ws := &starpost.Workspace{Name: "Bench"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		b.Fatal(err)
	}
	q := &starpost.Queue{WorkspaceID: ws.ID, Name: "Support", OfferTimeout: 60}
	if err := db.CreateQueue(ctx, q); err != nil {
		b.Fatal(err)
	}
	msgs := []string{"你好，请问我的订单什么时候发货？", "已经等了三天了，怎么还没发货", "Where is my refund?", "谢谢，问题解决了"}
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	var conv string
	for i := range b.N {
		if i%20 == 0 {
			evs, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: cust,
				Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: q.ID})})
			if err != nil {
				b.Fatal(err)
			}
			conv = evs[0].ConversationID
		}
		if _, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, ConversationID: conv, Kind: starpost.KindMessage, Actor: cust,
			Body: starpost.MustBody(starpost.MessageBody{Text: fmt.Sprint(msgs[i%len(msgs)], " #", i)})}); err != nil {
			b.Fatal(err)
		}
	}
	h, err := emotion.NewEngine(a, db, emotion.EngineConfig{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := engine.NewRunner(h, engine.Options{Store: db, Bus: eb, SQL: db.SQL(), Driver: db.Driver()})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := r.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := r.Stats(); st.Appended != int64(b.N) {
		b.Fatalf("appended %d, want %d", st.Appended, b.N)
	}
}
