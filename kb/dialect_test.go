package kb_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

// TestDialects runs the knowledge base's SQL on SQLite and on a throwaway
// PostgreSQL server: tables created twice (idempotent), edits with
// versions, search after a restart from the saved index, synonyms,
// feedback and a CSV round trip.
func TestDialects(t *testing.T) {
	for _, tc := range pgtest.Backends(nil) {
		t.Run(tc.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, tc.DSN(t), newClock(), nil)
			check(t, err)
			defer db.Close()
			k := openKB(t, db)
			ids := seed(t, k, "ws_a")
			title := "如何申请退款（新）"
			a, err := k.UpdateArticle(ctx, "ws_a", ids["如何申请退款"], "us_2", kb.ArticlePatch{Title: &title})
			check(t, err)
			vs, err := k.ArticleVersions(ctx, "ws_a", a.ID)
			check(t, err)
			if len(vs) != 2 {
				t.Fatalf("versions %d", len(vs))
			}
			check(t, k.SetSynonyms(ctx, "ws_a", [][]string{{"包裹", "parcel"}}))
			rs, err := k.Search(ctx, "ws_a", "退款要多久才到账", 2)
			check(t, err)
			if len(rs) == 0 || rs[0].ID != ids["怎么退款"] {
				t.Fatalf("search %+v", rs)
			}
			check(t, k.RecordFeedback(ctx, "ws_a", "cv_1", 5, rs[0].ID, true))
			check(t, k.RecordFeedback(ctx, "ws_a", "cv_1", 5, rs[0].ID, true))
			var out bytes.Buffer
			check(t, k.ExportFAQs(ctx, "ws_a", &out))
			rep, err := k.ImportFAQs(ctx, "ws_a", &out)
			check(t, err)
			if rep.Updated != 2 {
				t.Fatalf("import %+v", rep)
			}
			check(t, k.Flush(ctx))

			k2 := openKB(t, db) // tables exist: created again idempotently
			rs, err = k2.Search(ctx, "ws_a", "我的包裹到哪了", 1)
			check(t, err)
			if len(rs) != 1 || rs[0].ID != ids["Track a delivery"] {
				t.Fatalf("after restart: %+v", rs)
			}
		})
	}
}
