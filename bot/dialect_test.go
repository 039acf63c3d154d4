package bot

import (
	"context"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

// TestDialects checks a queue's bot setting round trip and runs the
// bot_models SQL on SQLite and on a throwaway
// PostgreSQL server: the table created twice (idempotent), a model
// trained, stored and loaded back by a second Models, a new version after
// an edit and old versions pruned.
func TestDialects(t *testing.T) {
	for _, tc := range pgtest.Backends(nil) {
		t.Run(tc.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, tc.DSN(t), nil, nil)
			check(t, err)
			defer db.Close()
			// The queue's bot setting is stored with the queue (its JSON).
			wsp := &starpost.Workspace{Name: "Acme"}
			check(t, db.CreateWorkspace(ctx, wsp))
			q := &starpost.Queue{WorkspaceID: wsp.ID, Name: "Bot first", Bot: true, BotMaxFailedTurns: 4}
			check(t, db.CreateQueue(ctx, q))
			if got, err := db.FindQueue(ctx, wsp.ID, q.ID); err != nil || !got.Bot || got.BotMaxFailedTurns != 4 {
				t.Fatalf("queue read back %+v, %v", got, err)
			}
			k, err := kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: testTokenizer(t)})
			check(t, err)
			ids := map[string]string{}
			for _, key := range []string{"refund", "delivery", "password"} {
				f := &kb.FAQ{Questions: faqSet[key], Answer: key, Lang: "zh"}
				check(t, k.CreateFAQ(ctx, "ws_a", f))
				ids[key] = f.ID
			}
			open := func() *Models {
				m, err := OpenModels(ctx, ModelsOptions{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: testTokenizer(t), Source: KBSource{KB: k}, Keep: 2})
				check(t, err)
				t.Cleanup(m.Close)
				return m
			}
			ms := open()
			for i := range 3 { // three versions, two kept
				if i > 0 {
					qs := append(append([]string(nil), faqSet["refund"]...), "退款问题第"+string(rune('0'+i))+"次")
					_, err := k.UpdateFAQ(ctx, "ws_a", ids["refund"], kb.FAQPatch{Questions: &qs})
					check(t, err)
				}
				m, err := ms.Retrain(ctx, "ws_a")
				check(t, err)
				if m.Version != int64(i+1) {
					t.Fatalf("version %d, want %d", m.Version, i+1)
				}
			}
			vs, err := open().Versions(ctx, "ws_a")
			check(t, err)
			if len(vs) != 2 || vs[0].Version != 3 || vs[1].Version != 2 {
				t.Fatalf("versions %+v", vs)
			}
			m, err := open().Current(ctx, "ws_a")
			check(t, err)
			if m.Version != 3 || m.Predict("快递到哪了").Intent != ids["delivery"] {
				t.Fatalf("loaded %+v", m)
			}
		})
	}
}
