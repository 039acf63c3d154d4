package demo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/store"
)

// TestHistory: the demo history is deterministic, inside the days asked
// for, in the demo queues, and ordered arrival ≤ assignment < end.
func TestHistory(t *testing.T) {
	w := &demo.World{Queues: nil}
	if _, err := demo.History(w, time.Now(), 3); err == nil {
		t.Fatal("a world without queues made history")
	}
	w = seedWorld(t)
	now := time.Date(2026, 11, 11, 12, 0, 0, 0, time.UTC)
	a, err := demo.History(w, now, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := demo.History(w, now, 7)
	if len(a) == 0 || len(a) != len(b) || a[len(a)-1] != b[len(b)-1] {
		t.Fatalf("history not deterministic: %d vs %d", len(a), len(b))
	}
	queues := map[string]bool{}
	for _, q := range w.Queues {
		queues[q.ID] = true
	}
	for _, c := range a {
		if !queues[c.QueueID] || c.Arrived.Before(now.AddDate(0, 0, -8)) || !c.Arrived.Before(now) ||
			c.Assigned.Before(c.Arrived) || !c.Ended.After(c.Assigned) {
			t.Fatalf("bad contact %+v", c)
		}
	}
}

func seedWorld(t *testing.T) *demo.World {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "demo.db"), starpost.SystemClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := demo.Seed(context.Background(), db, func(string) (string, error) { return "x", nil })
	if err != nil {
		t.Fatal(err)
	}
	return w
}
