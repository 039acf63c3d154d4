package router

import (
	"slices"
	"time"

	"github.com/starpost/starpost"
)

// Liveness: whether an agent's realtime connection is up.
//
// Only the node serving an agent's socket knows it is open, and a node that
// is killed says nothing more. So every node tells, in connection signals
// (starpost.ConnectionBody), when a socket of an agent opens and closes, and
// re-announces every few seconds, in one heartbeat per workspace, which
// agents it still serves (a list, not one signal per agent: thousands of
// agents on a node cost one bus message per interval, and the router's
// work per listed agent is a map lookup).
//
// The engine keeps, per agent, one link per node that spoke of them: up or
// down, the last signal number of that node (a heartbeat taken before a
// disconnect but delivered after it is ignored), and, for nodes that send
// heartbeats, when the link lapses: MissedBeats heartbeat intervals after
// the node last named the agent. An agent is connected while one link is
// up and has not lapsed. When the last one goes down, the agent is
// disconnected from that moment (the close, or the lapse) and the grace
// period starts; any link coming up again within it keeps their work.
//
// A new engine (a new leader after a failover, or a resynchronised one)
// knows no links. AssumeConnected gives every agent not yet heard from one
// liveness window (WithLiveness) to be named by a node before they count as
// disconnected: a failover does not unassign healthy agents, whose nodes
// name them within a heartbeat, and a site that dropped during the failover
// is still found.

// MissedBeats is how many heartbeat intervals of silence make a node's
// link to an agent lapse.
const MissedBeats = 3

// linkMemory is how long a link that is down or lapsed is remembered (for
// its signal number) before it is forgotten.
const linkMemory = 5 * time.Minute

// link is what one node said last about an agent's connection.
type link struct {
	node  string
	seq   uint64
	up    bool
	heard time.Time // when the signal was observed
	// expires is when an up link lapses without a newer signal; zero:
	// never (the node sends no heartbeats).
	expires time.Time
}

func (l *link) live(now time.Time) bool {
	return l.up && (l.expires.IsZero() || now.Before(l.expires))
}

// WithLiveness sets the liveness window: after AssumeConnected, an agent
// no node has named within it counts as disconnected (and the grace period
// starts). Zero (the default) assumes such agents connected until a signal
// says otherwise. Set it to MissedBeats times the nodes' heartbeat interval.
func WithLiveness(window time.Duration) Option { return func(c *config) { c.liveness = window } }

// AssumeConnected starts the liveness window at now (see WithLiveness):
// the driver calls it when it has rebuilt the engine from the store, since
// connection signals are never stored. Every agent not yet named by a
// connection signal counts as connected until now plus the window, then as
// disconnected since that moment. It does nothing without a window.
func (e *Engine) AssumeConnected(now time.Time) {
	if e.cfg.liveness <= 0 {
		return
	}
	e.unknownUntil = now.Add(e.cfg.liveness)
	for _, w := range e.wsList {
		e.startUnknown(w)
	}
}

// startUnknown gives w's agents not heard from until e.unknownUntil.
func (e *Engine) startUnknown(w *workspace) {
	w.unknownUntil, w.swept = e.unknownUntil, false
	e.pushTimer(w.unknownUntil, w, nil, nil)
}

// sweep ends the unknown window of w: agents never named by a node are
// disconnected from the window's end.
func (e *Engine) sweep(w *workspace, now time.Time) {
	if w.swept || w.unknownUntil.IsZero() || now.Before(w.unknownUntil) {
		return
	}
	w.swept = true
	for _, a := range w.agents {
		if !a.heard {
			e.refresh(a, now)
		}
	}
	e.flush(w)
}

// observeConnection applies a connection signal or heartbeat observed at
// at.
func (e *Engine) observeConnection(w *workspace, b *starpost.ConnectionBody, at time.Time) {
	every := time.Duration(b.EveryMS) * time.Millisecond
	if b.Heartbeat() {
		for _, id := range b.AgentIDs {
			if id != "" {
				e.signal(w.agent(id), b.Node, b.Seq, true, every, at)
			}
		}
		return
	}
	if b.AgentID != "" {
		e.signal(w.agent(b.AgentID), b.Node, b.Seq, b.Connected, every, at)
	}
}

// signal records what node said about a's connection at at: up or down,
// as its signal number seq, with heartbeats every every (0: none).
func (e *Engine) signal(a *agent, node string, seq uint64, up bool, every time.Duration, at time.Time) {
	i := slices.IndexFunc(a.links, func(l link) bool { return l.node == node })
	if i < 0 {
		a.links = append(a.links, link{node: node})
		i = len(a.links) - 1
	}
	l := &a.links[i]
	if seq != 0 && seq < l.seq {
		return // taken before what that node said last
	}
	l.seq = max(l.seq, seq)
	l.up, l.heard, l.expires = up, at, time.Time{}
	if up && every > 0 {
		l.expires = at.Add(MissedBeats * every)
	}
	if up && a.connected && a.heard && !l.expires.IsZero() && !a.liveAt.IsZero() && !l.expires.Before(a.liveAt) {
		return // the common heartbeat: nothing changes now, the timer is set
	}
	a.heard = true
	e.refresh(a, at)
}

// refresh recomputes whether a is connected at now from its links, forgets
// links long down, and asks for a look when the connection would lapse.
func (e *Engine) refresh(a *agent, now time.Time) {
	up, forever := false, false
	var lapse, downAt time.Time
	keep := a.links[:0]
	for _, l := range a.links {
		live := l.live(now)
		if !live && now.Sub(l.heard) > linkMemory {
			continue
		}
		keep = append(keep, l)
		switch {
		case live && l.expires.IsZero():
			up, forever = true, true
		case live:
			up = true
			if l.expires.After(lapse) {
				lapse = l.expires
			}
		case l.up: // lapsed
			if l.expires.After(downAt) {
				downAt = l.expires
			}
		default:
			if l.heard.After(downAt) {
				downAt = l.heard
			}
		}
	}
	clear(a.links[len(keep):])
	a.links = keep
	if !a.heard {
		w := a.ws
		switch {
		case w.unknownUntil.IsZero():
			up, forever = true, true
		case now.Before(w.unknownUntil):
			up, lapse = true, w.unknownUntil
		default:
			downAt = w.unknownUntil
		}
	}
	if downAt.IsZero() || downAt.After(now) {
		downAt = now
	}
	if up && !forever && (a.liveAt.IsZero() || lapse.Before(a.liveAt)) {
		a.liveAt = lapse
		e.pushTimer(lapse, a.ws, nil, a)
	}
	e.setConnected(a, up, downAt)
}

// lapseDue refreshes a when its liveness timer has fallen due.
func (e *Engine) lapseDue(a *agent, now time.Time) {
	if a.liveAt.IsZero() || now.Before(a.liveAt) {
		return
	}
	a.liveAt = time.Time{}
	e.refresh(a, now)
	e.flush(a.ws)
}
