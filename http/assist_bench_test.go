package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/auth"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/emotion"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/store"
)

// BenchmarkWellbeing measures GET /api/v1/me/wellbeing in a workspace whose
// day so far holds `events` events (1 % of them coaching or alerts, spread
// over 200 conversations and 20 agents), after a previous day of as many:
// warm, a node that counted the day before scans only what is new; cold,
// the binary search for the day's first cursor plus the scan of the day's
// hostile events.
func BenchmarkWellbeing(b *testing.B) {
	for _, events := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("events=%d", events), func(b *testing.B) {
			ctx := context.Background()
			clock := newClock()
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "starpost.db"), clock, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			bs, err := bus.Open(ctx, bus.Options{Store: db})
			if err != nil {
				b.Fatal(err)
			}
			defer bs.Close()
			ws := &starpost.Workspace{Name: "bench"}
			if err := db.CreateWorkspace(ctx, ws); err != nil {
				b.Fatal(err)
			}
			hash, _ := auth.HashPassword(testPassword)
			var agents []*starpost.User
			for i := range 20 {
				u := &starpost.User{WorkspaceID: ws.ID, Email: fmt.Sprintf("a%d@bench.test", i), Name: "a", Role: starpost.RoleAgent,
					Skills: []starpost.Skilled{}, Capacity: map[starpost.Channel]int{}}
				if err := db.CreateUser(ctx, u, hash); err != nil {
					b.Fatal(err)
				}
				agents = append(agents, u)
			}
			q := &starpost.Queue{WorkspaceID: ws.ID, Name: "q", Skills: []starpost.SkillRequired{}, Overflow: []starpost.OverflowStep{}}
			if err := db.CreateQueue(ctx, q); err != nil {
				b.Fatal(err)
			}
			var convs []string
			for i := range 200 {
				ct, err := db.FindOrCreateContact(ctx, ws.ID, starpost.ChannelChat, fmt.Sprint("c", i), "c")
				if err != nil {
					b.Fatal(err)
				}
				evs, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: starpost.System,
					Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: ct.ID, QueueID: q.ID})})
				if err != nil {
					b.Fatal(err)
				}
				convs = append(convs, evs[0].ConversationID)
			}
			fillDay := func() {
				batch := make([]*starpost.Event, 0, 500)
				for i := range events {
					conv := convs[i%len(convs)]
					e := &starpost.Event{WorkspaceID: ws.ID, ConversationID: conv, Kind: starpost.KindNote,
						Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agents[i%len(agents)].ID},
						Body:  starpost.MustBody(starpost.MessageBody{Text: "note"})}
					if i%100 == 0 {
						e = &starpost.Event{WorkspaceID: ws.ID, ConversationID: conv, Kind: emotion.KindCoaching,
							Actor: starpost.Actor{Role: starpost.RoleSystem, ID: emotion.EngineName},
							Body:  starpost.MustBody(emotion.CoachingBody{AgentID: agents[(i/100)%len(agents)].ID, Reason: "escalating"})}
					}
					if batch = append(batch, e); len(batch) == cap(batch) || i == events-1 {
						if _, err := db.Append(ctx, batch...); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
			}
			fillDay()
			clock.Advance(24 * time.Hour)
			fillDay()

			srv := &sphttp.Server{Store: db, Bus: bs, Clock: clock, Secret: []byte("0123456789abcdef0123456789abcdef-test")}
			h := srv.Handler()
			login := httptest.NewRecorder()
			h.ServeHTTP(login, httptest.NewRequest("POST", "/api/v1/login",
				strings.NewReader(`{"email":"a0@bench.test","password":"`+testPassword+`"}`)))
			if login.Code != 200 {
				b.Fatalf("login: %d %s", login.Code, login.Body)
			}
			cookies := login.Result().Cookies()
			get := func() *httptest.ResponseRecorder {
				r := httptest.NewRequest("GET", "/api/v1/me/wellbeing", nil)
				for _, c := range cookies {
					r.AddCookie(c)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			if w := get(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"hostile":`) || strings.Contains(w.Body.String(), `"hostile":0,`) {
				b.Fatalf("wellbeing: %d %s", w.Code, w.Body)
			}
			// warm: the node counted the day before (the usual request, after
			// each coaching event); cold: the day's first request on a node.
			b.Run("warm", func(b *testing.B) {
				for b.Loop() {
					if w := get(); w.Code != http.StatusOK {
						b.Fatal(w.Code)
					}
				}
			})
			b.Run("cold", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					h = (&sphttp.Server{Store: db, Bus: bs, Clock: clock, Secret: srv.Secret}).Handler()
					b.StartTimer()
					if w := get(); w.Code != http.StatusOK {
						b.Fatal(w.Code)
					}
				}
			})
		})
	}
}
