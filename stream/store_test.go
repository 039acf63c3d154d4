package stream_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/stream"
)

// TestWithSQLiteStore runs streams against the real store (SQLite) and two
// bus nodes. Two committers append to two conversations and publish from
// different nodes, so publications cross; every fifth commit is not
// published at all, as if its node crashed after the commit. A stream on
// node 2 for one conversation and an unfiltered one must each see exactly
// what the store holds, in order, once.
func TestWithSQLiteStore(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "starpost.db"), starpost.SystemClock{}, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })

	wsp := &starpost.Workspace{Name: "Stream test"}
	must(t, db.CreateWorkspace(ctx, wsp))
	queue := &starpost.Queue{WorkspaceID: wsp.ID, Name: "Support"}
	must(t, db.CreateQueue(ctx, queue))
	contact, err := db.FindOrCreateContact(ctx, wsp.ID, starpost.ChannelChat, "visitor-1", "Visitor")
	must(t, err)
	customer := starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID}
	openConv := func() string {
		out, err := db.Append(ctx, &starpost.Event{WorkspaceID: wsp.ID, Kind: starpost.KindCreated, Actor: customer,
			Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: queue.ID})})
		must(t, err)
		return out[0].ConversationID
	}
	convA, convB := openConv(), openConv()

	n1 := openBus(t, bus.Options{Name: "n1", Listen: "127.0.0.1:0", Store: db, GapDelay: 5 * time.Millisecond})
	n2 := openBus(t, bus.Options{Name: "n2", URL: n1.ClientURL(), Store: db, GapDelay: 5 * time.Millisecond})

	say := func(conv, text string) *starpost.Event {
		return &starpost.Event{WorkspaceID: wsp.ID, ConversationID: conv, Kind: starpost.KindMessage, Actor: customer,
			Body: starpost.MustBody(starpost.MessageBody{Text: text})}
	}
	// History before the streams open.
	for i := 0; i < 5; i++ {
		_, err := db.Append(ctx, say(convA, fmt.Sprintf("a-old-%d", i)), say(convB, fmt.Sprintf("b-old-%d", i)))
		must(t, err)
	}

	sA := openStream(t, db, n2, stream.Query{WorkspaceID: wsp.ID, AfterCursor: 3, ConversationIDs: []string{convA}, PageSize: 4})
	sAll := openStream(t, db, n2, stream.Query{WorkspaceID: wsp.ID})

	const perWriter = 60
	var wg sync.WaitGroup
	for w, node := range []*bus.Bus{n1, n2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				conv := convA
				if (i+w)%2 == 1 {
					conv = convB
				}
				out, err := db.Append(ctx, say(conv, fmt.Sprintf("w%d-%d", w, i)))
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				if i%5 == 4 {
					continue // committed, never published
				}
				if err := node.Publish(ctx, out...); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// A last, published event ends any gap left open at the tail.
	last, err := db.Append(ctx, say(convA, "bye"))
	must(t, err)
	must(t, n1.Publish(ctx, last...))

	truth := func(f starpost.EventFilter) []int64 {
		var out []int64
		for {
			page, err := db.ListEvents(ctx, f)
			must(t, err)
			if len(page) == 0 {
				return out
			}
			for _, e := range page {
				out = append(out, e.Cursor)
			}
			f.AfterCursor = page[len(page)-1].Cursor
		}
	}
	wantA := truth(starpost.EventFilter{WorkspaceID: wsp.ID, AfterCursor: 3, ConversationIDs: []string{convA}})
	wantAll := truth(starpost.EventFilter{WorkspaceID: wsp.ID})
	if gotA := cursors(next(t, sA, len(wantA))); !slices.Equal(gotA, wantA) {
		t.Errorf("conversation stream got %v\nwant %v", gotA, wantA)
	}
	if gotAll := cursors(next(t, sAll, len(wantAll))); !slices.Equal(gotAll, wantAll) {
		t.Errorf("workspace stream got %v\nwant %v", gotAll, wantAll)
	}
	if sAll.Last() != last[0].Cursor {
		t.Errorf("Last = %d, want %d", sAll.Last(), last[0].Cursor)
	}
	t.Logf("conversation stream %+v; workspace stream %+v; node 2 hub %+v", sA.Stats(), sAll.Stats(), n2.Stats())
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkReplaySQLite measures how fast a stream replays history from the
// real store (SQLite in a temporary folder), unfiltered and for one
// conversation among ten, and reports events/s delivered.
func BenchmarkReplaySQLite(b *testing.B) {
	const convs, perConv = 10, 1000
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "starpost.db"), starpost.SystemClock{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	wsp := &starpost.Workspace{Name: "Bench"}
	must(b, db.CreateWorkspace(ctx, wsp))
	queue := &starpost.Queue{WorkspaceID: wsp.ID, Name: "Support"}
	must(b, db.CreateQueue(ctx, queue))
	contact, err := db.FindOrCreateContact(ctx, wsp.ID, starpost.ChannelChat, "visitor-1", "Visitor")
	must(b, err)
	customer := starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID}
	var ids []string
	for range convs {
		out, err := db.Append(ctx, &starpost.Event{WorkspaceID: wsp.ID, Kind: starpost.KindCreated, Actor: customer,
			Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: queue.ID})})
		must(b, err)
		ids = append(ids, out[0].ConversationID)
	}
	for i := 0; i < perConv; i += 100 {
		var batch []*starpost.Event
		for j := 0; j < 100; j++ {
			for _, id := range ids {
				batch = append(batch, &starpost.Event{WorkspaceID: wsp.ID, ConversationID: id, Kind: starpost.KindMessage, Actor: customer,
					Body: starpost.MustBody(starpost.MessageBody{Text: "Where is my order? It has been a week."})})
			}
		}
		_, err := db.Append(ctx, batch...)
		must(b, err)
	}
	bs := openBus(b, bus.Options{Store: db})
	for _, bc := range []struct {
		name  string
		convs []string
		want  int
	}{
		{"workspace", nil, convs * (perConv + 1)},
		{"one-conversation", ids[:1], perConv + 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				s, err := stream.Open(ctx, db, bs, stream.Query{WorkspaceID: wsp.ID, ConversationIDs: bc.convs})
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < bc.want; n++ {
					if _, err := s.Next(ctx); err != nil {
						b.Fatal(err)
					}
				}
				s.Close()
			}
			b.ReportMetric(float64(b.N*bc.want)/time.Since(start).Seconds(), "events/s")
		})
	}
}
