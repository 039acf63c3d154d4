package router

import (
	"testing"
	"time"

	"github.com/starpost/starpost"
)

var chat1 = map[starpost.Channel]int{starpost.ChannelChat: 1}

// available makes agents available (they are connected by default).
func (h *harness) available(ids ...string) {
	for _, id := range ids {
		h.setPresence(id, starpost.PresenceAvailable)
	}
}

func TestQueueOrder(t *testing.T) {
	type arrival struct {
		queue string
		prio  int
	}
	tests := []struct {
		name     string
		arrivals []arrival // in arrival order, one second apart
		want     int       // index of the arrival offered first
	}{
		{"longest waiting first", []arrival{{"low", 0}, {"low", 0}}, 0},
		{"conversation priority beats waiting", []arrival{{"low", 0}, {"low", 5}}, 1},
		{"queue priority beats conversation priority", []arrival{{"low", 9}, {"high", 0}}, 1},
		{"queue priority, then conversation priority", []arrival{{"high", 0}, {"low", 9}, {"high", 3}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.setQueue(&starpost.Queue{ID: "low", Name: "low", Priority: 1})
			h.setQueue(&starpost.Queue{ID: "high", Name: "high", Priority: 10})
			h.setAgent(agentUser("a1", "", chat1))
			var ids []string
			for _, a := range tt.arrivals {
				ids = append(ids, h.arrive(a.queue, starpost.ChannelChat, a.prio))
				h.now = h.now.Add(time.Second)
			}
			h.decide(0) // nobody available yet
			h.available("a1")
			got := offers(h.decide(time.Second))
			if len(got) != 1 || got[ids[tt.want]] != "a1" {
				t.Fatalf("offers = %v, want %s to a1", got, ids[tt.want])
			}
		})
	}
}

func TestSkillLevels(t *testing.T) {
	tests := []struct {
		name   string
		skills []starpost.Skilled
		want   bool
	}{
		{"exact minimum", []starpost.Skilled{sk("billing", 3), sk("zh", 2)}, true},
		{"above minimum", []starpost.Skilled{sk("billing", 5), sk("zh", 5)}, true},
		{"one skill below minimum", []starpost.Skilled{sk("billing", 2), sk("zh", 5)}, false},
		{"one skill missing", []starpost.Skilled{sk("billing", 5)}, false},
		{"no skills", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.setQueue(&starpost.Queue{ID: "q", Name: "q", Skills: []starpost.SkillRequired{req("billing", 3), req("zh", 2)}})
			h.setAgent(agentUser("a1", "", nil, tt.skills...))
			h.available("a1")
			id := h.arrive("q", starpost.ChannelChat, 0)
			got := offers(h.decide(time.Second))
			if (got[id] == "a1") != tt.want {
				t.Fatalf("offers = %v, want offered %v", got, tt.want)
			}
		})
	}
}

func TestAgentChoice(t *testing.T) {
	tests := []struct {
		name     string
		strategy Strategy
		// agents in the order they become available (earliest = longest
		// idle); level of skill s, and chats already held.
		agents []struct {
			id    string
			level int
			held  int
		}
		want string
	}{
		{"best proficiency beats idle", LongestIdle, []struct {
			id    string
			level int
			held  int
		}{{"a1", 3, 0}, {"a2", 5, 0}}, "a2"},
		{"equal proficiency: longest idle", LongestIdle, []struct {
			id    string
			level int
			held  int
		}{{"a1", 4, 0}, {"a2", 4, 0}}, "a1"},
		{"longest idle ignores load", LongestIdle, []struct {
			id    string
			level int
			held  int
		}{{"a1", 4, 0}, {"a2", 4, 2}}, "a1"},
		{"least occupied beats idle", LeastOccupied, []struct {
			id    string
			level int
			held  int
		}{{"a1", 4, 2}, {"a2", 4, 0}}, "a2"},
		{"least occupied: proficiency first", LeastOccupied, []struct {
			id    string
			level int
			held  int
		}{{"a1", 5, 2}, {"a2", 4, 0}}, "a1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, WithStrategy(tt.strategy), WithoutQueueStatus())
			h.setQueue(&starpost.Queue{ID: "q", Name: "q", Skills: []starpost.SkillRequired{req("s", 1)}})
			h.setQueue(&starpost.Queue{ID: "other", Name: "other"})
			for _, a := range tt.agents {
				h.setAgent(agentUser(a.id, "", map[starpost.Channel]int{starpost.ChannelChat: 4}, sk("s", a.level)))
			}
			// Load agents with conversations of another queue, each
			// accepted; then make them available in order.
			for _, a := range tt.agents {
				for range a.held {
					id := h.arrive("other", starpost.ChannelChat, 0)
					h.must(&starpost.Event{ConversationID: id, Kind: starpost.KindAssigned, Actor: starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: "sup"},
						Body: starpost.MustBody(starpost.AssignedBody{AgentID: a.id, By: "force"})})
				}
			}
			for _, a := range tt.agents {
				h.now = h.now.Add(time.Second)
				h.available(a.id)
			}
			id := h.arrive("q", starpost.ChannelChat, 0)
			got := offers(h.decide(time.Second))
			if got[id] != tt.want {
				t.Fatalf("offered to %q, want %q (all offers %v)", got[id], tt.want, got)
			}
		})
	}
}

func TestCapacityPerChannel(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus())
	h.setQueue(&starpost.Queue{ID: "q", Name: "q"})
	h.setAgent(agentUser("a1", "", map[starpost.Channel]int{starpost.ChannelChat: 1, starpost.ChannelEmail: 2, starpost.ChannelVoice: 0}))
	h.available("a1")
	c1 := h.arrive("q", starpost.ChannelChat, 0)
	c2 := h.arrive("q", starpost.ChannelChat, 0)
	e1 := h.arrive("q", starpost.ChannelEmail, 0)
	e2 := h.arrive("q", starpost.ChannelEmail, 0)
	e3 := h.arrive("q", starpost.ChannelEmail, 0)
	v1 := h.arrive("q", starpost.ChannelVoice, 0)
	got := offers(h.decide(time.Second))
	want := map[string]string{c1: "a1", e1: "a1", e2: "a1"}
	if len(got) != len(want) {
		t.Fatalf("offers = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("offers = %v, want %v", got, want)
		}
	}
	// Accepting does not free capacity; resolving does.
	for _, id := range []string{c1, e1, e2} {
		if err := h.accept(id, "a1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := offers(h.decide(time.Second)); len(got) != 0 {
		t.Fatalf("offers while full = %v", got)
	}
	if err := h.setState(c1, starpost.StateResolved, "a1"); err != nil {
		t.Fatal(err)
	}
	if got := offers(h.decide(time.Second)); got[c2] != "a1" || len(got) != 1 {
		t.Fatalf("offers after resolve = %v, want %s", got, c2)
	}
	_, _ = e3, v1
}

func TestOfferTimeout(t *testing.T) {
	tests := []struct {
		name   string
		agents []string
		// want lists who gets each successive offer.
		want []string
	}{
		{"re-offered to the next agent", []string{"a1", "a2", "a3"}, []string{"a1", "a2", "a3", "a1"}},
		{"same agent when no one else qualifies", []string{"a1"}, []string{"a1", "a1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, WithoutQueueStatus())
			h.setQueue(&starpost.Queue{ID: "q", Name: "q", OfferTimeout: 20})
			for _, a := range tt.agents {
				h.setAgent(agentUser(a, "", nil))
				h.now = h.now.Add(time.Second)
				h.available(a)
			}
			id := h.arrive("q", starpost.ChannelChat, 0)
			var got []string
			for i := 0; i < 200 && len(got) < len(tt.want); i++ {
				for _, d := range h.decide(time.Second) {
					switch d.Kind {
					case DecideOffer:
						got = append(got, d.AgentID)
					case DecideExpireOffer:
						if d.Reason != "expired" {
							t.Fatalf("offer ended with %q", d.Reason)
						}
						if h.now.Before(h.offerExp[id]) {
							t.Fatalf("offer expired early at %v (expiry %v)", h.now, h.offerExp[id])
						}
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("offers %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("offers %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestDeclineReoffersNext(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus())
	h.setQueue(&starpost.Queue{ID: "q", Name: "q"})
	h.setAgent(agentUser("a1", "", nil))
	h.setAgent(agentUser("a2", "", nil))
	h.available("a1")
	h.now = h.now.Add(time.Second)
	h.available("a2")
	id := h.arrive("q", starpost.ChannelChat, 0)
	if got := offers(h.decide(time.Second)); got[id] != "a1" {
		t.Fatalf("first offer %v", got)
	}
	if err := h.decline(id, "a1"); err != nil {
		t.Fatal(err)
	}
	if got := offers(h.decide(time.Second)); got[id] != "a2" {
		t.Fatalf("second offer %v, want a2", got)
	}
}

// holdOne makes a1 (and a2, the spare agent) available and has a1 accept
// one chat of queue q; it returns the conversation.
func holdOne(t *testing.T, h *harness, q *starpost.Queue) string {
	t.Helper()
	h.setQueue(q)
	h.setAgent(agentUser("a1", "", nil))
	h.setAgent(agentUser("a2", "", nil))
	h.available("a1")
	h.now = h.now.Add(time.Second)
	id := h.arrive(q.ID, starpost.ChannelChat, 0)
	if got := offers(h.decide(time.Second)); got[id] != "a1" {
		t.Fatalf("offer %v", got)
	}
	if err := h.accept(id, "a1"); err != nil {
		t.Fatal(err)
	}
	h.available("a2")
	return id
}

func unassigns(ds []Decision) map[string]string {
	m := map[string]string{}
	for _, d := range ds {
		if d.Kind == DecideUnassign {
			m[d.ConversationID] = d.Reason
		}
	}
	return m
}

func TestGracePeriod(t *testing.T) {
	h := newHarness(t, WithGracePeriod(60*time.Second), WithoutQueueStatus())
	id := holdOne(t, h, &starpost.Queue{ID: "q", Name: "q"})
	h.setConnected("a1", false)
	if got := unassigns(h.decide(59 * time.Second)); len(got) != 0 {
		t.Fatalf("unassigned within grace: %v", got)
	}
	h.setConnected("a1", true) // back in time
	if got := unassigns(h.decide(10 * time.Second)); len(got) != 0 {
		t.Fatalf("unassigned after reconnect: %v", got)
	}
	h.setConnected("a1", false)
	if got := unassigns(h.decide(30 * time.Second)); len(got) != 0 {
		t.Fatalf("unassigned within second grace: %v", got)
	}
	ds := h.decide(30 * time.Second)
	if got := unassigns(ds); got[id] != "disconnected" {
		t.Fatalf("unassigns %v, want %s disconnected", got, id)
	}
	// The conversation goes back to the queue and to the next agent.
	if got := offers(h.decide(time.Second)); got[id] != "a2" {
		t.Fatalf("re-offer %v, want a2", got)
	}
}

func TestOfflineGivesWorkBack(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus())
	id := holdOne(t, h, &starpost.Queue{ID: "q", Name: "q"})
	h.setPresence("a1", starpost.PresenceBreak)
	if got := unassigns(h.decide(time.Second)); len(got) != 0 {
		t.Fatalf("break gives work back: %v", got)
	}
	h.setPresence("a1", starpost.PresenceOffline)
	if got := unassigns(h.decide(time.Second)); got[id] != "offline" {
		t.Fatalf("unassigns %v, want offline", got)
	}
	if got := offers(h.decide(time.Second)); got[id] != "a2" {
		t.Fatalf("re-offer %v, want a2", got)
	}
}

func TestReplyTimeout(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus())
	id := holdOne(t, h, &starpost.Queue{ID: "q", Name: "q", ReplyTimeout: 120})
	if err := h.message(id, starpost.RoleAgentParticipant, "a1"); err != nil {
		t.Fatal(err)
	}
	if got := unassigns(h.decide(300 * time.Second)); len(got) != 0 {
		t.Fatalf("unassigned while the customer had an answer: %v", got)
	}
	if err := h.message(id, starpost.RoleCustomer, "ct"); err != nil {
		t.Fatal(err)
	}
	if got := unassigns(h.decide(119 * time.Second)); len(got) != 0 {
		t.Fatalf("unassigned early: %v", got)
	}
	if got := unassigns(h.decide(time.Second)); got[id] != "reply_timeout" {
		t.Fatalf("unassigns %v, want reply_timeout", got)
	}
	if got := offers(h.decide(time.Second)); got[id] != "a2" {
		t.Fatalf("re-offer %v, want a2 (not the agent who timed out)", got)
	}
}

func TestOverflow(t *testing.T) {
	tests := []struct {
		name  string
		queue starpost.Queue
		agent *starpost.User
		// wantAt is the wait after which the agent gets the offer.
		wantAt time.Duration
	}{
		{"min level drop",
			starpost.Queue{Skills: []starpost.SkillRequired{req("s", 4)}, Overflow: []starpost.OverflowStep{{AfterSeconds: 30, MinLevelDrop: 2}}},
			agentUser("a1", "", nil, sk("s", 2)), 30 * time.Second},
		{"drop never below 1",
			starpost.Queue{Skills: []starpost.SkillRequired{req("s", 2)}, Overflow: []starpost.OverflowStep{{AfterSeconds: 30, MinLevelDrop: 5}}},
			agentUser("a1", "", nil, sk("s", 1)), 30 * time.Second},
		{"any site lifts preferred sites",
			starpost.Queue{Overflow: []starpost.OverflowStep{{AfterSeconds: 0, SiteIDs: []string{"hq"}}, {AfterSeconds: 40, AnySite: true}}},
			agentUser("a1", "town", nil), 40 * time.Second},
		{"site list widens",
			starpost.Queue{Overflow: []starpost.OverflowStep{{AfterSeconds: 0, SiteIDs: []string{"hq"}}, {AfterSeconds: 20, SiteIDs: []string{"hq", "town"}}}},
			agentUser("a1", "town", nil), 20 * time.Second},
		{"preferred site from the start",
			starpost.Queue{Overflow: []starpost.OverflowStep{{AfterSeconds: 0, SiteIDs: []string{"town"}}}},
			agentUser("a1", "town", nil), 0},
		{"overflow queue's agents",
			starpost.Queue{Skills: []starpost.SkillRequired{req("s", 3)}, Overflow: []starpost.OverflowStep{{AfterSeconds: 50, QueueID: "other"}}},
			agentUser("a1", "", nil, sk("t", 3)), 50 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, WithoutQueueStatus())
			q := tt.queue
			q.ID, q.Name = "q", "q"
			h.setQueue(&starpost.Queue{ID: "other", Name: "other", Skills: []starpost.SkillRequired{req("t", 2)}})
			h.setQueue(&q)
			h.setAgent(tt.agent)
			h.available(tt.agent.ID)
			start := h.now
			id := h.arrive("q", starpost.ChannelChat, 0)
			for i := 0; i < 100; i++ {
				if got := offers(h.decide(0)); got[id] != "" {
					if waited := h.now.Sub(start); waited != tt.wantAt {
						t.Fatalf("offered after %v, want %v", waited, tt.wantAt)
					}
					return
				}
				h.now = h.now.Add(time.Second)
			}
			t.Fatal("never offered")
		})
	}
}

func TestQueueStatus(t *testing.T) {
	h := newHarness(t, WithDefaultHandleTime(4*time.Minute))
	h.setQueue(&starpost.Queue{ID: "q", Name: "q", Skills: []starpost.SkillRequired{req("s", 1)}})
	var ids []string
	for range 3 {
		ids = append(ids, h.arrive("q", starpost.ChannelChat, 0))
		h.now = h.now.Add(time.Second)
	}
	h.decide(0)
	for i, id := range ids {
		if got, want := h.statuses[id], (starpost.QueueStatusBody{Position: i + 1, EstimatedWait: -1}); got != want {
			t.Fatalf("status %s = %+v, want %+v (no agent qualifies)", id, got, want)
		}
	}
	// An agent with 2 chat slots arrives but is on break: still -1.
	h.setAgent(agentUser("a1", "", map[starpost.Channel]int{starpost.ChannelChat: 2}, sk("s", 1)))
	if ds := h.decide(time.Second); len(ds) != 0 {
		t.Fatalf("decisions while nothing changed for customers: %v", ds)
	}
	// Available: the first two are offered; the third waits 1 × 240 s / 2
	// slots = 120 s, and is now first in line.
	h.available("a1")
	ds := h.decide(time.Second)
	if got := offers(ds); len(got) != 2 {
		t.Fatalf("offers %v", got)
	}
	// Conversations being offered are out of the line.
	if got, want := h.statuses[ids[2]], (starpost.QueueStatusBody{Position: 1, EstimatedWait: 120}); got != want {
		t.Fatalf("status = %+v, want %+v", got, want)
	}
	for _, id := range ids[:2] {
		if err := h.accept(id, "a1"); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing changed: nothing emitted.
	for _, d := range h.decide(time.Second) {
		t.Fatalf("unexpected decision %s", d.String())
	}
}

func TestInFlightNotDecidedTwice(t *testing.T) {
	h := newHarness(t, WithRetryDelay(5*time.Second), WithoutQueueStatus())
	h.setQueue(&starpost.Queue{ID: "q", Name: "q"})
	h.setAgent(agentUser("a1", "", chat1))
	h.setAgent(agentUser("a2", "", chat1))
	h.available("a1", "a2")
	h.drop = func(Decision) bool { return true } // every commit fails
	id := h.arrive("q", starpost.ChannelChat, 0)
	first := h.decide(0)
	if len(first) != 1 {
		t.Fatalf("decisions %v", first)
	}
	// The reservation keeps a1 (capacity 1) from a second conversation
	// and the mark keeps id from a second offer.
	id2 := h.arrive("q", starpost.ChannelChat, 0)
	if got := offers(h.decide(time.Second)); len(got) != 1 || got[id2] != "a2" {
		t.Fatalf("offers while in flight %v, want only %s to a2", got, id2)
	}
	if got := offers(h.decide(3 * time.Second)); len(got) != 0 {
		t.Fatalf("offers before the retry delay %v", got)
	}
	// After the retry delay the same decision comes again with the same key.
	h.drop = nil
	again := h.decide(time.Second)
	if len(again) != 1 || again[0].Key != first[0].Key || again[0].ConversationID != id {
		t.Fatalf("retry %v, want %v", again, first)
	}
	if v, _ := h.e.Conversation(h.ws, id); v.State != starpost.StateOffered || v.InFlight {
		t.Fatalf("view after commit %+v", v)
	}
}

func TestReplyTimeoutCountsFromFirstUnanswered(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus())
	id := holdOne(t, h, &starpost.Queue{ID: "q", Name: "q", ReplyTimeout: 120})
	if err := h.message(id, starpost.RoleAgentParticipant, "a1"); err != nil {
		t.Fatal(err)
	}
	h.decide(time.Second)
	if err := h.message(id, starpost.RoleCustomer, "ct"); err != nil {
		t.Fatal(err)
	}
	h.decide(60 * time.Second)
	if err := h.message(id, starpost.RoleCustomer, "ct"); err != nil { // "hello?"
		t.Fatal(err)
	}
	if got := unassigns(h.decide(59 * time.Second)); len(got) != 0 {
		t.Fatalf("unassigned early: %v", got)
	}
	if got := unassigns(h.decide(time.Second)); got[id] != "reply_timeout" {
		t.Fatalf("unassigns %v, want reply_timeout 120 s after the first unanswered message", got)
	}
}

func TestUnconfiguredQueue(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus())
	h.setAgent(agentUser("a1", "", nil))
	h.available("a1")
	id := h.arrive("new", starpost.ChannelChat, 0)
	if got := offers(h.decide(time.Second)); len(got) != 0 {
		t.Fatalf("offered before the queue is configured: %v", got)
	}
	if h.e.HasQueue(h.ws, "new") {
		t.Fatal("HasQueue before SetQueue")
	}
	h.setQueue(&starpost.Queue{ID: "new", Name: "new"})
	if got := offers(h.decide(time.Second)); got[id] != "a1" {
		t.Fatalf("offers %v after the queue is configured", got)
	}
	// A bot's hand-over without a queue goes to anyone.
	bot := h.must(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct", State: starpost.StateBot})}).ConversationID
	if err := h.setState(bot, starpost.StateQueued, "bot"); err != nil {
		t.Fatal(err)
	}
	if got := offers(h.decide(time.Second)); got[bot] != "a1" {
		t.Fatalf("offers %v for a bot hand-over", got)
	}
}
