package helpcenter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/helpcenter"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
)

// Serve a workspace's help centre at /help/{workspace}/.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "help")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "starpost.db"), starpost.SystemClock{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	tok, _ := tokenizer()
	k, _ := kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok})
	ws := &starpost.Workspace{Name: "Acme"}
	_ = db.CreateWorkspace(ctx, ws)
	_ = k.CreateArticle(ctx, ws.ID, "u_1", &kb.Article{Title: "Opening hours", Body: "We answer **every day** from 9 to 21.",
		Lang: kb.LangEN, Status: kb.StatusPublished, Category: "Contact"})

	srv := httptest.NewServer((&helpcenter.Center{KB: k, Workspaces: db}).Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/help/" + ws.ID + "/search?q=hours&lang=en")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(page), "Opening hours"))
	// Output: 200 true
}
