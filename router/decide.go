package router

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/starpost/starpost"
)

// timer asks for a look at a conversation or an agent at a time: an offer
// expiry, the end of a grace period, a reply timeout, an overflow step, the
// end of an in-flight mark, the lapse of an agent's connection, or (with the
// zero time) as soon as possible; a timer with neither a conversation nor an
// agent ends its workspace's liveness window. Timers are never cancelled: a look that finds nothing due does nothing.
type timer struct {
	at  time.Time
	seq uint64
	w   *workspace
	c   *conv
	a   *agent
}

type timerHeap []timer

func (h timerHeap) less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}

func (e *Engine) pushTimer(at time.Time, w *workspace, c *conv, a *agent) {
	e.tseq++
	h := append(e.timers, timer{at: at, seq: e.tseq, w: w, c: c, a: a})
	for j := len(h) - 1; j > 0; {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h[i], h[j] = h[j], h[i]
		j = i
	}
	e.timers = h
}

func (e *Engine) popTimer() timer {
	h := e.timers
	t := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = timer{}
	h = h[:n]
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if j+1 < n && h.less(j+1, j) {
			j++
		}
		if !h.less(j, i) {
			break
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
	e.timers = h
	return t
}

// checkAgentSoon asks for a look at every conversation a holds or is
// offered at the next Decide.
func (e *Engine) checkAgentSoon(a *agent) {
	if len(a.held) > 0 || len(a.offered) > 0 {
		e.pushTimer(time.Time{}, a.ws, nil, a)
	}
}

// Decide returns the decisions to take at time now, marking each one in
// flight. Expired offers and work to give back come first, then new offers
// in queue order, then queue status changes. Decide costs little when
// nothing changed: routing runs only for workspaces where an event or a
// timer may have made a new match possible.
func (e *Engine) Decide(now time.Time) []Decision {
	var out []Decision
	for len(e.timers) > 0 && !e.timers[0].at.After(now) {
		t := e.popTimer()
		if t.a != nil {
			if t.w.agents[t.a.id] != t.a {
				continue
			}
			e.lapseDue(t.a, now)
			for _, c := range sortedConvs(t.a.offered) {
				e.check(c, now, &out)
			}
			for _, c := range sortedConvs(t.a.held) {
				e.check(c, now, &out)
			}
		} else if t.c != nil && t.w.convs[t.c.id] == t.c {
			e.check(t.c, now, &out)
		} else if t.c == nil {
			e.sweep(t.w, now)
		}
	}
	for _, w := range e.wsList {
		e.flush(w)
		if w.dirty {
			w.dirty = false
			e.route(w, now, &out)
			e.flush(w)
		}
	}
	if !e.cfg.statusOff {
		for _, w := range e.wsList {
			if w.sdirty {
				w.sdirty = false
				e.status(w, now, &out)
			}
		}
	}
	return out
}

func sortedConvs(m map[string]*conv) []*conv {
	if len(m) == 0 {
		return nil
	}
	out := make([]*conv, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *conv) int { return waitOrder(a, b) })
	return out
}

// check decides what is due for c at now: an offer to end, work to give
// back, a routing pass, or a resolved conversation to forget.
func (e *Engine) check(c *conv, now time.Time, out *[]Decision) {
	w := c.ws
	if c.mark != nil {
		if now.Before(c.mark.until) {
			return
		}
		e.clearMark(c)
		e.flush(w)
	}
	seq := strconv.FormatInt(c.lastSeq, 10)
	switch c.state {
	case starpost.StateOffered:
		a := w.agents[c.offeredTo]
		reason := ""
		switch {
		case !now.Before(c.offerExpires):
			reason = "expired"
		case a == nil || !a.ready():
			reason = "withdrawn"
		}
		if reason != "" {
			e.setMark(c, DecideExpireOffer, c.offeredTo, now)
			*out = append(*out, Decision{Kind: DecideExpireOffer, WorkspaceID: w.id, ConversationID: c.id,
				AgentID: c.offeredTo, At: now, Reason: reason, Key: idemKey("offer.ended", c.id, c.offeredTo, seq)})
		}
	case starpost.StateAssigned, starpost.StateWaiting:
		a := w.agents[c.agent]
		reason := ""
		switch {
		case a != nil && a.presence == starpost.PresenceOffline:
			reason = "offline"
		case a != nil && !a.connected && !now.Before(a.disconnectedAt.Add(e.cfg.grace)):
			reason = "disconnected"
		default:
			if due := c.replyDue(); !due.IsZero() && !now.Before(due) {
				reason = "reply_timeout"
			}
		}
		if reason != "" {
			e.setMark(c, DecideUnassign, c.agent, now)
			*out = append(*out, Decision{Kind: DecideUnassign, WorkspaceID: w.id, ConversationID: c.id,
				AgentID: c.agent, At: now, Reason: reason, Key: idemKey("unassigned", c.id, c.agent, seq)})
		}
	case starpost.StateQueued:
		// An overflow step may have started: route again, refresh the
		// estimate and wait for the next step.
		w.sdirty, c.queue.sdirty = true, true
		c.queue.markRoute(c.ch)
		e.pushStepTimer(c, now)
	case starpost.StateResolved:
		if !now.Before(c.resolvedAt.Add(e.cfg.retention)) {
			e.forget(c, now)
			e.flush(w)
		}
	}
}

// stream walks one queue's waiting list on one channel during a routing
// pass.
type stream struct {
	q   *queue
	ch  int
	pos int
}

func (s *stream) head() *conv { return s.q.wait[s.ch][s.pos] }

// globalBefore orders conversations across queues: queue priority, then
// conversation priority, then longest waiting, then id.
func globalBefore(a, b *conv) bool {
	if a.queue.prio != b.queue.prio {
		return a.queue.prio > b.queue.prio
	}
	return waitOrder(a, b) < 0
}

// route offers waiting conversations of w to agents, in global queue order.
// Each (queue, channel) waiting list is a stream; a heap of streams merges
// them. Only the lists marked by markRoute are walked. When a conversation
// finds no candidate at all, the later conversations of its list, priority
// band and overflow step find none either and are skipped (skipBlocked).
func (e *Engine) route(w *workspace, now time.Time, out *[]Decision) {
	var hs []stream
	for _, q := range w.rlist {
		q.inRList = false
		for ch := range nch {
			if q.rdirty[ch] {
				q.rdirty[ch] = false
				if len(q.wait[ch]) > 0 {
					hs = append(hs, stream{q: q, ch: ch})
				}
			}
		}
	}
	clear(w.rlist)
	w.rlist = w.rlist[:0]
	less := func(i, j int) bool { return globalBefore(hs[i].head(), hs[j].head()) }
	down := func(i int) {
		n := len(hs)
		for {
			j := 2*i + 1
			if j >= n {
				return
			}
			if j+1 < n && less(j+1, j) {
				j++
			}
			if !less(j, i) {
				return
			}
			hs[i], hs[j] = hs[j], hs[i]
			i = j
		}
	}
	for i := len(hs)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(hs) > 0 {
		s := &hs[0]
		l := s.q.wait[s.ch]
		c := l[s.pos]
		next := s.pos + 1
		if c.mark == nil {
			k := s.q.stepAt(now.Sub(c.queuedAt))
			if m := pick(s.q.steps[k].groups, s.ch, c.excluded); m != nil {
				e.offer(c, m.a, now, out)
			} else {
				next = skipBlocked(l, s.pos, s.q.steps[k].after, now)
			}
		}
		if next >= len(l) {
			hs[0] = hs[len(hs)-1]
			hs = hs[:len(hs)-1]
		} else {
			s.pos = next
		}
		down(0)
	}
}

// skipBlocked returns the index of the first conversation after l[pos] that
// may find an agent although l[pos], at an overflow step that began after
// stepAfter of waiting, found no candidate at all. The conversations that
// follow in the same priority band have waited no longer, and those still
// at the same step have exactly the same candidates: they are skipped. The
// first one at an earlier step is not, since a later step may narrow the
// sites.
func skipBlocked(l []*conv, pos int, stepAfter time.Duration, now time.Time) int {
	c := l[pos]
	rest := l[pos+1:]
	// End of the priority band: the first with a lower priority.
	band, _ := slices.BinarySearchFunc(rest, c.prio, func(x *conv, p int) int {
		if x.prio >= p {
			return -1
		}
		return 1
	})
	// Within the band (oldest first), the first that has waited less
	// than stepAfter is at an earlier step.
	limit := now.Add(-stepAfter)
	i, _ := slices.BinarySearchFunc(rest[:band], limit, func(x *conv, t time.Time) int {
		if !x.queuedAt.After(t) {
			return -1
		}
		return 1
	})
	return pos + 1 + i
}

// pick returns the agent for a conversation: the best non-excluded ready
// agent with spare capacity, looking at the queue's own group first and then
// at the overflow queues' groups; failing that, the best excluded one (an
// agent who let the offer go gets it again only when no one else can take
// it). It returns nil when no ready agent has spare capacity.
func pick(groups []*group, ch int, excluded []string) *member {
	for _, g := range groups {
		if m := g.best(ch, excluded); m != nil {
			return m
		}
	}
	if len(excluded) > 0 {
		for _, g := range groups {
			if m := g.top(ch); m != nil {
				return m
			}
		}
	}
	return nil
}

// offer decides to offer c to a, reserving one unit of a's capacity on c's
// channel until the offer is seen committed or the retry delay passes.
func (e *Engine) offer(c *conv, a *agent, now time.Time, out *[]Decision) {
	m := e.setMark(c, DecideOffer, a.id, now)
	m.reserved = true
	a.load[c.ch]++
	a.loadTotal++
	a.setIdle(now)
	e.reindex(a)
	*out = append(*out, Decision{
		Kind: DecideOffer, WorkspaceID: c.ws.id, ConversationID: c.id, AgentID: a.id, At: now,
		ExpiresAt: now.Add(c.queue.offerTimeout()),
		Key: idemKey("offer", c.id, a.id, strconv.FormatInt(c.queuedAt.UnixNano(), 10),
			strconv.FormatInt(c.lastSeq, 10)),
	})
}

// status emits the position and estimated wait of every waiting
// conversation whose figures changed, in the queues marked dirty.
// Conversations with an offer in flight are left out of the line.
func (e *Engine) status(w *workspace, now time.Time, out *[]Decision) {
	for _, q := range w.qlist {
		if !q.sdirty {
			continue
		}
		q.sdirty = false
		for ch := range nch {
			pos := 0
			for _, c := range q.wait[ch] {
				if c.mark != nil {
					// Being offered right now: not in line any more.
					continue
				}
				pos++
				est := e.estimate(q, ch, pos, now.Sub(c.queuedAt))
				if pos == c.lastPos && est == c.lastEst {
					continue
				}
				c.lastPos, c.lastEst = pos, est
				*out = append(*out, Decision{Kind: DecideQueueStatus, WorkspaceID: w.id, ConversationID: c.id,
					At: now, Position: pos, EstimatedWait: est})
			}
		}
	}
}

// estimate returns the estimated wait in seconds of the conversation at
// position pos of q's list on channel ch that has waited waited: position
// times the queue's observed average handle time, shared over the capacity
// of the ready agents who qualify at the overflow step in force, rounded up
// to 10 seconds. It is -1 when no ready agent qualifies.
func (e *Engine) estimate(q *queue, ch, pos int, waited time.Duration) int {
	ready, slots := 0, 0
	for _, g := range q.steps[q.stepAt(waited)].groups {
		ready += g.ready
		slots += g.slots[ch]
	}
	if ready == 0 || slots == 0 {
		return -1
	}
	sec := math.Ceil(float64(pos) * q.aht.Seconds() / float64(slots))
	return int(math.Ceil(sec/10) * 10)
}
