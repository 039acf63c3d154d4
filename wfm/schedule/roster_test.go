package schedule

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// weekProblem is a cyclic week at hourly intervals with a daily curve.
func weekProblem(scale float64) *Problem {
	req := make([]int, 7*24)
	for i := range req {
		h := float64(i % 24)
		req[i] = int(math.Round(scale * (1 + math.Max(0, math.Sin((h-7)/14*math.Pi)))))
	}
	return &Problem{Required: req, IntervalMinutes: 60, Cyclic: true, Templates: []Template{
		{Name: "4h", Length: 4},
		{Name: "8h", Length: 9, Breaks: []Break{{Length: 1, EarliestOffset: 3, LatestOffset: 5}}},
	}}
}

func randomAgents(rng *rand.Rand, count, horizon, perDay int) []Agent {
	agents := make([]Agent, count)
	for a := range agents {
		ag := Agent{ID: fmt.Sprintf("a%04d", a), MaxHours: float64(20 + 4*rng.IntN(6)), Skills: []string{"chat"}}
		ag.MinHours = ag.MaxHours / 2
		if rng.IntN(10) == 0 {
			ag.Skills = []string{"voice"}
		}
		if rng.IntN(3) == 0 { // a flexible agent with a few windows
			for d := 0; d < horizon/perDay; d++ {
				if rng.IntN(2) == 0 {
					s := d*perDay + rng.IntN(perDay/2)
					ag.Available = append(ag.Available, Window{Start: s, End: s + perDay/2 + rng.IntN(perDay/2)})
				}
			}
			if ag.Available == nil {
				ag.Available = []Window{{Start: 0, End: perDay}}
			}
		}
		agents[a] = ag
	}
	return agents
}

// verifyRoster re-derives every rule from the public view of the roster.
func verifyRoster(t *testing.T, p *Problem, r *Roster, agents []Agent, rules Rules) {
	t.Helper()
	n := len(p.Required)
	per := map[int][]Slot{}
	for _, s := range r.Slots() {
		if a := r.Owner(s.ID); a >= 0 {
			per[a] = append(per[a], s)
		}
	}
	for a, slots := range per {
		ag := agents[a]
		if rules.Skill != "" && !slices.Contains(ag.Skills, rules.Skill) {
			t.Errorf("agent %s lacks skill %s", ag.ID, rules.Skill)
		}
		hours := 0.0
		type span struct{ s, e int }
		var spans []span
		days := map[int]bool{}
		for _, s := range slots {
			st := s.Column.Start
			en := st + p.Templates[s.Column.Template].Length
			hours += s.Column.Cost
			spans = append(spans, span{st, en})
			days[st/rules.IntervalsPerDay] = true
			if ag.Available != nil {
				ok := false
				for _, w := range ag.Available {
					for _, off := range []int{0, n} {
						ok = ok || (st+off >= w.Start && en+off <= w.End)
					}
				}
				if !ok {
					t.Errorf("agent %s works [%d,%d) outside %v", ag.ID, st, en, ag.Available)
				}
			}
		}
		if ag.MaxHours > 0 && hours > ag.MaxHours+1e-9 {
			t.Errorf("agent %s works %.1f h > %.1f", ag.ID, hours, ag.MaxHours)
		}
		if math.Abs(hours-r.Hours(a)) > 1e-9 {
			t.Errorf("agent %s hours %.2f, roster says %.2f", ag.ID, hours, r.Hours(a))
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].s < spans[j].s })
		for k := range spans {
			next := spans[(k+1)%len(spans)]
			gap := next.s - spans[k].e
			if k == len(spans)-1 {
				if len(spans) == 1 {
					continue
				}
				gap += n // cyclic wrap to the first shift next week
			}
			if gap < rules.MinRest {
				t.Errorf("agent %s rests %d < %d after [%d,%d)", ag.ID, gap, rules.MinRest, spans[k].s, spans[k].e)
			}
		}
		nd := n / rules.IntervalsPerDay
		for d := 0; d < nd; d++ {
			run := 0
			for run < nd && days[(d+run)%nd] {
				run++
			}
			if run > rules.MaxConsecutiveDays {
				t.Errorf("agent %s works %d consecutive days from day %d", ag.ID, run, d)
			}
		}
	}
}

func TestAssignRespectsEveryRule(t *testing.T) {
	tests := []struct {
		name   string
		scale  float64
		agents int
		rules  Rules
	}{
		{"ample agents", 6, 120, Rules{MinRest: 11, IntervalsPerDay: 24, MaxConsecutiveDays: 5, Skill: "chat"}},
		{"scarce agents leave open slots", 6, 25, Rules{MinRest: 11, IntervalsPerDay: 24, MaxConsecutiveDays: 4, Skill: "chat"}},
		{"no skill rule", 3, 60, Rules{MinRest: 12, IntervalsPerDay: 24, MaxConsecutiveDays: 3}},
	}
	for k, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := weekProblem(tc.scale)
			sol, err := Solve(context.Background(), p, Options{ImproveFor: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			agents := randomAgents(rand.New(rand.NewPCG(uint64(k), 9)), tc.agents, len(p.Required), 24)
			r, err := NewRoster(p, sol, agents, tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			open, err := r.Assign(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Check(); err != nil {
				t.Fatal(err)
			}
			verifyRoster(t, p, r, agents, tc.rules)
			if got := len(r.Open()); got != open {
				t.Errorf("Assign reported %d open slots, Open lists %d", open, got)
			}
			t.Logf("%d slots, %d open, %d agents below minimum hours", len(r.Slots()), open, len(r.Shortfalls()))
		})
	}
}

func TestClaim(t *testing.T) {
	// Two days of hourly intervals, one 4-hour shift needed each day.
	req := make([]int, 48)
	for i := 8; i < 12; i++ {
		req[i], req[24+i] = 1, 1
	}
	req[30] = 1
	p := &Problem{Required: req, IntervalMinutes: 60, Templates: []Template{{Name: "4h", Length: 4}}}
	cols, _ := p.Columns()
	at := func(s int) Column { return cols[s] }
	sol := &Solution{Shifts: []Shift{{Column: at(8), Agents: 1}, {Column: at(20), Agents: 1}, {Column: at(32), Agents: 1}, {Column: at(28), Agents: 1}}}
	agents := []Agent{
		{ID: "free", Skills: []string{"chat"}},
		{ID: "noskill", Skills: []string{"voice"}},
		{ID: "evening", Skills: []string{"chat"}, Available: []Window{{Start: 16, End: 24}}},
		{ID: "tiny", Skills: []string{"chat"}, MaxHours: 3},
		{ID: "busy", Skills: []string{"chat"}},
	}
	rules := Rules{MinRest: 11, IntervalsPerDay: 24, MaxConsecutiveDays: 1, Skill: "chat"}
	r, err := NewRoster(p, sol, agents, rules)
	if err != nil {
		t.Fatal(err)
	}
	// busy holds day 0 morning (slot 0).
	if err := r.Claim(4, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		agent  int
		slot   int
		reason string // substring of the rejection, "" for acceptance
	}{
		{"taken slot", 0, 0, "already taken"},
		{"missing skill", 1, 2, "lacks skill"},
		{"outside availability", 2, 2, "not available"},
		{"over contract hours", 3, 2, "contract maximum"},
		{"too little rest", 4, 1, "rest 8 intervals"},  // ends 12, next starts 20
		{"consecutive days", 4, 2, "consecutive days"}, // day 0 and day 1 with max 1
		{"not needed", 0, 1, "no needed coverage"},     // 20..24 covers no requirement
		{"valid claim", 0, 2, ""},                      // day 1 morning
		{"taken after a valid claim", 2, 2, "already taken"},
		{"outside availability on day 1", 2, 3, "not available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Claim(tc.agent, tc.slot)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Claim(%d,%d) = %v, want acceptance", tc.agent, tc.slot, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Claim(%d,%d) = %v, want rejection for %q", tc.agent, tc.slot, err, tc.reason)
			}
			if !errors.Is(err, ErrClaimRejected) {
				t.Errorf("error %v does not wrap ErrClaimRejected", err)
			}
		})
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	verifyRoster(t, p, r, agents, rules)
	if err := r.Release(0, 2); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(0, 2); err == nil {
		t.Error("double release accepted")
	}
	if err := r.Claim(0, 2); err != nil {
		t.Errorf("claim after release: %v", err)
	}
}

func TestRestAndRunHelpers(t *testing.T) {
	tests := []struct {
		name           string
		s1, e1, s2, e2 int
		n              int
		cyclic         bool
		want           int
	}{
		{"after", 0, 8, 20, 28, 168, false, 12},
		{"before", 20, 28, 0, 8, 168, false, 12},
		{"overlap", 0, 8, 4, 12, 168, false, -1},
		{"wrap", 160, 168, 5, 9, 168, true, 5},
		{"no wrap when linear", 160, 168, 5, 9, 168, false, 151},
	}
	for _, tc := range tests {
		if got := restBetween(tc.s1, tc.e1, tc.s2, tc.e2, tc.n, tc.cyclic); got != tc.want {
			t.Errorf("%s: rest %d, want %d", tc.name, got, tc.want)
		}
	}
	runs := []struct {
		w      []bool
		cyclic bool
		want   int
	}{
		{[]bool{true, true, false, true}, false, 2},
		{[]bool{true, true, false, true}, true, 3},
		{[]bool{true, true, true}, true, 3},
		{[]bool{false, false}, true, 0},
	}
	for _, tc := range runs {
		if got := longestRun(tc.w, tc.cyclic); got != tc.want {
			t.Errorf("longestRun(%v,%v) = %d, want %d", tc.w, tc.cyclic, got, tc.want)
		}
	}
}

// benchRoster builds a week at 15-minute intervals rostered with 2,000
// agents, the target size.
func benchRoster(b *testing.B) (*Problem, *Roster) {
	b.Helper()
	req := make([]int, 672)
	for i := range req {
		h := float64(i%96) / 4
		req[i] = int(math.Round(40 + 50*math.Max(0, math.Sin((h-7)/14*math.Pi))))
	}
	p := &Problem{Required: req, Cyclic: true, Templates: BenchmarkTemplates()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sol, err := Solve(ctx, p, Options{ImproveFor: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	agents := randomAgents(rand.New(rand.NewPCG(1, 1)), 2000, 672, 96)
	r, err := NewRoster(p, sol, agents, Rules{MinRest: 44, IntervalsPerDay: 96, MaxConsecutiveDays: 5, Skill: "chat"})
	if err != nil {
		b.Fatal(err)
	}
	return p, r
}

func BenchmarkAssign2000Agents(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		_, r := benchRoster(b)
		b.StartTimer()
		open, err := r.Assign(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(r.Slots())), "slots")
		b.ReportMetric(float64(open), "open-slots")
	}
}

func BenchmarkClaim(b *testing.B) {
	_, r := benchRoster(b)
	if _, err := r.Assign(context.Background()); err != nil {
		b.Fatal(err)
	}
	// Free a tenth of the slots so there are open, needed slots to claim.
	for s := 0; s < len(r.Slots()); s += 10 {
		if a := r.Owner(s); a >= 0 {
			if err := r.Release(a, s); err != nil {
				b.Fatal(err)
			}
		}
	}
	open := r.Open()
	rng := rand.New(rand.NewPCG(2, 2))
	var lat []time.Duration
	accepted := 0
	for b.Loop() {
		s := open[rng.IntN(len(open))].ID
		a := rng.IntN(2000)
		t0 := time.Now()
		err := r.Claim(a, s)
		lat = append(lat, time.Since(t0))
		if err == nil {
			accepted++
			if err := r.Release(a, s); err != nil {
				b.Fatal(err)
			}
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns/claim")
	b.ReportMetric(float64(accepted)/float64(len(lat)), "accepted/claim")
}

func TestConcurrentClaimsFirstComeWins(t *testing.T) {
	p := weekProblem(2)
	sol, err := Solve(context.Background(), p, Options{ImproveFor: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	agents := make([]Agent, 16)
	for a := range agents {
		agents[a] = Agent{ID: fmt.Sprintf("f%02d", a), Skills: []string{"chat"}}
	}
	rules := Rules{MinRest: 11, IntervalsPerDay: 24, MaxConsecutiveDays: 6, Skill: "chat"}
	r, err := NewRoster(p, sol, agents, rules)
	if err != nil {
		t.Fatal(err)
	}
	slot := r.Open()[0].ID
	wins := make(chan int, len(agents))
	done := make(chan struct{})
	for a := range agents {
		go func() {
			if r.Claim(a, slot) == nil {
				wins <- a
			}
			done <- struct{}{}
		}()
	}
	for range agents {
		<-done
	}
	close(wins)
	var winners []int
	for a := range wins {
		winners = append(winners, a)
	}
	if len(winners) != 1 || r.Owner(slot) != winners[0] {
		t.Fatalf("winners %v, owner %d; want exactly one", winners, r.Owner(slot))
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
}
