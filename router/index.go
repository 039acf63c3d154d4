package router

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost"
)

// The agent index.
//
// Every queue is compiled into steps: step 0 is its base requirement (with
// the overflow steps whose AfterSeconds is 0 already applied: that is how a
// queue names its preferred sites), and each later overflow step widens the
// one before it. A step is a list of groups: the queue's own requirement as
// widened so far, then the base requirement of each overflow queue named so
// far. A group is one requirement (skills at minimum levels, allowed sites),
// shared by every queue step that asks for exactly that, so 200 queues with
// a few steps each make a few hundred groups.
//
// A group keeps, per channel, a binary heap of the member agents who are
// ready (configured, available, connected) and have spare capacity on that
// channel, ordered best first: higher proficiency (sum of levels in the
// group's skills), then the strategy (least occupied), then longest idle,
// then id. Finding the agent for a conversation reads the top of one or a
// few heaps; a change to an agent fixes its position in the heaps of the
// groups it belongs to.

// queue is the routing view of a starpost.Queue.
type queue struct {
	id string
	ws *workspace
	// cfg is nil for a queue known only from conversations: the empty
	// queue id (a bot's hand-over without a queue) is open to every agent,
	// any other unknown queue to none until it is configured.
	cfg   *starpost.Queue
	prio  int
	steps []step
	// wait holds the waiting conversations per channel in queue order:
	// higher conversation priority first, then longest waiting.
	wait [nch][]*conv
	// aht is the observed average handle time (exponentially weighted).
	aht    time.Duration
	sdirty bool
	// rdirty marks the channels whose waiting list may now find an agent:
	// a conversation joined it, an in-flight offer lapsed, an overflow
	// step began, or an agent with room joined one of the queue's groups.
	// A routing pass looks only at marked lists: every other list was
	// fully worked through by an earlier pass and has found no one since.
	rdirty  [nch]bool
	inRList bool
}

// markRoute marks channel ch of q for the next routing pass.
func (q *queue) markRoute(ch int) {
	q.rdirty[ch] = true
	if !q.inRList {
		q.inRList = true
		q.ws.rlist = append(q.ws.rlist, q)
	}
	q.ws.dirty = true
}

type step struct {
	after  time.Duration
	groups []*group
}

func (w *workspace) queue(id string) *queue {
	if q := w.queues[id]; q != nil {
		return q
	}
	q := &queue{id: id, ws: w}
	w.queues[id] = q
	i, _ := slices.BinarySearchFunc(w.qlist, id, func(x *queue, id string) int { return cmp.Compare(x.id, id) })
	w.qlist = slices.Insert(w.qlist, i, q)
	return q
}

// stepAt returns the index of the step in force after waiting d.
func (q *queue) stepAt(d time.Duration) int {
	k := 0
	for i := 1; i < len(q.steps); i++ {
		if q.steps[i].after <= d {
			k = i
		}
	}
	return k
}

// offerTimeout returns the queue's accept timeout.
func (q *queue) offerTimeout() time.Duration {
	if q.cfg == nil {
		return starpost.DefaultOfferTimeout
	}
	return q.cfg.OfferTimeoutDuration()
}

// replyTimeout returns the queue's reply timeout, 0 when off.
func (q *queue) replyTimeout() time.Duration {
	if q.cfg == nil {
		return 0
	}
	return time.Duration(q.cfg.ReplyTimeout) * time.Second
}

// requirement is who may take a conversation: every skill at its minimum
// level, and a site among sites (any site when sites is nil).
type requirement struct {
	skills []starpost.SkillRequired // sorted by skill id
	sites  []string                 // sorted; nil means any site
}

func (r requirement) key() string {
	var b strings.Builder
	for _, s := range r.skills {
		b.WriteString(s.SkillID)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(s.MinLevel))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	if r.sites == nil {
		b.WriteByte('*')
	}
	for _, s := range r.sites {
		b.WriteString(s)
		b.WriteByte(',')
	}
	return b.String()
}

// widening accumulates overflow steps.
type widening struct {
	drop   int
	sites  []string
	queues []string
}

func (wd *widening) apply(o starpost.OverflowStep) {
	wd.drop = max(wd.drop, o.MinLevelDrop)
	if o.AnySite {
		wd.sites = nil
	} else if len(o.SiteIDs) > 0 {
		wd.sites = slices.Sorted(slices.Values(o.SiteIDs))
		wd.sites = slices.Compact(wd.sites)
	}
	// A step naming the queue itself brings back its base requirement
	// (which matters when a later step narrowed the sites).
	if o.QueueID != "" && !slices.Contains(wd.queues, o.QueueID) {
		wd.queues = append(wd.queues, o.QueueID)
	}
}

func (wd *widening) requirement(cfg *starpost.Queue) requirement {
	r := requirement{sites: wd.sites}
	if cfg != nil {
		for _, s := range cfg.Skills {
			r.skills = append(r.skills, starpost.SkillRequired{SkillID: s.SkillID, MinLevel: max(starpost.MinProficiency, s.MinLevel-wd.drop)})
		}
	}
	// Sort by skill, highest minimum first, and keep one entry per skill.
	slices.SortFunc(r.skills, func(a, b starpost.SkillRequired) int {
		return cmp.Or(cmp.Compare(a.SkillID, b.SkillID), cmp.Compare(b.MinLevel, a.MinLevel))
	})
	r.skills = slices.CompactFunc(r.skills, func(a, b starpost.SkillRequired) bool { return a.SkillID == b.SkillID })
	return r
}

// baseRequirement is the requirement of a queue's step 0.
func baseRequirement(q *queue) requirement {
	var wd widening
	if q.cfg != nil {
		for _, o := range q.cfg.Overflow {
			if o.AfterSeconds <= 0 {
				wd.apply(o)
			}
		}
	}
	return wd.requirement(q.cfg)
}

// rebuildQueues recompiles every queue of w into steps and groups, creating
// groups that are new and dropping groups no longer used.
func (e *Engine) rebuildQueues(w *workspace) {
	used := make(map[*group]bool)
	for _, q := range w.qlist {
		q.prio = 0
		if q.cfg != nil {
			q.prio = q.cfg.Priority
		}
		var wd widening
		var overflow []starpost.OverflowStep
		if q.cfg != nil {
			overflow = q.cfg.Overflow
		}
		q.steps = q.steps[:0]
		mk := func(after time.Duration) {
			s := step{after: after}
			add := func(g *group) {
				if !slices.Contains(s.groups, g) {
					s.groups = append(s.groups, g)
				}
				used[g] = true
			}
			add(e.group(w, wd.requirement(q.cfg)))
			for _, oq := range wd.queues {
				if other := w.queues[oq]; other != nil && other.cfg != nil {
					add(e.group(w, baseRequirement(other)))
				}
			}
			q.steps = append(q.steps, s)
		}
		i := 0
		if q.cfg == nil && q.id != "" {
			// A queue named by a conversation but not configured (yet):
			// nobody qualifies until SetQueue says who does.
			q.steps = append(q.steps, step{})
			continue
		}
		for ; i < len(overflow) && overflow[i].AfterSeconds <= 0; i++ {
			wd.apply(overflow[i])
		}
		mk(0)
		for ; i < len(overflow); i++ {
			wd.apply(overflow[i])
			mk(time.Duration(overflow[i].AfterSeconds) * time.Second)
		}
	}
	for k, g := range w.groups {
		g.queues = g.queues[:0]
		if !used[g] {
			for _, m := range g.members {
				e.dropMember(m)
			}
			delete(w.groups, k)
		}
	}
	for _, q := range w.qlist {
		for _, s := range q.steps {
			for _, g := range s.groups {
				if !slices.Contains(g.queues, q) {
					g.queues = append(g.queues, q)
				}
			}
		}
	}
}

// group is the set of agents who meet one requirement.
type group struct {
	key     string
	req     requirement
	strat   Strategy
	members map[string]*member
	heaps   [nch][]hentry
	// ready counts the ready members; slots sums their capacity per channel.
	ready  int
	slots  [nch]int
	queues []*queue
}

// member is an agent's membership of a group.
type member struct {
	g       *group
	a       *agent
	prof    int
	idx     [nch]int // position in g.heaps[ch], -1 when absent
	counted bool     // counted in g.ready and g.slots
	cap     [nch]int // capacity counted in g.slots
}

// group returns the group for r, creating it (and filling it with the
// qualifying agents) when it is new.
func (e *Engine) group(w *workspace, r requirement) *group {
	k := r.key()
	if g := w.groups[k]; g != nil {
		return g
	}
	g := &group{key: k, req: r, strat: e.cfg.strategy, members: make(map[string]*member)}
	w.groups[k] = g
	for _, a := range w.agents {
		if a.configured && g.qualifies(a) {
			e.join(g, a)
		}
	}
	return g
}

func (g *group) qualifies(a *agent) bool {
	if g.req.sites != nil {
		if _, ok := slices.BinarySearch(g.req.sites, a.site); !ok {
			return false
		}
	}
	for _, s := range g.req.skills {
		if a.skills[s.SkillID] < s.MinLevel {
			return false
		}
	}
	return true
}

func (g *group) proficiency(a *agent) int {
	p := 0
	for _, s := range g.req.skills {
		p += a.skills[s.SkillID]
	}
	return p
}

func (e *Engine) join(g *group, a *agent) {
	m := &member{g: g, a: a, prof: g.proficiency(a), idx: [nch]int{-1, -1, -1, -1}}
	g.members[a.id] = m
	a.members = append(a.members, m)
	a.ws.touch(a)
}

// rejoin recomputes the groups a belongs to.
func (e *Engine) rejoin(w *workspace, a *agent) {
	e.leaveGroups(a)
	if !a.configured {
		return
	}
	for _, g := range w.groups {
		if g.qualifies(a) {
			e.join(g, a)
		}
	}
	w.sdirty = true
}

func (e *Engine) leaveGroups(a *agent) {
	for _, m := range a.members {
		e.unlink(m)
	}
	a.members = a.members[:0]
}

// dropMember removes m from its group and from its agent's list.
func (e *Engine) dropMember(m *member) {
	e.unlink(m)
	m.a.members = slices.DeleteFunc(m.a.members, func(x *member) bool { return x == m })
}

func (e *Engine) unlink(m *member) {
	g := m.g
	for ch := range nch {
		if m.idx[ch] >= 0 {
			g.remove(ch, m)
		}
	}
	e.count(m, false)
	delete(g.members, m.a.id)
}

// count adds m to or removes it from its group's ready counters.
func (e *Engine) count(m *member, on bool) {
	if m.counted == on {
		return
	}
	g := m.g
	if on {
		m.cap = m.a.cap
		g.ready++
		for ch := range nch {
			g.slots[ch] += m.cap[ch]
		}
	} else {
		g.ready--
		for ch := range nch {
			g.slots[ch] -= m.cap[ch]
		}
	}
	m.counted = on
	for _, q := range g.queues {
		q.sdirty = true
	}
	m.a.ws.sdirty = true
}

// reindex brings a's heap positions and group counters up to date after a
// change of presence, connection, load, idleness or configuration.
//
// Heap keys are refreshed lazily: each heap entry stores the key it was
// placed with, and an entry's stored key is never worse than its agent's
// true key. A key that got better (a load drop under LeastOccupied) is
// stored and sifted up at once; a key that got worse (the agent was just
// given work) is left stale and fixed only when the entry surfaces at the
// top of a heap that is being read. An offer thus costs no heap work in the
// dozens of groups its agent belongs to.
func (e *Engine) reindex(a *agent) {
	r := a.ready()
	a.isReady = r
	kd := a.keyDirty
	a.keyDirty = false
	tk := a.key()
	for _, m := range a.members {
		e.count(m, r)
		g := m.g
		for ch := range nch {
			want := r && a.load[ch] < a.cap[ch]
			switch {
			case m.idx[ch] >= 0 && want:
				if e := &g.heaps[ch][m.idx[ch]]; kd && tk.before(e.k) {
					e.k = tk
					g.up(ch, m.idx[ch])
				}
			case m.idx[ch] >= 0:
				g.remove(ch, m)
			case want:
				g.push(ch, m, tk)
				for _, q := range g.queues {
					q.markRoute(ch)
				}
			}
		}
	}
}

// hkey is the changing part of an agent's place in a heap: occupancy
// (LeastOccupied only) and idleness.
type hkey struct {
	load, cap int // occupancy = load/cap; both 0 under LongestIdle
	idle      int64
}

func (a *agent) key() hkey {
	k := hkey{idle: a.idleNs}
	if a.ws.strategy == LeastOccupied {
		k.load, k.cap = a.loadTotal, a.capTotal
	}
	return k
}

// before reports whether key k ranks strictly before key o.
func (k hkey) before(o hkey) bool {
	if l, r := k.load*o.cap, o.load*k.cap; l != r {
		return l < r
	}
	return k.idle < o.idle
}

// hentry is a heap entry. It carries its ordering key (copied, so that
// comparisons stay inside the heap's own memory) and the key it was placed
// with, which is never worse than the agent's true key.
type hentry struct {
	prof int
	k    hkey
	m    *member
}

// less orders heap entries: higher proficiency, then the stored key, then
// agent id.
func less(x, y *hentry) bool {
	if x.prof != y.prof {
		return x.prof > y.prof
	}
	if x.k != y.k {
		if x.k.before(y.k) {
			return true
		}
		if y.k.before(x.k) {
			return false
		}
	}
	return x.m.a.id < y.m.a.id
}

func (g *group) push(ch int, m *member, k hkey) {
	h := append(g.heaps[ch], hentry{prof: m.prof, k: k, m: m})
	g.heaps[ch] = h
	m.idx[ch] = len(h) - 1
	g.up(ch, len(h)-1)
}

func (g *group) remove(ch int, m *member) {
	h := g.heaps[ch]
	i, n := m.idx[ch], len(h)-1
	if i != n {
		g.swap(ch, i, n)
	}
	h[n] = hentry{}
	g.heaps[ch] = h[:n]
	m.idx[ch] = -1
	if i != n {
		g.fix(ch, i)
	}
}

func (g *group) fix(ch, i int) {
	if !g.down(ch, i) {
		g.up(ch, i)
	}
}

func (g *group) swap(ch, i, j int) {
	h := g.heaps[ch]
	h[i], h[j] = h[j], h[i]
	h[i].m.idx[ch] = i
	h[j].m.idx[ch] = j
}

func (g *group) up(ch, j int) {
	h := g.heaps[ch]
	for j > 0 {
		i := (j - 1) / 2
		if !less(&h[j], &h[i]) {
			break
		}
		g.swap(ch, i, j)
		j = i
	}
}

func (g *group) down(ch, i0 int) bool {
	h := g.heaps[ch]
	n := len(h)
	i := i0
	for {
		j1 := 2*i + 1
		if j1 >= n || j1 < 0 {
			break
		}
		j := j1
		if j2 := j1 + 1; j2 < n && less(&h[j2], &h[j1]) {
			j = j2
		}
		if !less(&h[j], &h[i]) {
			break
		}
		g.swap(ch, i, j)
		i = j
	}
	return i > i0
}

// refresh stores the true key of the entry at i of heap ch if its stored
// key is stale, moving it down to its place; it reports whether it did.
func (g *group) refresh(ch, i int) bool {
	e := &g.heaps[ch][i]
	tk := e.m.a.key()
	if tk == e.k {
		return false
	}
	e.k = tk
	g.fix(ch, i)
	return true
}

// top returns the best entry of heap ch, nil when it is empty.
func (g *group) top(ch int) *member {
	for len(g.heaps[ch]) > 0 {
		if !g.refresh(ch, 0) {
			return g.heaps[ch][0].m
		}
	}
	return nil
}

// best returns the best member on channel ch who is not excluded, searching
// the heap best-first past excluded members; nil when there is none. Stale
// entries met on the way are refreshed and the search starts again.
func (g *group) best(ch int, excluded []string) *member {
search:
	for {
		t := g.top(ch)
		if t == nil {
			return nil
		}
		if len(excluded) == 0 || !slices.Contains(excluded, t.a.id) {
			return t
		}
		h := g.heaps[ch]
		// The frontier holds heap indexes whose parents were excluded.
		// It grows by at most one per excluded member, so it stays tiny.
		var buf [16]int
		frontier := append(buf[:0], 0)
		for len(frontier) > 0 {
			bi := 0
			for i := 1; i < len(frontier); i++ {
				if less(&h[frontier[i]], &h[frontier[bi]]) {
					bi = i
				}
			}
			x := frontier[bi]
			frontier = slices.Delete(frontier, bi, bi+1)
			if g.refresh(ch, x) {
				continue search
			}
			if !slices.Contains(excluded, h[x].m.a.id) {
				return h[x].m
			}
			for _, c := range [2]int{2*x + 1, 2*x + 2} {
				if c < len(h) {
					frontier = append(frontier, c)
				}
			}
		}
		return nil
	}
}
