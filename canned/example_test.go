package canned_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/starpost/starpost/canned"
	"github.com/starpost/starpost/store"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "canned")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "starpost.db"), nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	s, err := canned.Open(ctx, canned.Options{SQL: db.SQL(), Driver: db.Driver()})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := &canned.Reply{Title: "Refund", Shortcut: "/Refund", Body: "Hi {{customer.name}}, your refund is on its way.", Lang: "en"}
	if err := s.Create(ctx, "ws_demo", "us_admin", r); err != nil {
		fmt.Println(err)
		return
	}
	list, _ := s.List(ctx, "ws_demo", canned.Filter{Agent: true, Lang: "en"})
	for _, x := range list {
		fmt.Println("/"+x.Shortcut, x.Body)
	}
	// Output: /refund Hi {{customer.name}}, your refund is on its way.
}
