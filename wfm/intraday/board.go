// Package intraday publishes open slots when a day turns out busier than
// planned: from the day's (re-forecast) requirement curve and the
// published roster it finds the under-staffed intervals, covers the
// shortfall with short flexible shifts at least paid hours (the same
// LP-based optimiser as the weekly schedule), and lets flexible agents
// claim those slots first come, first served, with skills, availability,
// contract hours, rest and consecutive-day rules checked by
// schedule.Roster. It is an engine only: no HTTP, no storage.
package intraday

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/starpost/starpost/wfm/schedule"
)

// Assignment is a published shift held by one agent.
type Assignment struct {
	// Agent indexes Config.Agents.
	Agent int
	// Column is the shift, on the published problem's horizon.
	Column schedule.Column
}

// Published returns the held slots of a roster as assignments, for a
// Config built from the weekly schedule.
func Published(r *schedule.Roster) []Assignment {
	var out []Assignment
	for _, s := range r.Slots() {
		if a := r.Owner(s.ID); a >= 0 {
			out = append(out, Assignment{Agent: a, Column: s.Column})
		}
	}
	return out
}

// Config describes one day to re-plan.
type Config struct {
	// Problem is the published schedule's problem: its horizon, interval
	// length, cyclicity and the templates the published columns refer to.
	// Its Required is not used.
	Problem *schedule.Problem
	// Published are the shifts agents already hold, over the whole
	// horizon (shifts on other days matter for rest and day rules).
	Published []Assignment
	// Agents are every agent: those holding published shifts and the
	// flexible agents who may claim open slots.
	Agents []schedule.Agent
	// Rules are the labour rules claims must respect.
	Rules schedule.Rules
	// Curve is the day's requirement (agents on shift) per interval,
	// starting at interval From of the horizon.
	Curve []int
	// From is the horizon interval of Curve[0]: the current interval when
	// re-planning during the day, so no slot starts in the past.
	From int
	// Flex are the templates of open slots (short shifts such as 2 or 4
	// hours); nil means the published templates.
	Flex []schedule.Template
	// SolveTime bounds the optimiser that cuts the shortfall into slots
	// (1 s when zero).
	SolveTime time.Duration
	// Now is the clock stamped on claims.
	Now func() time.Time
}

// OpenSlot is a published open shift that a flexible agent may claim.
type OpenSlot struct {
	// ID identifies the slot in Claim and Release.
	ID int
	// Template names the shift kind.
	Template string
	// Start and End are horizon intervals [Start, End).
	Start, End int
	// PaidHours is the paid time of the shift.
	PaidHours float64
	// Short is the number of intervals it covers that are under-staffed.
	Short int
}

// Gap is an under-staffed interval.
type Gap struct {
	// Interval is the horizon interval.
	Interval int
	// Required and Staffed are agents needed and agents on shift.
	Required, Staffed int
}

// ClaimRecord is an accepted claim.
type ClaimRecord struct {
	// Agent is the agent's ID.
	Agent string
	// Slot is the claimed slot's ID.
	Slot int
	// At is when the claim was accepted, by Config.Now.
	At time.Time
}

// Board holds a day's open slots and serves claims. Its methods are safe
// for concurrent use; claims are served in arrival order.
type Board struct {
	mu        sync.Mutex
	roster    *schedule.Roster
	problem   *schedule.Problem // roster problem: Required = max(need, published)
	need      []int             // true requirement per horizon interval
	cov       []int             // agents on shift per horizon interval
	from, to  int
	byID      map[string]int
	ids       []string
	firstNew  int // slots from here on are the day's open slots
	claims    []ClaimRecord
	now       func() time.Time
	shortfall float64 // agent-hours short when the board was built
}

// NewBoard finds the day's under-staffed intervals and publishes open
// slots covering them. Published shifts are re-checked against the rules
// as they are loaded; a published roster that breaks a rule is an error.
func NewBoard(ctx context.Context, cfg Config) (*Board, error) {
	p := cfg.Problem
	if p == nil {
		return nil, errors.New("intraday: no problem")
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("intraday: %w", err)
	}
	if cfg.Now == nil {
		return nil, errors.New("intraday: no clock")
	}
	n := len(p.Required)
	from, to := cfg.From, cfg.From+len(cfg.Curve)
	if len(cfg.Curve) == 0 || from < 0 || to > n {
		return nil, fmt.Errorf("intraday: day [%d,%d) outside the horizon of %d intervals", from, to, n)
	}
	for i, r := range cfg.Curve {
		if r < 0 {
			return nil, fmt.Errorf("intraday: interval %d: negative requirement %d", from+i, r)
		}
	}
	b := &Board{need: make([]int, n), cov: make([]int, n), from: from, to: to, byID: make(map[string]int, len(cfg.Agents)), now: cfg.Now}
	for a, ag := range cfg.Agents {
		if _, dup := b.byID[ag.ID]; dup {
			return nil, fmt.Errorf("intraday: duplicate agent %q", ag.ID)
		}
		b.byID[ag.ID] = a
		b.ids = append(b.ids, ag.ID)
	}
	pub := make([]int, n)
	for k, as := range cfg.Published {
		if as.Agent < 0 || as.Agent >= len(cfg.Agents) || as.Column.Template < 0 || as.Column.Template >= len(p.Templates) {
			return nil, fmt.Errorf("intraday: published shift %d: bad agent or template", k)
		}
		as.Column.Covers(n, func(i int) { pub[i]++ })
	}
	// The requirement: the day's curve inside the day, the published
	// coverage elsewhere (nothing to re-plan there).
	copy(b.need, pub)
	copy(b.need[from:to], cfg.Curve)
	short := make([]int, to-from)
	anyShort := false
	for i := range short {
		short[i] = max(0, cfg.Curve[i]-pub[from+i])
		anyShort = anyShort || short[i] > 0
		b.shortfall += float64(short[i]) * float64(minutes(p)) / 60
	}

	// The roster's problem: published templates then flexible ones;
	// Required is at least the published coverage, so every published
	// shift is "needed" while it is loaded, and open slots are needed
	// exactly where the day is short.
	flex := cfg.Flex
	if flex == nil {
		flex = p.Templates
	}
	rp := &schedule.Problem{Required: make([]int, n), IntervalMinutes: p.IntervalMinutes, Cyclic: p.Cyclic,
		Templates: append(slices.Clone(p.Templates), flex...)}
	for i := range rp.Required {
		rp.Required[i] = max(b.need[i], pub[i])
	}
	sol := &schedule.Solution{}
	for _, as := range cfg.Published {
		sol.Shifts = append(sol.Shifts, schedule.Shift{Column: as.Column, Agents: 1})
	}
	b.firstNew = len(sol.Shifts)
	if anyShort {
		extra, err := cover(ctx, short, flex, p, from, len(p.Templates), cfg.SolveTime)
		if err != nil {
			return nil, err
		}
		sol.Shifts = append(sol.Shifts, extra...)
	}
	r, err := schedule.NewRoster(rp, sol, cfg.Agents, cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("intraday: %w", err)
	}
	for k, as := range cfg.Published {
		if err := r.Claim(as.Agent, k); err != nil {
			return nil, fmt.Errorf("intraday: published shift %d of agent %s: %w", k, cfg.Agents[as.Agent].ID, err)
		}
		as.Column.Covers(n, func(i int) { b.cov[i]++ })
	}
	b.roster, b.problem = r, rp
	return b, nil
}

func minutes(p *schedule.Problem) int {
	if p.IntervalMinutes <= 0 {
		return 15
	}
	return p.IntervalMinutes
}

// cover cuts the shortfall of the day into shifts of the flexible
// templates, placed on the horizon from interval from, with template
// indexes offset by tplBase.
func cover(ctx context.Context, short []int, flex []schedule.Template, p *schedule.Problem, from, tplBase int, budget time.Duration) ([]schedule.Shift, error) {
	sub := &schedule.Problem{Required: short, IntervalMinutes: p.IntervalMinutes}
	var orig []int // orig[k]: index in flex of sub.Templates[k]
	for k, t := range flex {
		t.Starts = nil // any start inside the rest of the day
		if t.Length <= len(short) {
			sub.Templates = append(sub.Templates, t)
			orig = append(orig, k)
		}
	}
	if len(sub.Templates) == 0 {
		return nil, fmt.Errorf("intraday: no flexible template fits in the %d intervals left of the day", len(short))
	}
	if budget <= 0 {
		budget = time.Second
	}
	sctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	sol, err := schedule.Solve(sctx, sub, schedule.Options{})
	if sol == nil {
		return nil, fmt.Errorf("intraday: cover the shortfall: %w", err)
	}
	// A partial LP still yields a covering (greedy) schedule; keep it.
	n := len(p.Required)
	out := make([]schedule.Shift, 0, len(sol.Shifts))
	for _, s := range sol.Shifts {
		c := s.Column
		c.Template = tplBase + orig[c.Template]
		c.Start += from
		c.BreakStarts = slices.Clone(c.BreakStarts)
		segs := make([]schedule.Segment, len(c.Segments))
		for k, sg := range c.Segments {
			segs[k] = schedule.Segment{Start: (sg.Start + from) % n, Len: sg.Len}
		}
		c.Segments = segs
		for range s.Agents {
			out = append(out, schedule.Shift{Column: c, Agents: 1})
		}
	}
	return out, nil
}

// Open returns the open slots that would still add needed coverage, in
// start order: unclaimed day slots and published shifts given back.
func (b *Board) Open() []OpenSlot {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.need)
	var out []OpenSlot
	for _, s := range b.roster.Open() {
		c := s.Column
		short := 0
		c.Covers(n, func(i int) {
			if b.cov[i] < b.need[i] {
				short++
			}
		})
		if short == 0 {
			continue
		}
		tp := b.problem.Templates[c.Template]
		out = append(out, OpenSlot{ID: s.ID, Template: tp.Name, Start: c.Start, End: c.Start + tp.Length, PaidHours: c.Cost, Short: short})
	}
	slices.SortStableFunc(out, func(x, y OpenSlot) int { return x.Start - y.Start })
	return out
}

// Understaffed returns the day's intervals with fewer agents on shift
// than required.
func (b *Board) Understaffed() []Gap {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Gap
	for i := b.from; i < b.to; i++ {
		if b.cov[i] < b.need[i] {
			out = append(out, Gap{Interval: i, Required: b.need[i], Staffed: b.cov[i]})
		}
	}
	return out
}

// Shortfall returns the agent-hours the day was short when the board was
// built (before any claim).
func (b *Board) Shortfall() float64 { return b.shortfall }

// ErrUnknownAgent is returned for an agent ID the board does not know.
var ErrUnknownAgent = errors.New("intraday: unknown agent")

// Claim gives open slot slot to the agent when it is still open, still
// adds needed coverage and the agent meets every rule; the first of
// concurrent claims wins. A rejection wraps schedule.ErrClaimRejected and
// says why.
func (b *Board) Claim(agentID string, slot int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.byID[agentID]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownAgent, agentID)
	}
	if err := b.roster.Claim(a, slot); err != nil {
		return fmt.Errorf("intraday: agent %s, slot %d: %w", agentID, slot, err)
	}
	b.roster.Slots()[slot].Column.Covers(len(b.cov), func(i int) { b.cov[i]++ })
	b.claims = append(b.claims, ClaimRecord{Agent: agentID, Slot: slot, At: b.now()})
	return nil
}

// Release gives slot back from the agent holding it (a claimed or a
// published shift); it reopens if its coverage is still needed.
func (b *Board) Release(agentID string, slot int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.byID[agentID]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownAgent, agentID)
	}
	if err := b.roster.Release(a, slot); err != nil {
		return fmt.Errorf("intraday: %w", err)
	}
	b.roster.Slots()[slot].Column.Covers(len(b.cov), func(i int) { b.cov[i]-- })
	return nil
}

// Claims returns the accepted claims in order.
func (b *Board) Claims() []ClaimRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.claims)
}

// Holder returns the ID of the agent holding slot, or "" when it is open.
func (b *Board) Holder(slot int) string {
	a := b.roster.Owner(slot)
	if a < 0 {
		return ""
	}
	return b.ids[a]
}

// Check verifies every labour rule for every agent from scratch
// (schedule.Roster.Check) and that the board's coverage matches the
// holders of every slot.
func (b *Board) Check() error {
	if err := b.roster.Check(); err != nil {
		return fmt.Errorf("intraday: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cov := make([]int, len(b.cov))
	for _, s := range b.roster.Slots() {
		if b.roster.Owner(s.ID) >= 0 {
			s.Column.Covers(len(cov), func(i int) { cov[i]++ })
		}
	}
	for i := range cov {
		if cov[i] != b.cov[i] {
			return fmt.Errorf("intraday: interval %d: coverage %d, holders give %d", i, b.cov[i], cov[i])
		}
	}
	return nil
}
