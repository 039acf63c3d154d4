package canned_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/canned"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newClock() *stepClock { return &stepClock{t: time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)} }

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := starpost.ErrorCode(err); got != want {
		t.Fatalf("error %v has code %q, want %q", err, got, want)
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("长", canned.MaxBodyLen+1)
	tests := []struct {
		name  string
		r     canned.Reply
		field string // "" means valid
	}{
		{"ok", canned.Reply{Title: "Refund", Shortcut: "/Refund", Body: "Hi {{customer.name}}", Lang: "en"}, ""},
		{"chinese shortcut", canned.Reply{Title: "退款", Shortcut: "退款", Body: "您好"}, ""},
		{"no title", canned.Reply{Title: "  ", Shortcut: "a", Body: "b"}, "title"},
		{"no shortcut", canned.Reply{Title: "t", Shortcut: "/", Body: "b"}, "shortcut"},
		{"space in shortcut", canned.Reply{Title: "t", Shortcut: "a b", Body: "b"}, "shortcut"},
		{"slash inside", canned.Reply{Title: "t", Shortcut: "a/b", Body: "b"}, "shortcut"},
		{"long shortcut", canned.Reply{Title: "t", Shortcut: strings.Repeat("a", 33), Body: "b"}, "shortcut"},
		{"empty body", canned.Reply{Title: "t", Shortcut: "a", Body: " \n"}, "body"},
		{"long body", canned.Reply{Title: "t", Shortcut: "a", Body: long}, "body"},
		{"bad utf8", canned.Reply{Title: "t", Shortcut: "a", Body: "\xff"}, "body"},
		{"bad lang", canned.Reply{Title: "t", Shortcut: "a", Body: "b", Lang: "fr"}, "lang"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.field == "" {
				check(t, err)
				if strings.HasPrefix(tt.r.Shortcut, "/") || tt.r.Shortcut != strings.ToLower(tt.r.Shortcut) {
					t.Errorf("shortcut not normalised: %q", tt.r.Shortcut)
				}
				return
			}
			var e *starpost.Error
			if err == nil || !asError(err, &e) || e.Field != tt.field {
				t.Fatalf("got %v, want an error on %s", err, tt.field)
			}
		})
	}
}

func asError(err error, e **starpost.Error) bool {
	x, ok := err.(*starpost.Error)
	*e = x
	return ok
}

// TestDialects runs the package's SQL on SQLite and on a throwaway
// PostgreSQL server: table created twice, create, shortcut conflicts per
// language, agent and language filters, update, delete, and tenant
// isolation.
func TestDialects(t *testing.T) {
	for _, tc := range pgtest.Backends(nil) {
		t.Run(tc.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, tc.DSN(t), newClock(), nil)
			check(t, err)
			defer db.Close()
			clock := newClock()
			open := func() *canned.Store {
				s, err := canned.Open(ctx, canned.Options{SQL: db.SQL(), Driver: db.Driver(), Clock: clock})
				check(t, err)
				return s
			}
			s := open()
			refundEN := &canned.Reply{Title: "Refund", Shortcut: "/refund", Body: "Hi {{customer.name}}, your refund is on its way.", Lang: "en"}
			check(t, s.Create(ctx, "ws_a", "us_admin", refundEN))
			if refundEN.ID == "" || refundEN.Shortcut != "refund" || refundEN.UpdatedBy != "us_admin" {
				t.Fatalf("created %+v", refundEN)
			}
			refundZH := &canned.Reply{Title: "退款", Shortcut: "refund", Body: "{{customer.name}}您好，退款已经提交。", Lang: "zh"}
			check(t, s.Create(ctx, "ws_a", "us_admin", refundZH))
			code(t, s.Create(ctx, "ws_a", "us_admin", &canned.Reply{Title: "again", Shortcut: "REFUND", Body: "x", Lang: "en"}), starpost.ECONFLICT)
			vip := &canned.Reply{Title: "VIP", Shortcut: "vip", Body: "Thank you for being a VIP.", TeamID: "tm_vip"}
			check(t, s.Create(ctx, "ws_a", "us_admin", vip))
			other := &canned.Reply{Title: "Refund", Shortcut: "refund", Body: "other tenant", Lang: "en"}
			check(t, s.Create(ctx, "ws_b", "us_b", other)) // same shortcut, another workspace

			s = open() // the table exists: created again idempotently
			shortcuts := func(f canned.Filter) string {
				list, err := s.List(ctx, "ws_a", f)
				check(t, err)
				var out []string
				for _, r := range list {
					out = append(out, r.Shortcut+":"+r.Lang)
				}
				return strings.Join(out, ",")
			}
			for _, tt := range []struct {
				f    canned.Filter
				want string
			}{
				{canned.Filter{}, "refund:en,refund:zh,vip:"},
				{canned.Filter{Agent: true}, "refund:en,refund:zh"},
				{canned.Filter{Agent: true, ForTeam: "tm_vip"}, "refund:en,refund:zh,vip:"},
				{canned.Filter{Agent: true, ForTeam: "tm_other", Lang: "zh"}, "refund:zh"},
			} {
				if got := shortcuts(tt.f); got != tt.want {
					t.Errorf("List(%+v) = %s, want %s", tt.f, got, tt.want)
				}
			}

			// Update: a clash is a conflict, a good patch is stored.
			zh := "zh"
			_, err = s.Update(ctx, "ws_a", refundEN.ID, "us_admin", canned.Patch{Lang: &zh})
			code(t, err, starpost.ECONFLICT)
			short, body := "/Refund-EN", "Your refund is on its way."
			up, err := s.Update(ctx, "ws_a", refundEN.ID, "us_2", canned.Patch{Shortcut: &short, Body: &body})
			check(t, err)
			got, err := s.Get(ctx, "ws_a", refundEN.ID)
			check(t, err)
			if got.Shortcut != "refund-en" || got.Body != body || got.UpdatedBy != "us_2" || !got.UpdatedAt.Equal(up.UpdatedAt) || !got.UpdatedAt.After(got.CreatedAt) {
				t.Fatalf("after update %+v", got)
			}
			empty := ""
			_, err = s.Update(ctx, "ws_a", refundEN.ID, "us_2", canned.Patch{Body: &empty})
			code(t, err, starpost.EINVALID)

			// Tenants never see each other's replies.
			_, err = s.Get(ctx, "ws_b", refundEN.ID)
			code(t, err, starpost.ENOTFOUND)
			_, err = s.Update(ctx, "ws_b", refundEN.ID, "us_b", canned.Patch{Body: &body})
			code(t, err, starpost.ENOTFOUND)
			code(t, s.Delete(ctx, "ws_b", refundEN.ID), starpost.ENOTFOUND)
			listB, err := s.List(ctx, "ws_b", canned.Filter{})
			check(t, err)
			if len(listB) != 1 || listB[0].Body != "other tenant" {
				t.Fatalf("ws_b sees %+v", listB)
			}

			// Defaults go only to a workspace without replies.
			n, err := s.SeedDefaults(ctx, "ws_a", "demo")
			check(t, err)
			if n != 0 {
				t.Fatalf("seeded %d into a workspace with replies", n)
			}
			if n, err = s.SeedDefaults(ctx, "ws_new", "demo"); err != nil || n != len(canned.Defaults()) {
				t.Fatalf("seeded %d, %v", n, err)
			}

			check(t, s.Delete(ctx, "ws_a", refundEN.ID))
			code(t, s.Delete(ctx, "ws_a", refundEN.ID), starpost.ENOTFOUND)
			if got := shortcuts(canned.Filter{}); got != "refund:zh,vip:" {
				t.Errorf("after delete: %s", got)
			}
		})
	}
}

func FuzzShortcut(f *testing.F) {
	for _, s := range []string{"/refund", "退款", "a b", "/", "", "ÀÉ", "x/y", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := canned.NormalizeShortcut(s)
		if canned.ValidShortcut(n) != nil {
			return
		}
		// A valid shortcut is a fixed point, one token without spaces or
		// slashes, as the composer's "/word" match expects.
		if canned.NormalizeShortcut(n) != n || strings.ContainsAny(n, " /\t\n") {
			t.Fatalf("valid shortcut %q from %q", n, s)
		}
	})
}
