package schedule

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestColumnsExpansion(t *testing.T) {
	tests := []struct {
		name      string
		p         Problem
		wantCols  int
		wantCost  float64 // cost of the first column
		wantCover []int   // intervals covered by the column starting at start
		start     int
	}{
		{
			name:     "plain cyclic shift wraps",
			p:        Problem{Required: make([]int, 10), Cyclic: true, Templates: []Template{{Length: 4}}},
			wantCols: 10, wantCost: 1, start: 8, wantCover: []int{0, 1, 8, 9},
		},
		{
			name:     "non-cyclic drops shifts past the end",
			p:        Problem{Required: make([]int, 10), Templates: []Template{{Length: 4}}},
			wantCols: 7, wantCost: 1, start: 6, wantCover: []int{6, 7, 8, 9},
		},
		{
			name: "unpaid break is not paid and not covered",
			p: Problem{Required: make([]int, 12), Cyclic: true, Templates: []Template{{Length: 8, Starts: []int{2},
				Breaks: []Break{{Length: 2, EarliestOffset: 3, LatestOffset: 3}}}}},
			wantCols: 1, wantCost: 1.5, start: 2, wantCover: []int{2, 3, 4, 7, 8, 9},
		},
		{
			name: "paid break is paid but not covered",
			p: Problem{Required: make([]int, 12), IntervalMinutes: 30, Templates: []Template{{Length: 8, Starts: []int{0},
				Breaks: []Break{{Length: 1, EarliestOffset: 2, LatestOffset: 2, Paid: true}}}}},
			wantCols: 1, wantCost: 4, start: 0, wantCover: []int{0, 1, 3, 4, 5, 6, 7},
		},
		{
			name: "break and lunch windows multiply",
			p: Problem{Required: make([]int, 40), Templates: []Template{{Length: 20, Starts: []int{0}, PaidHours: 5,
				Breaks: []Break{{Length: 1, EarliestOffset: 3, LatestOffset: 5}, {Length: 2, EarliestOffset: 5, LatestOffset: 8}}}}},
			// break at 3 → lunch 5..8 (4); at 4 → 5..8 (4); at 5 → 6..8 (3)
			wantCols: 11, wantCost: 5, start: 0, wantCover: []int{0, 1, 2, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
		},
		{
			name:     "benchmark templates",
			p:        Problem{Required: make([]int, 672), Cyclic: true, Templates: BenchmarkTemplates()},
			wantCols: 8064, wantCost: 4, start: 670, wantCover: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 670, 671},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cols, err := tc.p.Columns()
			if err != nil {
				t.Fatal(err)
			}
			if len(cols) != tc.wantCols {
				t.Fatalf("%d columns, want %d", len(cols), tc.wantCols)
			}
			if cols[0].Cost != tc.wantCost {
				t.Errorf("cost %v, want %v", cols[0].Cost, tc.wantCost)
			}
			for _, c := range cols {
				if c.Start != tc.start {
					continue
				}
				var got []int
				c.Covers(len(tc.p.Required), func(i int) { got = append(got, i) })
				slices.Sort(got)
				if !slices.Equal(got, tc.wantCover) {
					t.Errorf("column at %d (breaks %v) covers %v, want %v", c.Start, c.BreakStarts, got, tc.wantCover)
				}
				break
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
	}{
		{"no intervals", Problem{Templates: []Template{{Length: 1}}}},
		{"negative requirement", Problem{Required: []int{1, -1}, Templates: []Template{{Length: 1}}}},
		{"no templates", Problem{Required: []int{1}}},
		{"too long", Problem{Required: []int{1}, Templates: []Template{{Length: 2}}}},
		{"bad start", Problem{Required: []int{1, 1}, Templates: []Template{{Length: 1, Starts: []int{2}}}}},
		{"break at the edge", Problem{Required: make([]int, 8), Templates: []Template{{Length: 4, Breaks: []Break{{Length: 1, EarliestOffset: 0, LatestOffset: 1}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.p.Columns(); err == nil {
				t.Error("accepted")
			}
		})
	}
	p := &Problem{Required: []int{0, 0, 3}, Templates: []Template{{Length: 2, Starts: []int{0}}}}
	if _, err := Solve(context.Background(), p, Options{}); err == nil {
		t.Error("uncoverable interval accepted")
	}
}

func TestReadRequirements(t *testing.T) {
	tests := []struct {
		name, in string
		want     []int
		wantErr  bool
	}{
		{"benchmark layout", "interval,day,time,required_agents\n0,0,00:00,3\n1,0,00:15,0\n2,0,00:30,5\n", []int{3, 0, 5}, false},
		{"only requirement", "required_agents\n4\n2\n", []int{4, 2}, false},
		{"missing column", "interval,agents\n0,1\n", nil, true},
		{"out of order", "interval,required_agents\n0,1\n2,1\n", nil, true},
		{"negative", "interval,required_agents\n0,-1\n", nil, true},
		{"not a number", "interval,required_agents\n0,x\n", nil, true},
		{"empty", "interval,required_agents\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadRequirements(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// exactOptimum finds the cheapest integer schedule by depth-first search:
// some column must cover the first interval still short, so branching over
// every such column enumerates every minimal schedule.
func exactOptimum(t *testing.T, p *Problem) float64 {
	t.Helper()
	cols, err := p.Columns()
	if err != nil {
		t.Fatal(err)
	}
	n := len(p.Required)
	cov := make([]int, n)
	best := math.Inf(1)
	var dfs func(cost float64)
	dfs = func(cost float64) {
		if cost >= best {
			return
		}
		first := -1
		for i, r := range p.Required {
			if cov[i] < r {
				first = i
				break
			}
		}
		if first < 0 {
			best = cost
			return
		}
		for j := range cols {
			hit := false
			cols[j].Covers(n, func(i int) { hit = hit || i == first })
			if !hit {
				continue
			}
			cols[j].Covers(n, func(i int) { cov[i]++ })
			dfs(cost + cols[j].Cost)
			cols[j].Covers(n, func(i int) { cov[i]-- })
		}
	}
	dfs(0)
	return best
}

func TestSolveTinyAgainstEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	templates := []Template{
		{Name: "short", Length: 3},
		{Name: "long", Length: 6, PaidHours: 1.25, Breaks: []Break{{Length: 1, EarliestOffset: 2, LatestOffset: 3}}},
	}
	for trial := 0; trial < 25; trial++ {
		n := 8 + rng.IntN(3)
		req := make([]int, n)
		for i := range req {
			req[i] = rng.IntN(3)
		}
		p := &Problem{Required: req, IntervalMinutes: 15, Cyclic: trial%2 == 0, Templates: templates}
		want := exactOptimum(t, p)
		sol, err := Solve(context.Background(), p, Options{ImproveFor: 50 * time.Millisecond, Seed: uint64(trial)})
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if err := CheckCoverage(p, sol); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if sol.LowerBound > want+1e-9 || sol.DualBound > want+1e-9 {
			t.Errorf("trial %d req=%v: bound %.4f (dual %.4f) above optimum %.4f", trial, req, sol.LowerBound, sol.DualBound, want)
		}
		if sol.Cost < want-1e-9 {
			t.Errorf("trial %d: cost %.4f below the enumerated optimum %.4f", trial, sol.Cost, want)
		}
		if sol.LPValue > want+1e-6 {
			t.Errorf("trial %d: LP value %.4f above integer optimum %.4f", trial, sol.LPValue, want)
		}
	}
}

func TestSolveCoversEveryInterval(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{48, 96, 200} {
		req := make([]int, n)
		for i := range req {
			req[i] = int(20 + 15*math.Sin(float64(i)/float64(n)*2*math.Pi*3) + float64(rng.IntN(5)))
		}
		p := &Problem{Required: req, Cyclic: true, Templates: []Template{
			{Name: "4h", Length: 16, PaidHours: 4},
			{Name: "8h", Length: 32, PaidHours: 7.5, Breaks: []Break{{Length: 2, EarliestOffset: 10, LatestOffset: 18}}},
		}}
		sol, err := Solve(context.Background(), p, Options{ImproveFor: 200 * time.Millisecond})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if err := CheckCoverage(p, sol); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if sol.LowerBound > sol.Cost+1e-9 || sol.Gap < 0 {
			t.Errorf("n=%d: bound %.3f above cost %.3f", n, sol.LowerBound, sol.Cost)
		}
	}
}

func TestSolveCancelled(t *testing.T) {
	p := &Problem{Required: []int{1, 2, 3, 2, 1, 0, 4, 4}, Cyclic: true, Templates: []Template{{Length: 2}, {Length: 3, PaidHours: 0.6}}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sol, err := Solve(ctx, p, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if sol == nil {
		t.Fatal("no partial solution")
	}
	if err := CheckCoverage(p, sol); err != nil {
		t.Fatal(err)
	}
	if want := exactOptimum(t, p); sol.LowerBound > want+1e-9 || sol.Cost < want-1e-9 {
		t.Errorf("bound %.3f, cost %.3f, optimum %.3f", sol.LowerBound, sol.Cost, want)
	}
}

func TestSolveDeadlineDuringImprovement(t *testing.T) {
	p := weekProblem(8)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sol, err := Solve(ctx, p, Options{})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if sol == nil {
		t.Fatal("no solution")
	}
	if err := CheckCoverage(p, sol); err != nil {
		t.Fatal(err)
	}
	if sol.LowerBound > sol.Cost+1e-9 {
		t.Errorf("bound %.3f above cost %.3f", sol.LowerBound, sol.Cost)
	}
}

func TestCheckCoverageCatchesShortfall(t *testing.T) {
	p := &Problem{Required: []int{1, 1, 1}, Templates: []Template{{Length: 2}}}
	cols, _ := p.Columns()
	sol := &Solution{Shifts: []Shift{{Column: cols[0], Agents: 1}}, Cost: cols[0].Cost}
	if err := CheckCoverage(p, sol); err == nil {
		t.Error("uncovered interval 2 not reported")
	}
	sol.Shifts = append(sol.Shifts, Shift{Column: cols[1], Agents: 1})
	if err := CheckCoverage(p, sol); err == nil {
		t.Error("wrong cost not reported")
	}
	sol.Cost += cols[1].Cost
	if err := CheckCoverage(p, sol); err != nil {
		t.Error(err)
	}
}

func TestCostUnit(t *testing.T) {
	tests := []struct {
		costs []float64
		want  float64
	}{
		{[]float64{4, 8.5}, 0.5},
		{[]float64{4, 8}, 1},
		{[]float64{0.25, 1}, 0.25},
		{[]float64{math.Pi}, 0},
	}
	for _, tc := range tests {
		if got := costUnit(tc.costs); got != tc.want {
			t.Errorf("costUnit(%v) = %v, want %v", tc.costs, got, tc.want)
		}
	}
}
