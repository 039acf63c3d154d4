package router

import (
	"slices"
	"time"

	"github.com/starpost/starpost"
)

// conv is the routing view of an open (or recently resolved) conversation.
// Its state, agent and offeredTo follow starpost.Conversation.Apply.
type conv struct {
	id    string
	ws    *workspace
	queue *queue
	ch    int
	prio  int

	state        starpost.State
	agent        string // as Conversation.AgentID
	offeredTo    string
	offerExpires time.Time
	queuedAt     time.Time
	assignedAt   time.Time
	resolvedAt   time.Time
	lastCust     time.Time
	// waitSince is the customer's first message not yet answered by an
	// agent: the reply timeout counts from it.
	waitSince time.Time
	replyAt   time.Time // the reply timer last pushed
	lastAgent time.Time
	lastSeq   int64

	// excluded lists agents who declined or let an offer expire (or timed
	// out on a reply) since the conversation last entered its queue.
	excluded []string
	mark     *mark
	waiting  bool // in queue.wait
	// last queue status emitted; pos 0 means none yet.
	lastPos, lastEst int
}

// mark is a decision in flight: decided, not yet seen committed.
type mark struct {
	kind     DecisionKind
	agent    string
	until    time.Time
	reserved bool // an offer reserved one unit of the agent's capacity
}

func (c *conv) awaiting() bool {
	return !c.lastCust.IsZero() && (c.lastAgent.IsZero() || c.lastAgent.Before(c.lastCust))
}

// replyDue returns when the reply timeout of a held conversation falls, or
// the zero time when it does not apply: ReplyTimeout after the customer's
// first unanswered message, or after the assignment when that is later.
func (c *conv) replyDue() time.Time {
	rt := c.queue.replyTimeout()
	if c.state != starpost.StateAssigned || rt <= 0 || !c.awaiting() {
		return time.Time{}
	}
	since := c.waitSince
	if since.IsZero() {
		since = c.lastCust
	}
	if c.assignedAt.After(since) {
		since = c.assignedAt
	}
	return since.Add(rt)
}

func (e *Engine) queueFor(w *workspace, id string) *queue {
	if q := w.queues[id]; q != nil {
		return q
	}
	q := w.queue(id)
	q.aht = e.cfg.handle
	e.rebuildQueues(w)
	return q
}

// routingKind reports whether an event of kind k (not from a customer
// message) can change a conversation's routing state.
func routingKind(k starpost.EventKind) bool {
	switch k {
	case starpost.KindOffer, starpost.KindOfferEnd, starpost.KindAssigned, starpost.KindUnassigned,
		starpost.KindTransferred, starpost.KindState:
		return true
	}
	return false
}

// endsConversation reports whether ev resolves or closes its conversation:
// for a conversation the engine does not know, there is nothing to do.
func endsConversation(ev *starpost.Event) bool {
	if ev.Kind != starpost.KindState {
		return false
	}
	var b starpost.StateBody
	return ev.DecodeBody(&b) == nil && !b.State.Open()
}

// Observe updates the engine from a committed event (or an ephemeral
// connection signal). Events it has seen already (by conversation seq, or by
// cursor for presence) are ignored, so a replay overlapping the live feed is
// harmless. An event for a conversation the engine does not know, or one
// that leaves a gap in the conversation's seq, puts the conversation on the
// NeedsRestore list.
func (e *Engine) Observe(ev *starpost.Event) {
	if ev == nil || ev.WorkspaceID == "" {
		return
	}
	w := e.workspace(ev.WorkspaceID)
	defer e.flush(w)
	switch ev.Kind {
	case starpost.KindPresence:
		var b starpost.PresenceBody
		if ev.Actor.ID == "" || ev.DecodeBody(&b) != nil || !b.Presence.Valid() {
			return
		}
		a := w.agent(ev.Actor.ID)
		if ev.Cursor > 0 {
			if ev.Cursor <= a.presenceCursor {
				return
			}
			a.presenceCursor = ev.Cursor
		}
		e.setPresence(a, b.Presence, ev.At)
		return
	case starpost.KindConnection:
		var b starpost.ConnectionBody
		if ev.DecodeBody(&b) != nil {
			return
		}
		e.observeConnection(w, &b, ev.At)
		return
	case starpost.KindQueueStatusRequest:
		// A widget connected after the last status was sent (a status that
		// never changes, such as "no agent", is sent only once): forget
		// what was sent so the next Decide sends it again.
		if c := w.convs[ev.ConversationID]; c != nil && c.waiting {
			c.lastPos, c.lastEst = 0, 0
			c.queue.sdirty, w.sdirty = true, true
		}
		return
	}
	if ev.ConversationID == "" || ev.Kind.Ephemeral() {
		return
	}
	ref := ConversationRef{WorkspaceID: w.id, ID: ev.ConversationID}
	c := w.convs[ev.ConversationID]
	if c == nil {
		switch {
		case ev.Kind == starpost.KindCreated:
			e.create(w, ev)
		case routingKind(ev.Kind) && !endsConversation(ev),
			ev.Kind == starpost.KindMessage && (ev.Actor.Role == starpost.RoleCustomer || ev.Actor.Role == starpost.RoleSimulatedCustomer):
			e.missing[ref] = struct{}{}
		}
		return
	}
	if ev.Seq > 0 {
		if ev.Seq <= c.lastSeq {
			return
		}
		if ev.Seq > c.lastSeq+1 {
			e.missing[ref] = struct{}{}
		}
		c.lastSeq = ev.Seq
	}
	if !e.apply(c, ev) {
		e.missing[ref] = struct{}{}
	}
}

// create starts tracking a new conversation.
func (e *Engine) create(w *workspace, ev *starpost.Event) {
	var b starpost.CreatedBody
	if ev.DecodeBody(&b) != nil || chIndex(b.Channel) < 0 {
		return
	}
	c := &conv{id: ev.ConversationID, ws: w, queue: e.queueFor(w, b.QueueID), ch: chIndex(b.Channel), prio: b.Priority, lastSeq: ev.Seq}
	w.convs[c.id] = c
	st := b.State
	if st == "" {
		st = starpost.StateQueued
	}
	if st == starpost.StateQueued {
		c.queuedAt = ev.At
	}
	c.state = starpost.StateBot // neutral: not queued, held or offered
	e.setView(c, st, "", "", ev.At)
}

// apply mirrors Conversation.Apply on the routing view. It returns false
// when the event did not fit the view (the view is then suspect).
func (e *Engine) apply(c *conv, ev *starpost.Event) bool {
	w, at := c.ws, ev.At
	switch ev.Kind {
	case starpost.KindCreated:
		return false // a second created event for a known conversation

	case starpost.KindMessage:
		switch ev.Actor.Role {
		case starpost.RoleCustomer, starpost.RoleSimulatedCustomer:
			if c.state == starpost.StateClosed {
				return false
			}
			if !c.awaiting() {
				c.waitSince = at
			}
			c.lastCust = at
			switch c.state {
			case starpost.StateWaiting:
				e.setView(c, starpost.StateAssigned, c.agent, "", at)
			case starpost.StateResolved:
				e.reopen(c, c.queue, at)
			}
			e.pushReplyTimer(c)
		case starpost.RoleAgentParticipant:
			c.lastAgent = at
		}

	case starpost.KindOffer:
		var b starpost.OfferBody
		if ev.DecodeBody(&b) != nil {
			return false
		}
		ok := c.state == starpost.StateQueued
		ours := c.mark != nil && c.mark.kind == DecideOffer && c.mark.agent == b.AgentID
		e.setView(c, starpost.StateOffered, c.agent, b.AgentID, at)
		c.offerExpires = b.ExpiresAt
		e.pushTimer(b.ExpiresAt, w, c, nil)
		if a := w.agents[b.AgentID]; a != nil && !ours && a.idleSince.Before(at) {
			a.setIdle(at)
		}
		return ok

	case starpost.KindOfferEnd:
		var b starpost.OfferEndBody
		if ev.DecodeBody(&b) != nil {
			return false
		}
		if c.state != starpost.StateOffered || c.offeredTo != b.AgentID {
			return false
		}
		e.setView(c, starpost.StateQueued, c.agent, "", at)
		if b.Reason != "withdrawn" {
			c.exclude(b.AgentID)
		}

	case starpost.KindAssigned:
		var b starpost.AssignedBody
		if ev.DecodeBody(&b) != nil || b.AgentID == "" {
			return false
		}
		ok := c.state.Open()
		if b.By == "accept" {
			ok = c.state == starpost.StateOffered && c.offeredTo == b.AgentID
		}
		e.assign(c, b.AgentID, at)
		return ok

	case starpost.KindUnassigned:
		var b starpost.UnassignedBody
		if ev.DecodeBody(&b) != nil {
			return false
		}
		if !c.state.HeldByAgent() || c.agent != b.AgentID {
			return false
		}
		e.reopen(c, c.queue, at)
		c.exclude(b.AgentID)

	case starpost.KindTransferred:
		var b starpost.TransferBody
		if ev.DecodeBody(&b) != nil || (b.ToAgentID == "") == (b.ToQueueID == "") {
			return false
		}
		ok := c.state.Open()
		if b.ToQueueID != "" {
			e.reopen(c, e.queueFor(w, b.ToQueueID), at)
		} else {
			e.assign(c, b.ToAgentID, at)
		}
		return ok

	case starpost.KindState:
		var b starpost.StateBody
		if ev.DecodeBody(&b) != nil {
			return false
		}
		from := c.state
		switch b.State {
		case starpost.StateWaiting:
			e.setView(c, starpost.StateWaiting, c.agent, "", at)
			return from == starpost.StateAssigned
		case starpost.StateAssigned:
			e.setView(c, starpost.StateAssigned, c.agent, "", at)
			e.pushReplyTimer(c)
			return from == starpost.StateWaiting
		case starpost.StateResolved:
			e.setView(c, starpost.StateResolved, c.agent, "", at)
			c.resolvedAt = at
			e.pushTimer(at.Add(e.cfg.retention), w, c, nil)
			return from.Open()
		case starpost.StateClosed:
			e.forget(c, at)
			return from != starpost.StateClosed
		case starpost.StateQueued:
			e.reopen(c, c.queue, at)
			return from == starpost.StateResolved || from == starpost.StateBot
		}
		return false
	}
	return true
}

// assign gives c to agentID (accepting an offer, a force-assign or a
// transfer to an agent).
func (e *Engine) assign(c *conv, agentID string, at time.Time) {
	e.setView(c, starpost.StateAssigned, agentID, "", at)
	c.assignedAt = at
	c.excluded = c.excluded[:0]
	e.pushReplyTimer(c)
}

// reopen puts c (back) into queue q as a new waiting episode, as
// Conversation.requeue does.
func (e *Engine) reopen(c *conv, q *queue, at time.Time) {
	e.dequeue(c)
	c.queue = q
	c.queuedAt = at
	c.excluded = c.excluded[:0]
	c.resolvedAt = time.Time{}
	e.setView(c, starpost.StateQueued, "", "", at)
}

func (c *conv) exclude(agentID string) {
	if agentID != "" && !slices.Contains(c.excluded, agentID) {
		c.excluded = append(c.excluded, agentID)
	}
}

// forget drops a conversation from the engine.
func (e *Engine) forget(c *conv, at time.Time) {
	e.setView(c, starpost.StateClosed, c.agent, "", at)
	e.clearMark(c)
	delete(c.ws.convs, c.id)
}

// setView moves c to state st held by holder (when st is held) or offered
// to offered (when st is offered), keeping agents' loads, the waiting lists
// and the in-flight mark consistent.
func (e *Engine) setView(c *conv, st starpost.State, holder, offered string, at time.Time) {
	w := c.ws
	var oldHolder, oldOffer, newHolder, newOffer string
	if c.state.HeldByAgent() {
		oldHolder = c.agent
	}
	if c.state == starpost.StateOffered {
		oldOffer = c.offeredTo
	}
	if st.HeldByAgent() {
		newHolder = holder
	}
	if st == starpost.StateOffered {
		newOffer = offered
	}
	if oldHolder != newHolder {
		if oldHolder != "" {
			a := w.agent(oldHolder)
			delete(a.held, c.id)
			a.addLoad(c.ch, -1)
			if !c.assignedAt.IsZero() && at.After(c.assignedAt) {
				c.queue.observeHandle(at.Sub(c.assignedAt))
			}
		}
		if newHolder != "" {
			a := w.agent(newHolder)
			a.held[c.id] = c
			a.addLoad(c.ch, +1)
			a.handled++
			if a.presence == starpost.PresenceOffline || !a.connected {
				e.pushTimer(time.Time{}, w, c, nil) // held by someone away: look at once
			}
		}
	}
	if oldOffer != newOffer {
		if oldOffer != "" {
			a := w.agent(oldOffer)
			delete(a.offered, c.id)
			a.addLoad(c.ch, -1)
		}
		if newOffer != "" {
			a := w.agent(newOffer)
			a.offered[c.id] = c
			a.addLoad(c.ch, +1)
			if !a.ready() {
				e.pushTimer(time.Time{}, w, c, nil) // offered to someone away: withdraw
			}
		}
	}
	if !st.HeldByAgent() && st != starpost.StateResolved && st != starpost.StateClosed {
		holder = ""
	}
	changed := st != c.state || holder != c.agent || offered != c.offeredTo
	c.state, c.agent, c.offeredTo = st, holder, offered
	if st != starpost.StateOffered {
		c.offeredTo = ""
	}
	if changed {
		e.clearMark(c)
	}
	if st == starpost.StateQueued {
		e.enqueue(c, at)
	} else {
		e.dequeue(c)
	}
}

// observeHandle folds one handle time into the queue's average.
func (q *queue) observeHandle(d time.Duration) {
	q.aht += (d - q.aht) / 5
	q.sdirty = true
}

// enqueue adds c to its queue's waiting list (if it is not there).
func (e *Engine) enqueue(c *conv, at time.Time) {
	if c.waiting {
		return
	}
	q := c.queue
	l := q.wait[c.ch]
	i, _ := slices.BinarySearchFunc(l, c, waitOrder)
	q.wait[c.ch] = slices.Insert(l, i, c)
	c.waiting = true
	c.lastPos, c.lastEst = 0, 0
	q.sdirty, c.ws.sdirty = true, true
	q.markRoute(c.ch)
	e.pushStepTimer(c, at)
}

// dequeue removes c from its queue's waiting list (if it is there).
func (e *Engine) dequeue(c *conv) {
	if !c.waiting {
		return
	}
	q := c.queue
	l := q.wait[c.ch]
	i, found := slices.BinarySearchFunc(l, c, waitOrder)
	if !found || l[i] != c {
		i = slices.Index(l, c)
	}
	if i >= 0 {
		q.wait[c.ch] = slices.Delete(l, i, i+1)
	}
	c.waiting = false
	q.sdirty, c.ws.sdirty = true, true
}

// waitOrder orders a queue's waiting conversations: higher priority first,
// then longest waiting, then id.
func waitOrder(a, b *conv) int {
	if a.prio != b.prio {
		if a.prio > b.prio {
			return -1
		}
		return 1
	}
	if c := a.queuedAt.Compare(b.queuedAt); c != 0 {
		return c
	}
	switch {
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

// pushStepTimer schedules a look at c when its next overflow step starts.
func (e *Engine) pushStepTimer(c *conv, now time.Time) {
	waited := now.Sub(c.queuedAt)
	for _, s := range c.queue.steps[1:] {
		if s.after > waited {
			e.pushTimer(c.queuedAt.Add(s.after), c.ws, c, nil)
			return
		}
	}
}

func (e *Engine) pushReplyTimer(c *conv) {
	if due := c.replyDue(); !due.IsZero() && !due.Equal(c.replyAt) {
		c.replyAt = due
		e.pushTimer(due, c.ws, c, nil)
	}
}

// setMark records a decision about c as in flight.
func (e *Engine) setMark(c *conv, kind DecisionKind, agentID string, now time.Time) *mark {
	m := &mark{kind: kind, agent: agentID, until: now.Add(e.cfg.retry)}
	c.mark = m
	e.pushTimer(m.until, c.ws, c, nil)
	return m
}

// clearMark drops c's in-flight mark, giving back a reserved offer slot.
func (e *Engine) clearMark(c *conv) {
	m := c.mark
	if m == nil {
		return
	}
	c.mark = nil
	if m.reserved {
		if a := c.ws.agents[m.agent]; a != nil {
			a.addLoad(c.ch, -1)
		}
	}
	if c.waiting {
		c.ws.sdirty, c.queue.sdirty = true, true
		c.queue.markRoute(c.ch)
	}
}

// Restore loads an open conversation read from the store (when the state is
// rebuilt, or after NeedsRestore), replacing the engine's view of it unless
// the engine has already seen newer events. offerExpiresAt is the expiry of
// the open offer of an offered conversation (from its latest offer event);
// zero means the queue's offer timeout from the conversation's last update.
// A resolved or closed conversation is forgotten.
func (e *Engine) Restore(sc *starpost.Conversation, offerExpiresAt time.Time) {
	if sc == nil || sc.WorkspaceID == "" || sc.ID == "" {
		return
	}
	w := e.workspace(sc.WorkspaceID)
	defer e.flush(w)
	delete(e.missing, ConversationRef{WorkspaceID: w.id, ID: sc.ID})
	c := w.convs[sc.ID]
	if c != nil && c.lastSeq > sc.LastSeq {
		return
	}
	at := sc.UpdatedAt
	if c != nil {
		e.forget(c, at)
	}
	if !sc.State.Open() || chIndex(sc.Channel) < 0 {
		return
	}
	c = &conv{id: sc.ID, ws: w, queue: e.queueFor(w, sc.QueueID), ch: chIndex(sc.Channel), prio: sc.Priority,
		state: starpost.StateBot, lastSeq: sc.LastSeq}
	if sc.QueuedAt != nil {
		c.queuedAt = *sc.QueuedAt
	}
	if sc.AssignedAt != nil {
		c.assignedAt = *sc.AssignedAt
	}
	if sc.LastCustomerMessageAt != nil {
		c.lastCust = *sc.LastCustomerMessageAt
		c.waitSince = c.lastCust // the first unanswered message is not stored
	}
	if sc.LastAgentMessageAt != nil {
		c.lastAgent = *sc.LastAgentMessageAt
	}
	w.convs[c.id] = c
	e.setView(c, sc.State, sc.AgentID, sc.OfferedTo, at)
	if sc.State.HeldByAgent() {
		if c.assignedAt.IsZero() {
			c.assignedAt = at
		}
		e.pushReplyTimer(c)
	}
	if sc.State == starpost.StateOffered {
		if offerExpiresAt.IsZero() {
			offerExpiresAt = at.Add(c.queue.offerTimeout())
		}
		c.offerExpires = offerExpiresAt
		e.pushTimer(offerExpiresAt, w, c, nil)
	}
}
