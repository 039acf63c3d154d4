package store_test

import (
	"context"
	"fmt"
	"log"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

// Example opens a store, sets up a workspace and takes a conversation from
// creation to its first customer message.
func Example() {
	ctx := context.Background()
	// A file path (or "sqlite:PATH") opens SQLite; "postgres://..." opens
	// PostgreSQL. ":memory:" is a private in-memory SQLite database.
	db, err := store.Open(ctx, ":memory:", starpost.SystemClock{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ws := &starpost.Workspace{Name: "Acme"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		log.Fatal(err)
	}
	q := &starpost.Queue{WorkspaceID: ws.ID, Name: "Support"}
	if err := db.CreateQueue(ctx, q); err != nil {
		log.Fatal(err)
	}
	contact, err := db.FindOrCreateContact(ctx, ws.ID, starpost.ChannelChat, "visitor-42", "Ada")
	if err != nil {
		log.Fatal(err)
	}

	customer := starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID}
	created, err := db.Append(ctx, &starpost.Event{
		WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: customer,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: q.ID}),
	})
	if err != nil {
		log.Fatal(err)
	}
	conv := created[0].ConversationID
	msg := &starpost.Event{
		WorkspaceID: ws.ID, ConversationID: conv, Kind: starpost.KindMessage, Actor: customer,
		Body: starpost.MustBody(starpost.MessageBody{Text: "Where is my parcel?"}), IdempotencyKey: "client-msg-1",
	}
	first, err := db.Append(ctx, msg)
	if err != nil {
		log.Fatal(err)
	}
	retry, err := db.Append(ctx, msg) // a client retry: returns the original event
	if err != nil {
		log.Fatal(err)
	}
	c, err := db.FindConversation(ctx, ws.ID, conv)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("message seq", first[0].Seq, "cursor", first[0].Cursor, "retry cursor", retry[0].Cursor)
	fmt.Println("state", c.State, "last seq", c.LastSeq, "awaiting reply", c.AwaitingAgentReply())
	// Output:
	// message seq 2 cursor 2 retry cursor 2
	// state queued last seq 2 awaiting reply true
}
