package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/auth"
	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/store"
)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), starpost.SystemClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := demo.Seed(ctx, db, auth.HashPassword)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Queues) != 3 || len(w.Agents()) != 6 || w.Logins[0].Email != demo.AdminEmail || w.Logins[0].Role != starpost.RoleAdmin {
		t.Fatalf("unexpected world: %d queues, %d agents, first login %+v", len(w.Queues), len(w.Agents()), w.Logins[0])
	}
	sites := map[string]bool{}
	for _, l := range w.Logins {
		u, hash, err := db.FindUserByEmail(ctx, l.Email)
		if err != nil {
			t.Fatal(err)
		}
		if !auth.ComparePassword(hash, l.Password) {
			t.Fatalf("%s: printed password does not match the stored hash", l.Email)
		}
		if u.Role == starpost.RoleAgent {
			sites[u.SiteID] = true
			if len(u.Skills) == 0 {
				t.Fatalf("%s has no skills", l.Email)
			}
		}
	}
	if len(sites) != 2 {
		t.Fatalf("agents work at %d sites, want 2", len(sites))
	}
	// Every queue can be served by at least one demo agent at full level.
	users, _ := db.ListUsers(ctx, w.Workspace.ID)
	for _, q := range w.Queues {
		if !servable(q, users) {
			t.Errorf("no demo agent qualifies for queue %q", q.Name)
		}
	}
}

func servable(q *starpost.Queue, users []*starpost.User) bool {
	for _, u := range users {
		ok := u.Role == starpost.RoleAgent
		for _, need := range q.Skills {
			has := false
			for _, s := range u.Skills {
				has = has || s.SkillID == need.SkillID && s.Level >= need.MinLevel
			}
			ok = ok && has
		}
		if ok {
			return true
		}
	}
	return false
}
