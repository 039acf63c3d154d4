package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
)

// TestSeedKnowledge stores the demo shop's knowledge base through the KB's
// own validation and finds its answers in both languages.
func TestSeedKnowledge(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), starpost.SystemClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tok, err := text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	ws := &starpost.Workspace{Name: "Demo"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedKnowledge(ctx, k, ws.ID, "u_admin"); err != nil {
		t.Fatal(err)
	}
	know := demo.ShopKnowledge()
	for _, tt := range []struct{ query, want string }{
		{"where is my package", know.FAQs[2].Questions[0]},
		{"退款还没到账", know.FAQs[5].Questions[0]},
		{"pre-sale deposit", "Singles' Day (11.11) pre-sale rules"},
	} {
		res, err := k.Search(ctx, ws.ID, tt.query, 3)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range res {
			found = found || r.Title == tt.want
		}
		if !found {
			t.Errorf("search %q: %q not in the top 3 (%+v)", tt.query, tt.want, res)
		}
	}
}
