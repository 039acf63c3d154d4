package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

// pg is one PostgreSQL server for the whole package; every test gets its
// own database on it.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// tickClock is a deterministic clock: every reading is one millisecond
// after the previous one.
type tickClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *tickClock {
	return &tickClock{t: time.Date(2025, 11, 11, 9, 0, 0, 0, time.UTC)}
}

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// backend opens stores of one kind.
type backend = pgtest.Backend

var backends = pgtest.Backends(&pg)

// eachBackend runs fn as a subtest against every backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

func openDSN(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, newClock(), nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if got := starpost.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if field != "" && starpost.ErrorField(err) != field {
		t.Fatalf("error %v: field %q, want %q", err, starpost.ErrorField(err), field)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixture is a workspace with a site, a skill, a queue, two agents and a
// contact.
type fixture struct {
	ws             *starpost.Workspace
	site           *starpost.Site
	skill          *starpost.Skill
	queue          *starpost.Queue
	agent1, agent2 *starpost.User
	contact        *starpost.Contact
}

func newFixture(t *testing.T, db *store.DB, name string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{ws: &starpost.Workspace{Name: name}}
	must(t, db.CreateWorkspace(ctx, f.ws))
	f.site = &starpost.Site{WorkspaceID: f.ws.ID, Name: "Home", TimeZone: "Asia/Shanghai"}
	must(t, db.CreateSite(ctx, f.site))
	f.skill = &starpost.Skill{WorkspaceID: f.ws.ID, Name: "billing"}
	must(t, db.CreateSkill(ctx, f.skill))
	f.queue = &starpost.Queue{WorkspaceID: f.ws.ID, Name: "Billing", Priority: 5,
		Skills: []starpost.SkillRequired{{SkillID: f.skill.ID, MinLevel: 2}}}
	must(t, db.CreateQueue(ctx, f.queue))
	for i, u := range []**starpost.User{&f.agent1, &f.agent2} {
		*u = &starpost.User{WorkspaceID: f.ws.ID, Email: fmt.Sprintf("agent%d@%s.example", i+1, name), Name: fmt.Sprintf("Agent %d", i+1),
			Role: starpost.RoleAgent, SiteID: f.site.ID, Skills: []starpost.Skilled{{SkillID: f.skill.ID, Level: 3}}}
		must(t, db.CreateUser(ctx, *u, "hash"))
	}
	var err error
	f.contact, err = db.FindOrCreateContact(ctx, f.ws.ID, starpost.ChannelChat, "visitor-1", "Visitor")
	must(t, err)
	return f
}

// created returns a KindCreated event for a new conversation of f.
func (f *fixture) created(key string) *starpost.Event {
	return &starpost.Event{WorkspaceID: f.ws.ID, Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: f.contact.ID},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: f.contact.ID, QueueID: f.queue.ID}), IdempotencyKey: key}
}

func (f *fixture) open(t *testing.T, db *store.DB) string {
	t.Helper()
	out, err := db.Append(context.Background(), f.created(""))
	must(t, err)
	return out[0].ConversationID
}

func message(ws, conv string, actor starpost.Actor, text, key string) *starpost.Event {
	return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindMessage, Actor: actor,
		Body: starpost.MustBody(starpost.MessageBody{Text: text}), IdempotencyKey: key}
}

func (f *fixture) customer() starpost.Actor {
	return starpost.Actor{Role: starpost.RoleCustomer, ID: f.contact.ID}
}

func agent(u *starpost.User) starpost.Actor {
	return starpost.Actor{Role: starpost.RoleAgentParticipant, ID: u.ID}
}

func TestDirectoryValidation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID
		tests := []struct {
			name  string
			call  func() error
			code  string
			field string
		}{
			{"workspace without name", func() error { return db.CreateWorkspace(ctx, &starpost.Workspace{}) }, starpost.EINVALID, "name"},
			{"user without workspace", func() error {
				return db.CreateUser(ctx, &starpost.User{Email: "x@y.z", Name: "X", Role: starpost.RoleAgent}, "")
			}, starpost.EINVALID, "workspace_id"},
			{"user bad email", func() error {
				return db.CreateUser(ctx, &starpost.User{WorkspaceID: ws, Email: "nope", Name: "X", Role: starpost.RoleAgent}, "")
			}, starpost.EINVALID, "email"},
			{"user bad role", func() error {
				return db.CreateUser(ctx, &starpost.User{WorkspaceID: ws, Email: "r@y.z", Name: "X", Role: "boss"}, "")
			}, starpost.EINVALID, "role"},
			{"user unknown skill", func() error {
				return db.CreateUser(ctx, &starpost.User{WorkspaceID: ws, Email: "s@y.z", Name: "X", Role: starpost.RoleAgent,
					Skills: []starpost.Skilled{{SkillID: "sk_nope", Level: 2}}}, "")
			}, starpost.EINVALID, "skills"},
			{"user unknown site", func() error {
				return db.CreateUser(ctx, &starpost.User{WorkspaceID: ws, Email: "t@y.z", Name: "X", Role: starpost.RoleAgent, SiteID: "si_nope"}, "")
			}, starpost.EINVALID, "site_id"},
			{"user in missing workspace", func() error {
				return db.CreateUser(ctx, &starpost.User{WorkspaceID: "ws_nope", Email: "u@y.z", Name: "X", Role: starpost.RoleAgent}, "")
			}, starpost.ENOTFOUND, ""},
			{"duplicate email, other case", func() error {
				return db.CreateUser(ctx, &starpost.User{WorkspaceID: ws, Email: "AGENT1@acme.example", Name: "X", Role: starpost.RoleAgent}, "")
			}, starpost.ECONFLICT, ""},
			{"site bad time zone", func() error {
				return db.CreateSite(ctx, &starpost.Site{WorkspaceID: ws, Name: "S", TimeZone: "Mars/Base"})
			}, starpost.EINVALID, "time_zone"},
			{"skill without name", func() error { return db.CreateSkill(ctx, &starpost.Skill{WorkspaceID: ws}) }, starpost.EINVALID, "name"},
			{"team without name", func() error { return db.CreateTeam(ctx, &starpost.Team{WorkspaceID: ws}) }, starpost.EINVALID, "name"},
			{"queue bad priority", func() error {
				return db.CreateQueue(ctx, &starpost.Queue{WorkspaceID: ws, Name: "Q", Priority: 500})
			}, starpost.EINVALID, "priority"},
			{"queue unknown skill", func() error {
				return db.CreateQueue(ctx, &starpost.Queue{WorkspaceID: ws, Name: "Q", Skills: []starpost.SkillRequired{{SkillID: "sk_nope", MinLevel: 1}}})
			}, starpost.EINVALID, "skills"},
			{"update missing queue", func() error {
				return db.UpdateQueue(ctx, &starpost.Queue{WorkspaceID: ws, ID: "qu_nope", Name: "Q"})
			}, starpost.ENOTFOUND, ""},
			{"update missing user", func() error {
				return db.UpdateUser(ctx, &starpost.User{WorkspaceID: ws, ID: "us_nope", Email: "n@y.z", Name: "X", Role: starpost.RoleAgent})
			}, starpost.ENOTFOUND, ""},
			{"contact bad channel", func() error {
				_, err := db.FindOrCreateContact(ctx, ws, "pigeon", "x", "")
				return err
			}, starpost.EINVALID, "identities"},
			{"token bad role", func() error {
				return db.CreateAPIToken(ctx, &starpost.APIToken{WorkspaceID: ws, Name: "ci", Role: "root"}, "h")
			}, starpost.EINVALID, "role"},
			{"duplicate workspace id", func() error {
				return db.CreateWorkspace(ctx, &starpost.Workspace{ID: ws, Name: "again"})
			}, starpost.ECONFLICT, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
	})
}

func TestDirectoryCRUD(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID

		got, err := db.FindWorkspace(ctx, ws)
		must(t, err)
		if got.Name != "acme" || !got.CreatedAt.Equal(f.ws.CreatedAt) {
			t.Fatalf("workspace %+v, want %+v", got, f.ws)
		}
		all, err := db.ListWorkspaces(ctx)
		must(t, err)
		if len(all) != 1 || all[0].ID != ws {
			t.Fatalf("workspaces %v", all)
		}

		u, hash, err := db.FindUserByEmail(ctx, "Agent1@ACME.example")
		must(t, err)
		if u.ID != f.agent1.ID || hash != "hash" || u.Skills[0].Level != 3 || u.SiteID != f.site.ID {
			t.Fatalf("by email: %+v %q", u, hash)
		}
		f.agent1.Name, f.agent1.Disabled = "Renamed", true
		f.agent1.Capacity = map[starpost.Channel]int{starpost.ChannelChat: 7}
		must(t, db.UpdateUser(ctx, f.agent1))
		u, err = db.FindUser(ctx, ws, f.agent1.ID)
		must(t, err)
		if u.Name != "Renamed" || !u.Disabled || u.CapacityFor(starpost.ChannelChat) != 7 {
			t.Fatalf("updated user %+v", u)
		}
		if _, hash, _ = db.FindUserByEmail(ctx, u.Email); hash != "hash" {
			t.Fatalf("update lost the password hash")
		}
		f.agent2.Email = f.agent1.Email
		wantCode(t, db.UpdateUser(ctx, f.agent2), starpost.ECONFLICT, "")
		users, err := db.ListUsers(ctx, ws)
		must(t, err)
		if len(users) != 2 {
			t.Fatalf("%d users", len(users))
		}

		must(t, db.CreateTeam(ctx, &starpost.Team{WorkspaceID: ws, Name: "Night"}))
		teams, err := db.ListTeams(ctx, ws)
		must(t, err)
		sites, err := db.ListSites(ctx, ws)
		must(t, err)
		skills, err := db.ListSkills(ctx, ws)
		must(t, err)
		if len(teams) != 1 || len(sites) != 1 || len(skills) != 1 || sites[0].TimeZone != "Asia/Shanghai" {
			t.Fatalf("teams %v sites %v skills %v", teams, sites, skills)
		}

		f.queue.Priority = 9
		f.queue.Overflow = []starpost.OverflowStep{{AfterSeconds: 30, MinLevelDrop: 1}}
		must(t, db.UpdateQueue(ctx, f.queue))
		q, err := db.FindQueue(ctx, ws, f.queue.ID)
		must(t, err)
		if q.Priority != 9 || len(q.Overflow) != 1 || !q.CreatedAt.Equal(f.queue.CreatedAt) {
			t.Fatalf("queue %+v", q)
		}
		qs, err := db.ListQueues(ctx, ws)
		must(t, err)
		if len(qs) != 1 {
			t.Fatalf("%d queues", len(qs))
		}

		c2, err := db.FindOrCreateContact(ctx, ws, starpost.ChannelChat, "visitor-1", "ignored")
		must(t, err)
		if c2.ID != f.contact.ID || c2.Name != "Visitor" || c2.Identities[starpost.ChannelChat] != "visitor-1" {
			t.Fatalf("contact %+v, want %+v", c2, f.contact)
		}
		c3, err := db.FindContact(ctx, ws, f.contact.ID)
		must(t, err)
		if c3.ID != f.contact.ID {
			t.Fatalf("contact %+v", c3)
		}

		tok := &starpost.APIToken{WorkspaceID: ws, Name: "crm", Role: starpost.RoleSupervisor, Secret: "s3cret"}
		must(t, db.CreateAPIToken(ctx, tok, "sha-of-secret"))
		found, err := db.FindAPITokenBySecretHash(ctx, "sha-of-secret")
		must(t, err)
		if found.ID != tok.ID || found.Secret != "" || found.Role != starpost.RoleSupervisor {
			t.Fatalf("token %+v", found)
		}
		toks, err := db.ListAPITokens(ctx, ws)
		must(t, err)
		if len(toks) != 1 {
			t.Fatalf("%d tokens", len(toks))
		}
		must(t, db.DeleteAPIToken(ctx, ws, tok.ID))
		_, err = db.FindAPITokenBySecretHash(ctx, "sha-of-secret")
		wantCode(t, err, starpost.ENOTFOUND, "")
		wantCode(t, db.DeleteAPIToken(ctx, ws, tok.ID), starpost.ENOTFOUND, "")
		must(t, db.Ping(ctx))
	})
}

// TestIsolation checks that no method given workspace A's id reaches an
// object of workspace B.
func TestIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		a, bb := newFixture(t, db, "a"), newFixture(t, db, "b")
		convB := bb.open(t, db)
		tokB := &starpost.APIToken{WorkspaceID: bb.ws.ID, Name: "b", Role: starpost.RoleAdmin}
		must(t, db.CreateAPIToken(ctx, tokB, "hash-b"))
		ws := a.ws.ID

		notFound := []struct {
			name string
			call func() error
		}{
			{"FindUser", func() error { _, err := db.FindUser(ctx, ws, bb.agent1.ID); return err }},
			{"UpdateUser", func() error {
				u := *bb.agent1
				u.WorkspaceID, u.Name = ws, "hijack"
				u.SiteID, u.Skills = "", nil
				return db.UpdateUser(ctx, &u)
			}},
			{"FindQueue", func() error { _, err := db.FindQueue(ctx, ws, bb.queue.ID); return err }},
			{"UpdateQueue", func() error {
				q := *bb.queue
				q.WorkspaceID, q.Skills = ws, nil
				return db.UpdateQueue(ctx, &q)
			}},
			{"FindContact", func() error { _, err := db.FindContact(ctx, ws, bb.contact.ID); return err }},
			{"DeleteAPIToken", func() error { return db.DeleteAPIToken(ctx, ws, tokB.ID) }},
			{"FindConversation", func() error { _, err := db.FindConversation(ctx, ws, convB); return err }},
			{"Append to B's conversation", func() error {
				_, err := db.Append(ctx, message(ws, convB, a.customer(), "hi", ""))
				return err
			}},
			{"presence of B's agent", func() error {
				_, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws, Kind: starpost.KindPresence, Actor: agent(bb.agent1),
					Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceAvailable})})
				return err
			}},
		}
		for _, tt := range notFound {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), starpost.ENOTFOUND, "") })
		}
		// References into another workspace are invalid.
		wantCode(t, db.CreateUser(ctx, &starpost.User{WorkspaceID: ws, Email: "x@a.example", Name: "X", Role: starpost.RoleAgent, SiteID: bb.site.ID}, ""), starpost.EINVALID, "site_id")
		wantCode(t, db.CreateQueue(ctx, &starpost.Queue{WorkspaceID: ws, Name: "Q", Skills: []starpost.SkillRequired{{SkillID: bb.skill.ID, MinLevel: 1}}}), starpost.EINVALID, "skills")
		// A created event may not take an id of another workspace.
		ev := a.created("")
		ev.ConversationID = convB
		_, err := db.Append(ctx, ev)
		wantCode(t, err, starpost.ECONFLICT, "")

		// Lists of A show nothing of B.
		evs, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationID: convB})
		must(t, err)
		evs2, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationIDs: []string{convB}})
		must(t, err)
		convs, err := db.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws})
		must(t, err)
		users, err := db.ListUsers(ctx, ws)
		must(t, err)
		queues, err := db.ListQueues(ctx, ws)
		must(t, err)
		toks, err := db.ListAPITokens(ctx, ws)
		must(t, err)
		if len(evs) != 0 || len(evs2) != 0 || len(convs) != 0 || len(users) != 2 || len(queues) != 1 || len(toks) != 0 {
			t.Fatalf("A sees B: %d events, %d/%d conversations, %d users, %d queues, %d tokens", len(evs)+len(evs2), len(convs), 0, len(users), len(queues), len(toks))
		}
		for _, u := range users {
			if u.WorkspaceID != ws {
				t.Fatalf("user of %s listed in %s", u.WorkspaceID, ws)
			}
		}
		if c, _ := db.LastCursor(ctx, ws); c != 0 {
			t.Fatalf("A's cursor moved to %d", c)
		}
		// B is intact.
		if u, err := db.FindUser(ctx, bb.ws.ID, bb.agent1.ID); err != nil || u.Name == "hijack" {
			t.Fatalf("B's user: %+v %v", u, err)
		}
		if _, err := db.FindAPITokenBySecretHash(ctx, "hash-b"); err != nil {
			t.Fatalf("B's token: %v", err)
		}
		_, err = db.LastCursor(ctx, "ws_nope")
		wantCode(t, err, starpost.ENOTFOUND, "")
	})
}

func TestConversationLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID
		conv := f.open(t, db)
		a1, a2 := agent(f.agent1), agent(f.agent2)
		steps := []struct {
			name  string
			event *starpost.Event
			state starpost.State
			agent string
		}{
			{"offer", &starpost.Event{Kind: starpost.KindOffer, Actor: starpost.System,
				Body: starpost.MustBody(starpost.OfferBody{AgentID: f.agent1.ID})}, starpost.StateOffered, ""},
			{"accept", &starpost.Event{Kind: starpost.KindAssigned, Actor: a1,
				Body: starpost.MustBody(starpost.AssignedBody{AgentID: f.agent1.ID, By: "accept"})}, starpost.StateAssigned, f.agent1.ID},
			{"customer writes", message(ws, conv, f.customer(), "my bill is wrong", ""), starpost.StateAssigned, f.agent1.ID},
			{"agent answers", message(ws, conv, a1, "let me check", ""), starpost.StateAssigned, f.agent1.ID},
			{"transfer", &starpost.Event{Kind: starpost.KindTransferred, Actor: a1,
				Body: starpost.MustBody(starpost.TransferBody{ToAgentID: f.agent2.ID, Note: "VIP"})}, starpost.StateAssigned, f.agent2.ID},
			{"second agent answers", message(ws, conv, a2, "fixed", ""), starpost.StateAssigned, f.agent2.ID},
			{"resolve", &starpost.Event{Kind: starpost.KindState, Actor: a2,
				Body: starpost.MustBody(starpost.StateBody{State: starpost.StateResolved})}, starpost.StateResolved, f.agent2.ID},
			{"customer reopens", message(ws, conv, f.customer(), "still wrong", ""), starpost.StateQueued, ""},
			{"close", &starpost.Event{Kind: starpost.KindState, Actor: starpost.System,
				Body: starpost.MustBody(starpost.StateBody{State: starpost.StateClosed})}, starpost.StateClosed, ""},
		}
		for i, s := range steps {
			s.event.WorkspaceID, s.event.ConversationID = ws, conv
			out, err := db.Append(ctx, s.event)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if out[0].Seq != int64(i+2) || out[0].Cursor != int64(i+2) || out[0].At.IsZero() {
				t.Fatalf("%s: seq %d cursor %d at %v", s.name, out[0].Seq, out[0].Cursor, out[0].At)
			}
			c, err := db.FindConversation(ctx, ws, conv)
			must(t, err)
			if c.State != s.state || c.AgentID != s.agent || c.LastSeq != int64(i+2) {
				t.Fatalf("after %s: state %s agent %q seq %d, want %s %q %d", s.name, c.State, c.AgentID, c.LastSeq, s.state, s.agent, i+2)
			}
		}
		c, err := db.FindConversation(ctx, ws, conv)
		must(t, err)
		if c.FirstResponseAt == nil || c.LastCustomerMessageAt == nil || len(c.Participants) != 3 {
			t.Fatalf("projection %+v", c)
		}
		// Writing to a closed conversation conflicts and writes nothing.
		_, err = db.Append(ctx, message(ws, conv, f.customer(), "hello?", ""))
		wantCode(t, err, starpost.ECONFLICT, "")
		evs, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationID: conv})
		must(t, err)
		if len(evs) != len(steps)+1 {
			t.Fatalf("%d events, want %d", len(evs), len(steps)+1)
		}
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
		}
		if last, _ := db.LastCursor(ctx, ws); last != int64(len(steps)+1) {
			t.Fatalf("last cursor %d", last)
		}
		closed, err := db.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws, States: []starpost.State{starpost.StateClosed}})
		must(t, err)
		open, err := db.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws, Open: true})
		must(t, err)
		if len(closed) != 1 || len(open) != 0 {
			t.Fatalf("closed %d open %d", len(closed), len(open))
		}
	})
}

// TestAppendRejects covers calls that fail before or inside the batch and
// must leave no trace.
func TestAppendRejects(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID
		conv := f.open(t, db)
		tests := []struct {
			name   string
			events []*starpost.Event
			code   string
		}{
			{"ephemeral typing", []*starpost.Event{{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindTyping, Actor: f.customer()}}, starpost.EINVALID},
			{"bad body", []*starpost.Event{{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindMessage, Actor: f.customer(), Body: []byte(`{"text":""}`)}}, starpost.EINVALID},
			{"unknown conversation", []*starpost.Event{message(ws, "cv_nope", f.customer(), "x", "")}, starpost.ENOTFOUND},
			{"unknown workspace", []*starpost.Event{{WorkspaceID: "ws_nope", Kind: starpost.KindDirectory, Actor: starpost.System, Body: []byte(`{}`)}}, starpost.ENOTFOUND},
			{"second event conflicts: none stored", []*starpost.Event{
				message(ws, conv, f.customer(), "ok", "k-atomic"),
				{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindOfferEnd, Actor: starpost.System, Body: starpost.MustBody(starpost.OfferEndBody{AgentID: "x"})},
			}, starpost.ECONFLICT},
			{"presence of unknown user", []*starpost.Event{{WorkspaceID: ws, Kind: starpost.KindPresence, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "us_nope"},
				Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceBusy})}}, starpost.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.Append(ctx, tt.events...)
				wantCode(t, err, tt.code, "")
				if last, _ := db.LastCursor(ctx, ws); last != 1 {
					t.Fatalf("cursor moved to %d", last)
				}
				c, err := db.FindConversation(ctx, ws, conv)
				must(t, err)
				if c.LastSeq != 1 {
					t.Fatalf("conversation seq moved to %d", c.LastSeq)
				}
			})
		}
	})
}

// TestBatchSavepoints commits several calls in one batch: the failing ones
// leave no trace and the others commit, also when they touch the same
// conversation as a failed call.
func TestBatchSavepoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID
		conv := f.open(t, db)
		offer := func(agentID string) *starpost.Event {
			return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindOffer, Actor: starpost.System,
				Body: starpost.MustBody(starpost.OfferBody{AgentID: agentID})}
		}
		out, errs := db.AppendBatchForTest(ctx,
			[]*starpost.Event{message(ws, conv, f.customer(), "one", "")},                   // ok: seq 2
			[]*starpost.Event{offer(f.agent1.ID), message(ws, conv, f.customer(), "x", "")}, // ok: seq 3, 4
			[]*starpost.Event{offer(f.agent2.ID)},                                           // conflict: already offered
			[]*starpost.Event{message(ws, conv, f.customer(), "two", ""), &starpost.Event{ // conflict in 2nd event: whole call fails
				WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindOfferEnd, Actor: starpost.System,
				Body: starpost.MustBody(starpost.OfferEndBody{AgentID: "someone-else"})}},
			[]*starpost.Event{f.created("")},                                    // ok: new conversation
			[]*starpost.Event{message(ws, conv, f.customer(), "three", "")},     // ok: seq 5
			[]*starpost.Event{f.created("same-batch"), f.created("same-batch")}, // one new conversation
		)
		wantErr := []string{"", "", starpost.ECONFLICT, starpost.ECONFLICT, "", "", ""}
		for i, code := range wantErr {
			if starpost.ErrorCode(errs[i]) != code {
				t.Fatalf("call %d: %v, want %q", i, errs[i], code)
			}
		}
		if out[5][0].Seq != 5 || out[1][1].Seq != 4 {
			t.Fatalf("seqs %d %d", out[1][1].Seq, out[5][0].Seq)
		}
		if out[6][0].Cursor != out[6][1].Cursor || out[6][0].ConversationID != out[6][1].ConversationID {
			t.Fatalf("same key in one call stored twice: %+v %+v", out[6][0], out[6][1])
		}
		c, err := db.FindConversation(ctx, ws, conv)
		must(t, err)
		if c.State != starpost.StateOffered || c.OfferedTo != f.agent1.ID || c.LastSeq != 5 {
			t.Fatalf("conversation %s to %s seq %d", c.State, c.OfferedTo, c.LastSeq)
		}
		evs, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws})
		must(t, err)
		// 1 created + 4 on conv + 1 created + 1 created (same key).
		if len(evs) != 7 {
			t.Fatalf("%d events stored, want 7", len(evs))
		}
		for i, e := range evs {
			if e.Cursor != int64(i+1) {
				t.Fatalf("cursor gap: event %d has cursor %d", i, e.Cursor)
			}
		}
	})
}

func TestIdempotency(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID

		first, err := db.Append(ctx, f.created("open-1"))
		must(t, err)
		again, err := db.Append(ctx, f.created("open-1"))
		must(t, err)
		if first[0].Cursor != again[0].Cursor || first[0].ConversationID != again[0].ConversationID || !first[0].At.Equal(again[0].At) {
			t.Fatalf("retry returned %+v, original %+v", again[0], first[0])
		}
		conv := first[0].ConversationID

		const n = 20
		var wg sync.WaitGroup
		results := make([]*starpost.Event, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := db.Append(ctx, message(ws, conv, f.customer(), "once", "msg-1"))
				errs[i] = err
				if err == nil {
					results[i] = out[0]
				}
			}()
		}
		wg.Wait()
		for i := range n {
			must(t, errs[i])
			if results[i].Cursor != results[0].Cursor || results[i].Seq != 2 {
				t.Fatalf("retry %d: cursor %d seq %d, want %d 2", i, results[i].Cursor, results[i].Seq, results[0].Cursor)
			}
		}
		evs, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, Kinds: []starpost.EventKind{starpost.KindMessage}})
		must(t, err)
		if len(evs) != 1 || evs[0].IdempotencyKey != "msg-1" || string(evs[0].Body) != `{"text":"once"}` {
			t.Fatalf("stored %d messages: %+v", len(evs), evs)
		}
		convs, err := db.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws})
		must(t, err)
		if len(convs) != 1 {
			t.Fatalf("%d conversations", len(convs))
		}
		// The key is per workspace: another workspace may use it.
		g := newFixture(t, db, "globex")
		out, err := db.Append(ctx, g.created("open-1"))
		must(t, err)
		if out[0].WorkspaceID != g.ws.ID || out[0].Cursor != 1 {
			t.Fatalf("other workspace got %+v", out[0])
		}
	})
}

// TestConcurrentAppend appends from 50 goroutines to 10 conversations.
func TestConcurrentAppend(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID
		const convs, workers, each = 10, 50, 8
		ids := make([]string, convs)
		for i := range ids {
			ids[i] = f.open(t, db)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		acked := map[int64]*starpost.Event{}
		errc := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					out, err := db.Append(ctx, message(ws, ids[w%convs], f.customer(), fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("w%d-%d", w, i)))
					if err != nil {
						errc <- err
						return
					}
					mu.Lock()
					if acked[out[0].Cursor] != nil {
						mu.Unlock()
						errc <- fmt.Errorf("cursor %d acknowledged twice", out[0].Cursor)
						return
					}
					acked[out[0].Cursor] = out[0]
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		total := int64(convs + workers*each)
		if last, _ := db.LastCursor(ctx, ws); last != total {
			t.Fatalf("last cursor %d, want %d", last, total)
		}
		var all []*starpost.Event
		for after := int64(0); ; {
			page, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, AfterCursor: after, Limit: 100})
			must(t, err)
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1].Cursor
		}
		if int64(len(all)) != total {
			t.Fatalf("%d events, want %d", len(all), total)
		}
		seqs := map[string]int64{}
		for i, e := range all {
			if e.Cursor != int64(i+1) {
				t.Fatalf("cursor gap at %d: %d", i, e.Cursor)
			}
			seqs[e.ConversationID]++
			if e.Seq != seqs[e.ConversationID] {
				t.Fatalf("conversation %s: seq %d, want %d", e.ConversationID, e.Seq, seqs[e.ConversationID])
			}
			if a := acked[e.Cursor]; a != nil && (a.IdempotencyKey != e.IdempotencyKey || a.Seq != e.Seq || string(a.Body) != string(e.Body)) {
				t.Fatalf("acknowledged %+v, stored %+v", a, e)
			}
		}
		for _, id := range ids {
			c, err := db.FindConversation(ctx, ws, id)
			must(t, err)
			if c.LastSeq != seqs[id] || c.LastSeq != 1+workers/convs*each {
				t.Fatalf("conversation %s last seq %d, events %d", id, c.LastSeq, seqs[id])
			}
		}
		if s := db.Stats(); s.Events != total || s.Calls != total {
			t.Fatalf("stats %+v", s)
		}
	})
}

func TestReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.DSN(t)
		ctx := context.Background()
		db, err := store.Open(ctx, dsn, newClock(), nil)
		must(t, err)
		f := newFixture(t, db, "acme")
		conv := f.open(t, db)
		out, err := db.Append(ctx, message(f.ws.ID, conv, f.customer(), "persist me", "p-1"))
		must(t, err)
		must(t, db.Close())
		_, err = db.Append(ctx, message(f.ws.ID, conv, f.customer(), "closed", ""))
		wantCode(t, err, starpost.EUNAVAILABLE, "")

		db2 := openDSN(t, dsn) // migrations run again: nothing to do
		evs, err := db2.ListEvents(ctx, starpost.EventFilter{WorkspaceID: f.ws.ID, ConversationID: conv})
		must(t, err)
		if len(evs) != 2 || evs[1].Cursor != out[0].Cursor || !evs[1].At.Equal(out[0].At) || string(evs[1].Body) != string(out[0].Body) {
			t.Fatalf("after reopen: %+v", evs)
		}
		again, err := db2.Append(ctx, message(f.ws.ID, conv, f.customer(), "persist me", "p-1"))
		must(t, err)
		if again[0].Cursor != out[0].Cursor {
			t.Fatalf("retry after reopen stored again: %d vs %d", again[0].Cursor, out[0].Cursor)
		}
		u, _, err := db2.FindUserByEmail(ctx, f.agent1.Email)
		must(t, err)
		if u.ID != f.agent1.ID {
			t.Fatalf("user %+v", u)
		}
	})
}

func TestPresence(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID
		presence := func(u *starpost.User, p starpost.Presence) *starpost.Event {
			return &starpost.Event{WorkspaceID: ws, Kind: starpost.KindPresence, Actor: agent(u), Body: starpost.MustBody(starpost.PresenceBody{Presence: p})}
		}
		got, err := db.Presence(ctx, ws)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("presence before any event: %v", got)
		}
		_, err = db.Append(ctx, presence(f.agent1, starpost.PresenceAvailable), presence(f.agent2, starpost.PresenceBreak))
		must(t, err)
		out, err := db.Append(ctx, presence(f.agent1, starpost.PresenceBusy))
		must(t, err)
		if out[0].Seq != 0 || out[0].ConversationID != "" || out[0].Cursor != 3 {
			t.Fatalf("workspace event %+v", out[0])
		}
		got, err = db.Presence(ctx, ws)
		must(t, err)
		want := map[string]starpost.Presence{f.agent1.ID: starpost.PresenceBusy, f.agent2.ID: starpost.PresenceBreak}
		if len(got) != 2 {
			t.Fatalf("presence %v", got)
		}
		for _, p := range got {
			if want[p.AgentID] != p.Presence {
				t.Fatalf("presence %v, want %v", got, want)
			}
			if p.AgentID == f.agent1.ID && !p.Since.Equal(out[0].At) {
				t.Fatalf("since %v, want %v", p.Since, out[0].At)
			}
		}
		_, err = db.Append(ctx, &starpost.Event{WorkspaceID: ws, ConversationID: "cv_x", Kind: starpost.KindPresence, Actor: agent(f.agent1),
			Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceBusy})})
		wantCode(t, err, starpost.EINVALID, "conversation_id")
	})
}

func TestListEventsPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		ws := f.ws.ID
		c1, c2 := f.open(t, db), f.open(t, db)
		for i := range 10 {
			conv := c1
			if i%2 == 1 {
				conv = c2
			}
			_, err := db.Append(ctx, message(ws, conv, f.customer(), fmt.Sprint(i), ""))
			must(t, err)
		}
		tests := []struct {
			name    string
			filter  starpost.EventFilter
			cursors []int64
		}{
			{"first page", starpost.EventFilter{WorkspaceID: ws, Limit: 3}, []int64{1, 2, 3}},
			{"after cursor", starpost.EventFilter{WorkspaceID: ws, AfterCursor: 9, Limit: 3}, []int64{10, 11, 12}},
			{"one conversation", starpost.EventFilter{WorkspaceID: ws, ConversationID: c2, AfterCursor: 4}, []int64{6, 8, 10, 12}},
			{"kinds", starpost.EventFilter{WorkspaceID: ws, Kinds: []starpost.EventKind{starpost.KindCreated}}, []int64{1, 2}},
			{"conversation ids", starpost.EventFilter{WorkspaceID: ws, ConversationIDs: []string{c1}, AfterCursor: 8}, []int64{9, 11}},
			{"past the end", starpost.EventFilter{WorkspaceID: ws, AfterCursor: 12}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				evs, err := db.ListEvents(ctx, tt.filter)
				must(t, err)
				var got []int64
				for _, e := range evs {
					got = append(got, e.Cursor)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.cursors) {
					t.Fatalf("cursors %v, want %v", got, tt.cursors)
				}
			})
		}
		_, err := db.ListEvents(ctx, starpost.EventFilter{})
		wantCode(t, err, starpost.EINVALID, "workspace_id")
	})
}

// TestCancelledBeforeBatch: a caller whose context is done is never
// written.
func TestCancelledBeforeBatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		f := newFixture(t, db, "acme")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, errs := db.AppendBatchForTest(ctx, []*starpost.Event{f.created("")})
		if errs[0] != context.Canceled {
			t.Fatalf("err %v", errs[0])
		}
		if last, _ := db.LastCursor(context.Background(), f.ws.ID); last != 0 {
			t.Fatalf("cursor %d", last)
		}
	})
}

// TestSeveralNodes opens the same database from several stores at once (as
// several nodes or processes do) and appends through all of them: the
// migrations run once, cursors stay gapless and unique, seqs stay gapless,
// and an idempotency key shared by the nodes is stored once.
func TestSeveralNodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.DSN(t)
		ctx := context.Background()
		const nodes = 3
		dbs := make([]*store.DB, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dbs[i], errs[i] = store.Open(ctx, dsn, newClock(), nil)
			}()
		}
		wg.Wait()
		for i := range nodes {
			must(t, errs[i])
			t.Cleanup(func() { dbs[i].Close() })
		}
		f := newFixture(t, dbs[0], "acme")
		ws := f.ws.ID
		convs := []string{f.open(t, dbs[0]), f.open(t, dbs[1])}
		const workers, each = 12, 10
		errc := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := dbs[w%nodes]
				for i := range each {
					// Keys shared by pairs of workers on different nodes.
					key := fmt.Sprintf("k-%d-%d", w/2, i)
					if _, err := db.Append(ctx, message(ws, convs[(w/2)%2], f.customer(), key, key)); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		evs, err := dbs[2].ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws})
		must(t, err)
		want := 2 + workers/2*each
		if len(evs) != want {
			t.Fatalf("%d events, want %d", len(evs), want)
		}
		seqs := map[string]int64{}
		keys := map[string]bool{}
		for i, e := range evs {
			seqs[e.ConversationID]++
			if e.Cursor != int64(i+1) || e.Seq != seqs[e.ConversationID] {
				t.Fatalf("event %d: cursor %d seq %d", i, e.Cursor, e.Seq)
			}
			if e.IdempotencyKey != "" && keys[e.IdempotencyKey] {
				t.Fatalf("key %s stored twice", e.IdempotencyKey)
			}
			keys[e.IdempotencyKey] = true
		}
	})
}

// TestSQLiteDurability checks the settings behind durability: WAL with
// synchronous=FULL for every write through the shared connection (the
// committer's batches use NORMAL and fsync the WAL themselves before
// answering, see TestSQLiteAnswersAfterWALSync), and foreign keys on.
func TestSQLiteDurability(t *testing.T) {
	db := openDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	ctx := context.Background()
	// After a batch too: the committer's NORMAL must not leak to others.
	ws := &starpost.Workspace{Name: "d"}
	must(t, db.CreateWorkspace(ctx, ws))
	_, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct", QueueID: "q"})})
	must(t, err)
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"foreign_keys", "1"},
	} {
		var got string
		must(t, db.SQL().QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got))
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
	if db.Driver() != "sqlite" {
		t.Fatalf("driver %s", db.Driver())
	}
}

// TestPreferences: a user's own settings start empty, are replaced whole,
// survive an update of the user by an admin and stay in their workspace.
func TestPreferences(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDSN(t, b.DSN(t))
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		other := newFixture(t, db, "other")
		p, err := db.Preferences(ctx, f.ws.ID, f.agent1.ID)
		must(t, err)
		if p.MaskAbuse != nil {
			t.Fatalf("new user's preferences %+v", p)
		}
		off := false
		must(t, db.SetPreferences(ctx, f.ws.ID, f.agent1.ID, &starpost.Preferences{MaskAbuse: &off}))
		f.agent1.Name = "Renamed"
		must(t, db.UpdateUser(ctx, f.agent1))
		p, err = db.Preferences(ctx, f.ws.ID, f.agent1.ID)
		must(t, err)
		if p.MaskAbuse == nil || *p.MaskAbuse {
			t.Fatalf("preferences after set and user update %+v", p)
		}
		if p, err := db.Preferences(ctx, f.ws.ID, f.agent2.ID); err != nil || p.MaskAbuse != nil {
			t.Fatalf("another user's preferences %+v, %v", p, err)
		}
		_, err = db.Preferences(ctx, other.ws.ID, f.agent1.ID)
		wantCode(t, err, starpost.ENOTFOUND, "")
		wantCode(t, db.SetPreferences(ctx, other.ws.ID, f.agent1.ID, &starpost.Preferences{}), starpost.ENOTFOUND, "")
	})
}
