package router

import (
	"fmt"
	"testing"
	"time"

	"github.com/starpost/starpost"
)

// Liveness timing of these tests: heartbeats every 10 s, a link lapses
// after 3 missed ones (30 s), the failover window is the same 30 s, and
// the grace period is 60 s.
const (
	tBeat   = 10 * time.Second
	tWindow = MissedBeats * tBeat
	tGrace  = 60 * time.Second
)

// sig is a connection signal or heartbeat as a node sends it.
type sig struct {
	node   string
	seq    uint64
	agent  string   // an open or close signal
	down   bool     // a close
	agents []string // a heartbeat
	every  time.Duration
}

func (s sig) event(ws string, at time.Time) *starpost.Event {
	b := starpost.ConnectionBody{AgentID: s.agent, Connected: !s.down, Node: s.node, Seq: s.seq,
		EveryMS: s.every.Milliseconds(), AgentIDs: s.agents}
	return &starpost.Event{WorkspaceID: ws, Kind: starpost.KindConnection, At: at, Actor: starpost.System, Body: starpost.MustBody(b)}
}

func hb(node string, seq uint64, agents ...string) sig {
	return sig{node: node, seq: seq, agents: agents, every: tBeat}
}
func opened(node string, seq uint64, agent string) sig {
	return sig{node: node, seq: seq, agent: agent, every: tBeat}
}
func closed(node string, seq uint64, agent string) sig {
	return sig{node: node, seq: seq, agent: agent, down: true, every: tBeat}
}

// beats returns the heartbeats node sends every tBeat from `from` to `to`
// (offsets from the start), numbered from seq.
func beats(node string, seq uint64, from, to time.Duration, agents ...string) []lstep {
	var out []lstep
	for at := from; at <= to; at += tBeat {
		out = append(out, lstep{at: at, sigs: []sig{hb(node, seq, agents...)}})
		seq++
	}
	return out
}

// lstep happens at an offset from the start: signals arrive, the engine
// decides (and the harness commits), and the expectations are checked.
type lstep struct {
	at   time.Duration
	sigs []sig
	// assume starts the failover window (a rebuilt engine).
	assume bool
	// connected, when set, is what a1's connection must be after the lstep:
	// "up" or "down"; unassigned tells whether a1 must have lost the
	// conversation by then.
	connected  string
	unassigned *bool
}

var yes, no = ptr(true), ptr(false)

func TestLiveness(t *testing.T) {
	for _, tc := range []struct {
		name string
		// steps in time order (merged by at).
		steps [][]lstep
		// reofferedTo, when set, is who gets the conversation back.
		reofferedTo string
	}{
		{
			name: "heard every interval keeps the work",
			steps: [][]lstep{
				beats("A", 1, 0, 5*time.Minute, "a1", "a2"),
				{{at: 5*time.Minute + time.Second, connected: "up", unassigned: no}},
			},
		},
		{
			name: "unheard lapses after 3 beats, then the grace period",
			steps: [][]lstep{
				{{at: 0, sigs: []sig{hb("A", 1, "a1")}}},
				{{at: tWindow - time.Second, connected: "up"}},
				{{at: tWindow, connected: "down", unassigned: no}},
				{{at: tWindow + tGrace - time.Second, connected: "down", unassigned: no}},
				{{at: tWindow + tGrace, unassigned: yes}},
			},
			reofferedTo: "a2",
		},
		{
			name: "failover: an agent no node names is disconnected after the window",
			steps: [][]lstep{
				{{at: 0, assume: true}},
				beats("B", 1, 0, 3*time.Minute, "a2"),
				{{at: tWindow - time.Second, connected: "up", unassigned: no}},
				{{at: tWindow, connected: "down", unassigned: no}},
				{{at: tWindow + tGrace - time.Second, unassigned: no}},
				{{at: tWindow + tGrace, unassigned: yes}},
			},
			reofferedTo: "a2",
		},
		{
			name: "failover: healthy agents keep their work",
			steps: [][]lstep{
				{{at: 0, assume: true}},
				beats("A", 7, 5*time.Second, 4*time.Minute, "a1", "a2"),
				{{at: 4*time.Minute + time.Second, connected: "up", unassigned: no}},
			},
		},
		{
			name: "failover: an agent that closes during the window starts the grace at once",
			steps: [][]lstep{
				{{at: 0, assume: true}},
				beats("B", 1, 0, 3*time.Minute, "a2"),
				{{at: 5 * time.Second, sigs: []sig{closed("A", 9, "a1")}, connected: "down"}},
				{{at: 5*time.Second + tGrace - time.Second, unassigned: no}},
				{{at: 5*time.Second + tGrace, unassigned: yes}},
			},
			reofferedTo: "a2",
		},
		{
			name: "a close starts the grace at once",
			steps: [][]lstep{
				{{at: 0, sigs: []sig{opened("A", 1, "a1")}, connected: "up"}},
				{{at: 10 * time.Second, sigs: []sig{closed("A", 2, "a1")}, connected: "down"}},
				{{at: 10*time.Second + tGrace - time.Second, unassigned: no}},
				{{at: 10*time.Second + tGrace, unassigned: yes}},
			},
			reofferedTo: "a2",
		},
		{
			name: "reconnecting to another node within the grace keeps the work",
			steps: [][]lstep{
				{{at: 0, sigs: []sig{opened("A", 1, "a1")}}},
				{{at: 5 * time.Second, sigs: []sig{closed("A", 2, "a1")}, connected: "down"}},
				{{at: 5*time.Second + tGrace - time.Second, sigs: []sig{opened("B", 1, "a1")}, connected: "up"}},
				beats("B", 2, 70*time.Second, 4*time.Minute, "a1"),
				{{at: 4*time.Minute + time.Second, connected: "up", unassigned: no}},
			},
		},
		{
			name: "a heartbeat from another node counts (the old node's close arrives late)",
			steps: [][]lstep{
				{{at: 0, sigs: []sig{opened("A", 1, "a1")}}},
				{{at: 2 * time.Second, sigs: []sig{opened("B", 1, "a1")}}},
				{{at: 3 * time.Second, sigs: []sig{closed("A", 2, "a1")}, connected: "up"}},
				beats("B", 2, 10*time.Second, 3*time.Minute, "a1"),
				{{at: 3*time.Minute + time.Second, connected: "up", unassigned: no}},
			},
		},
		{
			name: "a heartbeat taken before a close but delivered after it is ignored",
			steps: [][]lstep{
				{{at: 0, sigs: []sig{opened("A", 1, "a1")}}},
				{{at: 10 * time.Second, sigs: []sig{closed("A", 5, "a1"), hb("A", 4, "a1")}, connected: "down"}},
				{{at: 10*time.Second + tGrace, unassigned: yes}},
			},
			reofferedTo: "a2",
		},
		{
			name: "a node killed after the close of one of two sockets: lapses",
			steps: [][]lstep{
				{{at: 0, sigs: []sig{opened("A", 1, "a1"), opened("B", 1, "a1")}}},
				{{at: 5 * time.Second, sigs: []sig{closed("A", 2, "a1")}, connected: "up"}},
				{{at: tWindow - time.Second, connected: "up"}},
				{{at: tWindow, connected: "down", unassigned: no}},
				{{at: tWindow + tGrace - time.Second, unassigned: no}},
				{{at: tWindow + tGrace, unassigned: yes}},
			},
			reofferedTo: "a2",
		},
		{
			name: "signals without heartbeats never lapse",
			steps: [][]lstep{
				{{at: 0, sigs: []sig{{node: "A", seq: 1, agent: "a1"}}}},
				{{at: 10 * time.Minute, connected: "up", unassigned: no}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, WithGracePeriod(tGrace), WithLiveness(tWindow), WithoutQueueStatus())
			id := holdOne(t, h, &starpost.Queue{ID: "q", Name: "q", OfferTimeout: 3600})
			start := h.now
			var steps []lstep
			for _, g := range tc.steps {
				steps = append(steps, g...)
			}
			sortSteps(steps)
			lost := false
			for _, s := range steps {
				if d := start.Add(s.at).Sub(h.now); d > 0 {
					// Look every second on the way, as the driver's ticker
					// does, so that nothing is decided late.
					for ; d > time.Second; d -= time.Second {
						lost = lost || unassigns(h.decide(time.Second))[id] != ""
					}
					h.now = h.now.Add(d)
				}
				if s.assume {
					h.e.AssumeConnected(h.now)
				}
				for _, g := range s.sigs {
					h.e.Observe(g.event(h.ws, h.now))
				}
				if r, ok := unassigns(h.decide(0))[id]; ok {
					if r != "disconnected" {
						t.Fatalf("at %s: unassigned for %q, want disconnected", s.at, r)
					}
					lost = true
				}
				label := fmt.Sprintf("at %s", s.at)
				if s.connected != "" {
					v, _ := h.e.Agent(h.ws, "a1")
					if got := map[bool]string{true: "up", false: "down"}[v.Connected]; got != s.connected {
						t.Fatalf("%s: a1's connection is %s, want %s", label, got, s.connected)
					}
				}
				if s.unassigned != nil && lost != *s.unassigned {
					t.Fatalf("%s: a1 lost the conversation: %v, want %v", label, lost, *s.unassigned)
				}
			}
			if tc.reofferedTo != "" {
				h.decide(time.Second)
				if v, _ := h.e.Conversation(h.ws, id); v.OfferedTo != tc.reofferedTo {
					t.Fatalf("conversation %+v: want it offered to %s", v, tc.reofferedTo)
				}
			}
		})
	}
}

func sortSteps(s []lstep) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].at < s[j-1].at; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestLivenessNewAgentAfterWindow: after a rebuilt engine's window, an agent
// it had not heard of is offered work only once a node names them.
func TestLivenessNewAgentAfterWindow(t *testing.T) {
	h := newHarness(t, WithGracePeriod(tGrace), WithLiveness(tWindow), WithoutQueueStatus())
	h.setQueue(&starpost.Queue{ID: "q", Name: "q"})
	h.e.AssumeConnected(h.now)
	h.decide(tWindow)
	h.setAgent(agentUser("late", "", nil))
	h.available("late")
	id := h.arrive("q", starpost.ChannelChat, 0)
	if got := offers(h.decide(time.Second)); got[id] != "" {
		t.Fatalf("offered to %s, whom no node has named", got[id])
	}
	h.e.Observe(hb("A", 1, "late").event(h.ws, h.now))
	if got := offers(h.decide(time.Second)); got[id] != "late" {
		t.Fatalf("offers %v after a heartbeat, want %s to late", got, id)
	}
}

// TestLivenessRebuildBeforeWorkspace: a workspace first seen after
// AssumeConnected gets the same window.
func TestLivenessWorkspaceAfterAssume(t *testing.T) {
	h := newHarness(t, WithGracePeriod(tGrace), WithLiveness(tWindow), WithoutQueueStatus())
	h.e.AssumeConnected(h.now)
	id := holdOne(t, h, &starpost.Queue{ID: "q", Name: "q"})
	if got := unassigns(h.decide(tWindow + tGrace - 3*time.Second)); len(got) != 0 {
		t.Fatalf("unassigned within the window and the grace: %v", got)
	}
	if got := unassigns(h.decide(3 * time.Second)); got[id] != "disconnected" {
		t.Fatalf("unassigns %v, want %s disconnected", got, id)
	}
}
