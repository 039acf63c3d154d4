package attachment_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
	"github.com/starpost/starpost/store"
)

// Store a customer's file, then check the reference a message makes to it.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "attachment-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "starpost.db"), starpost.SystemClock{}, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	st, err := attachment.Open(ctx, attachment.Options{SQL: db.SQL(), Driver: db.Driver(), MaxBytes: 1 << 20})
	if err != nil {
		panic(err)
	}
	f, err := st.Put(ctx, attachment.Upload{WorkspaceID: "ws_1", ConversationID: "cv_1",
		Uploader: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
		Name:     "order.txt", Body: strings.NewReader("order 1234")})
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Name, f.ContentType, f.Size)

	// A message lists the id; Resolve checks it belongs to the conversation.
	refs, err := st.Resolve(ctx, "ws_1", "cv_1", []starpost.Attachment{{ID: f.ID}}, false)
	fmt.Println(len(refs), refs[0].ContentType, err)
	_, err = st.Resolve(ctx, "ws_1", "cv_2", []starpost.Attachment{{ID: f.ID}}, false)
	fmt.Println(starpost.ErrorCode(err))

	// An SVG is refused, whatever its name says.
	_, err = st.Put(ctx, attachment.Upload{WorkspaceID: "ws_1", ConversationID: "cv_1",
		Uploader: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
		Name:     "cat.png", Body: strings.NewReader(`<svg onload="alert(1)"/>`)})
	fmt.Println(starpost.ErrorMessage(err))
	// Output:
	// order.txt text/plain; charset=utf-8 10
	// 1 text/plain; charset=utf-8 <nil>
	// invalid
	// markup (HTML, XML, SVG) is not accepted
}
