package schedule

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/starpost/starpost/wfm/schedule/lp"
)

// Options tune Solve. The zero value is usable.
type Options struct {
	// ImproveFor bounds the local-improvement phase after the first
	// integer schedule (0 means until 80 % of the context deadline has
	// passed, or 2 s without a deadline; negative disables improvement).
	ImproveFor time.Duration
	// Seed makes the randomised parts reproducible.
	Seed uint64
}

// Shift is a number of agents assigned to one column.
type Shift struct {
	// Column is the concrete shift.
	Column Column
	// Agents is how many agents work it.
	Agents int
}

// Solution is an integer schedule with its proven lower bound.
type Solution struct {
	// Shifts lists the used columns with their agent counts.
	Shifts []Shift
	// Cost is the schedule's paid hours.
	Cost float64
	// LPValue is the LP relaxation value of the final basis (equal to the
	// LP optimum when LPStatus is Optimal).
	LPValue float64
	// LPStatus is the outcome of the root LP solve.
	LPStatus lp.Status
	// LowerBound is a proven lower bound on the paid hours of every
	// schedule: a dual-feasible objective, rounded up to the cost grid
	// (every schedule cost is a multiple of CostUnit).
	LowerBound float64
	// DualBound is the unrounded dual-feasible objective.
	DualBound float64
	// CostUnit is the largest unit dividing every column cost.
	CostUnit float64
	// Gap is (Cost − LowerBound) / LowerBound.
	Gap float64
	// Coverage is the number of working agents per interval.
	Coverage []int
	// Columns is the number of shift columns in the model.
	Columns int
	// LPIterations is the number of simplex pivots, dives included.
	LPIterations int
	// LPTime, DiveTime and ImproveTime are the phase durations.
	LPTime, DiveTime, ImproveTime time.Duration
	// DiveCost is the cost found by LP diving before local improvement.
	DiveCost float64
}

// model is an expanded problem with the indexes the heuristics need.
type model struct {
	n      int
	req    []int
	cols   []Column
	cost   []float64
	cover  [][]int    // cover[j]: covered intervals of column j
	bitset [][]uint64 // bitset[j]: same as cover[j]
	byInt  [][]int    // byInt[i]: columns covering interval i
	words  int
}

func newModel(p *Problem) (*model, error) {
	cols, err := p.Columns()
	if err != nil {
		return nil, err
	}
	n := len(p.Required)
	m := &model{n: n, req: p.Required, cols: cols, words: (n + 63) / 64}
	m.cost = make([]float64, len(cols))
	m.cover = make([][]int, len(cols))
	m.bitset = make([][]uint64, len(cols))
	m.byInt = make([][]int, n)
	for j := range cols {
		c := &cols[j]
		m.cost[j] = c.Cost
		bs := make([]uint64, m.words)
		var cv []int
		c.Covers(n, func(i int) {
			if bs[i>>6]&(1<<(i&63)) == 0 {
				bs[i>>6] |= 1 << (i & 63)
				cv = append(cv, i)
			}
		})
		slices.Sort(cv)
		m.cover[j], m.bitset[j] = cv, bs
		for _, i := range cv {
			m.byInt[i] = append(m.byInt[i], j)
		}
	}
	for i, r := range p.Required {
		if r > 0 && len(m.byInt[i]) == 0 {
			return nil, fmt.Errorf("schedule: interval %d needs %d agents but no shift covers it", i, r)
		}
	}
	return m, nil
}

func (m *model) lpProblem(rhs []float64) (*lp.Problem, error) {
	lpp, err := lp.NewProblem(m.n, rhs)
	if err != nil {
		return nil, fmt.Errorf("schedule: build lp: %w", err)
	}
	ones := make([]float64, m.n)
	for k := range ones {
		ones[k] = 1
	}
	for j := range m.cols {
		if _, err := lpp.AddColumn(m.cost[j], m.cover[j], ones[:len(m.cover[j])]); err != nil {
			return nil, fmt.Errorf("schedule: build lp: %w", err)
		}
	}
	return lpp, nil
}

// costUnit returns the largest 1/k (k ≤ 240) dividing every cost, or 0.
func costUnit(costs []float64) float64 {
	for k := 1; k <= 240; k++ {
		ok := true
		for _, c := range costs {
			v := c * float64(k)
			if math.Abs(v-math.Round(v)) > 1e-9 {
				ok = false
				break
			}
		}
		if ok {
			return 1 / float64(k)
		}
	}
	return 0
}

// Solve finds an integer schedule covering p.Required at minimum paid
// hours as far as ctx allows, and a proven lower bound. The root LP is
// solved to optimality unless ctx ends first; a context ending during the
// dive or improvement phases still yields the best schedule so far.
func Solve(ctx context.Context, p *Problem, opt Options) (*Solution, error) {
	start := time.Now()
	m, err := newModel(p)
	if err != nil {
		return nil, err
	}
	rhs := make([]float64, m.n)
	for i, r := range m.req {
		rhs[i] = float64(r)
	}
	lpp, err := m.lpProblem(rhs)
	if err != nil {
		return nil, err
	}
	solver := lp.NewSolver(lpp, lp.Options{Seed: opt.Seed})
	res, err := solver.Solve(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedule: root lp: %w", err)
	}
	sol := &Solution{
		LPValue:      res.Objective,
		LPStatus:     res.Status,
		DualBound:    res.Bound,
		CostUnit:     costUnit(m.cost),
		Columns:      len(m.cols),
		LPIterations: res.Iterations,
	}
	sol.LowerBound = sol.DualBound
	if u := sol.CostUnit; u > 0 {
		sol.LowerBound = math.Ceil(sol.DualBound/u-1e-9) * u
	}
	sol.LPTime = time.Since(start)

	t1 := time.Now()
	counts, its, err := m.dive(ctx, solver)
	sol.LPIterations += its
	if err != nil {
		return nil, err
	}
	sol.DiveTime = time.Since(t1)
	sol.DiveCost = m.totalCost(counts)

	t2 := time.Now()
	improve := opt.ImproveFor
	if improve == 0 {
		improve = 2 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			improve = time.Duration(float64(time.Until(dl)) * 0.8)
		}
	}
	if improve > 0 {
		ictx, cancel := context.WithTimeout(ctx, improve)
		m.improve(ictx, counts, rand.New(rand.NewPCG(opt.Seed, 7)))
		cancel()
	}
	sol.ImproveTime = time.Since(t2)

	cov := m.coverage(counts)
	for i, r := range m.req {
		if cov[i] < r {
			return nil, fmt.Errorf("schedule: internal error: interval %d covered %d < %d", i, cov[i], r)
		}
	}
	sol.Coverage = cov
	sol.Cost = m.totalCost(counts)
	for j, k := range counts {
		if k > 0 {
			sol.Shifts = append(sol.Shifts, Shift{Column: m.cols[j], Agents: k})
		}
	}
	if sol.LowerBound > 0 {
		sol.Gap = (sol.Cost - sol.LowerBound) / sol.LowerBound
	}
	return sol, nil
}

func (m *model) totalCost(counts []int) float64 {
	s := 0.0
	for j, k := range counts {
		s += float64(k) * m.cost[j]
	}
	return s
}

func (m *model) coverage(counts []int) []int {
	cov := make([]int, m.n)
	for j, k := range counts {
		if k == 0 {
			continue
		}
		for _, i := range m.cover[j] {
			cov[i] += k
		}
	}
	return cov
}

// dive turns the LP solution into an integer one: commit the integer parts,
// round up the most fractional-high columns, re-solve the residual LP from
// the warm basis, repeat.
func (m *model) dive(ctx context.Context, s *lp.Solver) ([]int, int, error) {
	counts := make([]int, len(m.cols))
	resid := make([]float64, m.n)
	for i, r := range m.req {
		resid[i] = float64(r)
	}
	its := 0
	commit := func(j, k int) {
		counts[j] += k
		for _, i := range m.cover[j] {
			resid[i] -= float64(k)
		}
	}
	type fr struct {
		j int
		f float64
	}
	for round := 0; ; round++ {
		x := s.X()
		var fracs []fr
		for j, v := range x {
			fl := math.Floor(v + 1e-6)
			if fl > 0 {
				commit(j, int(fl))
			}
			if f := v - fl; f > 1e-6 {
				fracs = append(fracs, fr{j, f})
			}
		}
		if len(fracs) == 0 {
			break
		}
		slices.SortFunc(fracs, func(a, b fr) int {
			if a.f != b.f {
				if a.f > b.f {
					return -1
				}
				return 1
			}
			return a.j - b.j
		})
		up := 0
		for _, f := range fracs {
			if f.f >= 0.5 || up == 0 {
				commit(f.j, 1)
				up++
			}
		}
		if err := s.SetRHS(resid); err != nil {
			return nil, its, fmt.Errorf("schedule: dive round %d: %w", round, err)
		}
		res, err := s.Solve(ctx)
		its += res.Iterations
		if err != nil {
			if errors.Is(err, ctx.Err()) && ctx.Err() != nil {
				// Out of time: finish greedily.
				m.greedyRepair(counts)
				return counts, its, nil
			}
			return nil, its, fmt.Errorf("schedule: dive round %d: %w", round, err)
		}
	}
	m.greedyRepair(counts)
	return counts, its, nil
}

// greedyRepair adds the column with the best cost per newly covered
// deficit until every interval is covered.
func (m *model) greedyRepair(counts []int) {
	cov := m.coverage(counts)
	for {
		first := -1
		for i, r := range m.req {
			if cov[i] < r {
				first = i
				break
			}
		}
		if first < 0 {
			return
		}
		best, bestRatio := -1, math.Inf(1)
		for _, j := range m.byInt[first] {
			gain := 0
			for _, i := range m.cover[j] {
				if cov[i] < m.req[i] {
					gain++
				}
			}
			if r := m.cost[j] / float64(gain); r < bestRatio {
				best, bestRatio = j, r
			}
		}
		counts[best]++
		for _, i := range m.cover[best] {
			cov[i]++
		}
	}
}

// improve runs local search moves that keep coverage and never raise the
// cost: drop redundant shifts; replace a shift by a cheaper one that covers
// what only it covered; random equal-cost moves to escape plateaus.
func (m *model) improve(ctx context.Context, counts []int, rng *rand.Rand) {
	cov := m.coverage(counts)
	need := make([]uint64, m.words)
	used := func() []int {
		var u []int
		for j, k := range counts {
			if k > 0 {
				u = append(u, j)
			}
		}
		return u
	}
	// criticalSet marks intervals of column j with zero surplus.
	critical := func(j int) bool {
		any := false
		for w := range need {
			need[w] = 0
		}
		for _, i := range m.cover[j] {
			if cov[i] <= m.req[i] {
				need[i>>6] |= 1 << (i & 63)
				any = true
			}
		}
		return any
	}
	covers := func(j int) bool {
		bs := m.bitset[j]
		for w, v := range need {
			if v&^bs[w] != 0 {
				return false
			}
		}
		return true
	}
	move := func(from, to int) {
		counts[from]--
		for _, i := range m.cover[from] {
			cov[i]--
		}
		if to >= 0 {
			counts[to]++
			for _, i := range m.cover[to] {
				cov[i]++
			}
		}
	}
	firstNeed := func() int {
		for w, v := range need {
			if v != 0 {
				return w*64 + bits.TrailingZeros64(v)
			}
		}
		return -1
	}
	for pass := 0; ; pass++ {
		if ctx.Err() != nil {
			return
		}
		improved := false
		u := used()
		slices.SortFunc(u, func(a, b int) int {
			if m.cost[a] != m.cost[b] {
				if m.cost[a] > m.cost[b] {
					return -1
				}
				return 1
			}
			return a - b
		})
		for _, j := range u {
			for counts[j] > 0 {
				if !critical(j) {
					move(j, -1)
					improved = true
					continue
				}
				f := firstNeed()
				best := -1
				for _, c := range m.byInt[f] {
					if m.cost[c] < m.cost[j]-1e-9 && covers(c) && (best < 0 || m.cost[c] < m.cost[best]) {
						best = c
					}
				}
				if best < 0 {
					break
				}
				move(j, best)
				improved = true
			}
		}
		if improved {
			continue
		}
		// Plateau: move random shifts to equal-cost alternatives that still
		// cover their critical intervals, then look for drops again.
		u = used()
		if len(u) == 0 {
			return
		}
		for t := 0; t < len(u); t++ {
			if t%64 == 0 && ctx.Err() != nil {
				return
			}
			j := u[rng.IntN(len(u))]
			if counts[j] == 0 || !critical(j) {
				continue
			}
			f := firstNeed()
			cands := m.byInt[f]
			c := cands[rng.IntN(len(cands))]
			if c != j && m.cost[c] <= m.cost[j]+1e-9 && covers(c) {
				move(j, c)
			}
		}
	}
}
