package lp

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

type lpCase struct {
	name string
	cost []float64
	a    [][]float64 // rows × cols, dense
	b    []float64
}

func build(t *testing.T, c lpCase) *Problem {
	t.Helper()
	p, err := NewProblem(len(c.b), c.b)
	if err != nil {
		t.Fatal(err)
	}
	for j, cj := range c.cost {
		var rows []int
		var vals []float64
		for i := range c.a {
			if c.a[i][j] != 0 {
				rows = append(rows, i)
				vals = append(vals, c.a[i][j])
			}
		}
		if _, err := p.AddColumn(cj, rows, vals); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestSolveHandSolved(t *testing.T) {
	tests := []struct {
		lpCase
		want float64
	}{
		{lpCase{"two-constraint vertex", []float64{1, 1}, [][]float64{{1, 2}, {3, 1}}, []float64{4, 6}}, 2.8},
		{lpCase{"single cheapest column", []float64{2, 3}, [][]float64{{1, 1}, {1, 0}}, []float64{2, 1}}, 4},
		{lpCase{"nothing required", []float64{1, 5}, [][]float64{{1, 1}, {0, 1}}, []float64{0, -3}}, 0},
		{lpCase{"interval cover", []float64{2, 2, 3}, [][]float64{{1, 0, 1}, {1, 1, 1}, {0, 1, 1}}, []float64{1, 2, 1}}, 4},
		{lpCase{"fractional cycle", []float64{1, 1, 1}, [][]float64{{1, 1, 0}, {0, 1, 1}, {1, 0, 1}}, []float64{1, 1, 1}}, 1.5},
		{lpCase{"zero cost column", []float64{0, 1}, [][]float64{{1, 1}, {0, 1}}, []float64{5, 1}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := build(t, tc.lpCase)
			s := NewSolver(p, Options{})
			res, err := s.Solve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != Optimal {
				t.Fatalf("status %v, want optimal", res.Status)
			}
			if math.Abs(res.Objective-tc.want) > 1e-6 {
				t.Errorf("objective %.9f, want %.9f", res.Objective, tc.want)
			}
			if res.Bound > tc.want+1e-9 || res.Bound < tc.want-1e-5 {
				t.Errorf("bound %.9f, want just below %.9f", res.Bound, tc.want)
			}
			checkPrimal(t, tc.lpCase, s.X())
		})
	}
}

func checkPrimal(t *testing.T, c lpCase, x []float64) {
	t.Helper()
	for i, row := range c.a {
		v := 0.0
		for j, a := range row {
			v += a * x[j]
		}
		if v < c.b[i]-1e-6 {
			t.Errorf("row %d: A x = %.9f < b = %.9f", i, v, c.b[i])
		}
	}
	for j, v := range x {
		if v < 0 {
			t.Errorf("x[%d] = %v < 0", j, v)
		}
	}
}

func TestSolveInfeasible(t *testing.T) {
	tests := []lpCase{
		{"uncovered row", []float64{1}, [][]float64{{1}, {0}}, []float64{1, 1}},
		{"negative coefficient", []float64{1}, [][]float64{{-1}}, []float64{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := NewSolver(build(t, tc), Options{}).Solve(context.Background())
			if !errors.Is(err, ErrInfeasible) || res.Status != Infeasible {
				t.Fatalf("got %v, %v; want infeasible", res.Status, err)
			}
		})
	}
}

// bruteForce enumerates every basic solution of {A x ≥ b, x ≥ 0} (each
// choice of n tight constraints) and returns the least objective.
func bruteForce(c lpCase) float64 {
	m, n := len(c.b), len(c.cost)
	type con struct {
		a   []float64
		rhs float64
	}
	var cons []con
	for i := 0; i < m; i++ {
		cons = append(cons, con{c.a[i], c.b[i]})
	}
	for j := 0; j < n; j++ {
		e := make([]float64, n)
		e[j] = 1
		cons = append(cons, con{e, 0})
	}
	best := math.Inf(1)
	var pick func(start int, chosen []int)
	pick = func(start int, chosen []int) {
		if len(chosen) == n {
			mat := make([][]float64, n)
			for r, k := range chosen {
				mat[r] = append(append([]float64(nil), cons[k].a...), cons[k].rhs)
			}
			x, ok := gauss(mat)
			if !ok {
				return
			}
			for _, k := range cons {
				v := 0.0
				for j := range x {
					v += k.a[j] * x[j]
				}
				if v < k.rhs-1e-9 {
					return
				}
			}
			obj := 0.0
			for j := range x {
				obj += c.cost[j] * x[j]
			}
			best = math.Min(best, obj)
			return
		}
		for k := start; k < len(cons); k++ {
			pick(k+1, append(chosen, k))
		}
	}
	pick(0, nil)
	return best
}

func gauss(a [][]float64) ([]float64, bool) {
	n := len(a)
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return nil, false
		}
		a[c], a[p] = a[p], a[c]
		for r := 0; r < n; r++ {
			if r != c {
				f := a[r][c] / a[c][c]
				for k := c; k <= n; k++ {
					a[r][k] -= f * a[c][k]
				}
			}
		}
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = a[i][n] / a[i][i]
	}
	return x, true
}

func TestSolveMatchesVertexEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 60; trial++ {
		m, n := 2+rng.IntN(3), 2+rng.IntN(3)
		c := lpCase{name: "random", cost: make([]float64, n), a: make([][]float64, m), b: make([]float64, m)}
		for j := range c.cost {
			c.cost[j] = float64(rng.IntN(5))
		}
		for i := range c.a {
			c.a[i] = make([]float64, n)
			for j := range c.a[i] {
				if rng.IntN(3) > 0 {
					c.a[i][j] = float64(rng.IntN(4))
				}
			}
			c.a[i][rng.IntN(n)] += 1 // keep it feasible
			c.b[i] = float64(rng.IntN(7))
		}
		want := bruteForce(c)
		s := NewSolver(build(t, c), Options{Seed: uint64(trial)})
		res, err := s.Solve(context.Background())
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if math.Abs(res.Objective-want) > 1e-6*(1+want) {
			t.Errorf("trial %d: objective %.9f, enumeration %.9f (%+v)", trial, res.Objective, want, c)
		}
		if res.Bound > want+1e-9 {
			t.Errorf("trial %d: bound %.9f above optimum %.9f", trial, res.Bound, want)
		}
		checkPrimal(t, c, s.X())
	}
}

// TestSolveIntervalColumns exercises pricing through column runs and
// prefix sums (cyclic interval columns), against vertex enumeration.
func TestSolveIntervalColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 40; trial++ {
		m := 4 + rng.IntN(2)
		n := 3 + rng.IntN(2)
		c := lpCase{name: "intervals", cost: make([]float64, n), a: make([][]float64, m), b: make([]float64, m)}
		for i := range c.a {
			c.a[i] = make([]float64, n)
			c.b[i] = float64(rng.IntN(5))
		}
		for j := range c.cost {
			start, length := rng.IntN(m), 2+rng.IntN(m-1)
			for k := 0; k < length; k++ {
				c.a[(start+k)%m][j] = 1
			}
			c.cost[j] = float64(1 + rng.IntN(length))
		}
		c.cost = append(c.cost, float64(m)) // a column covering everything keeps it feasible
		for i := range c.a {
			c.a[i] = append(c.a[i], 1)
		}
		p := build(t, c)
		s := NewSolver(p, Options{})
		s.useRuns = true // price through runs even where entries would be as short
		res, err := s.Solve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := bruteForce(c)
		if math.Abs(res.Objective-want) > 1e-6 || res.Bound > want+1e-9 {
			t.Errorf("trial %d: objective %.9f bound %.9f, enumeration %.9f", trial, res.Objective, res.Bound, want)
		}
		checkPrimal(t, c, s.X())
	}
}

func TestWarmStartMatchesColdSolve(t *testing.T) {
	c := lpCase{"interval cover", []float64{2, 2, 3, 1}, [][]float64{{1, 0, 1, 0}, {1, 1, 1, 0}, {0, 1, 1, 1}}, []float64{1, 2, 1}}
	p := build(t, c)
	s := NewSolver(p, Options{})
	if _, err := s.Solve(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]float64{{3, 1, 0}, {0, 4, 2}, {2, 2, 2}, {-1, 0, 5}} {
		if err := s.SetRHS(b); err != nil {
			t.Fatal(err)
		}
		warm, err := s.Solve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c2 := c
		c2.b = b
		want := bruteForce(c2)
		if math.Abs(warm.Objective-want) > 1e-6 {
			t.Errorf("b=%v: warm objective %.9f, want %.9f", b, warm.Objective, want)
		}
	}
}

func TestSolveCancelled(t *testing.T) {
	c := lpCase{"two-constraint vertex", []float64{1, 1}, [][]float64{{1, 2}, {3, 1}}, []float64{4, 6}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := NewSolver(build(t, c), Options{}).Solve(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res.Status != Stopped {
		t.Errorf("status %v, want stopped", res.Status)
	}
	if res.Bound > 2.8 {
		t.Errorf("bound %v above optimum 2.8", res.Bound)
	}
}

func TestDualBoundAnyVector(t *testing.T) {
	c := lpCase{"two-constraint vertex", []float64{1, 1}, [][]float64{{1, 2}, {3, 1}}, []float64{4, 6}}
	p := build(t, c)
	for _, y := range [][]float64{{0, 0}, {1, 1}, {0.4, 0.2}, {-3, 7}, {100, 0}} {
		if b, _ := DualBound(p, y, c.b); b > 2.8+1e-12 {
			t.Errorf("y=%v: bound %v above optimum 2.8", y, b)
		}
	}
	if b, f := DualBound(p, []float64{0.4, 0.2}, c.b); math.Abs(b-2.8) > 1e-9 || f > 1 {
		t.Errorf("optimal duals give bound %v (scale %v), want 2.8", b, f)
	}
}

func TestProblemValidation(t *testing.T) {
	if _, err := NewProblem(0, nil); err == nil {
		t.Error("zero rows accepted")
	}
	if _, err := NewProblem(2, []float64{1}); err == nil {
		t.Error("short rhs accepted")
	}
	p, _ := NewProblem(2, []float64{1, 1})
	for _, tc := range []struct {
		cost float64
		rows []int
		vals []float64
	}{
		{-1, []int{0}, []float64{1}},
		{math.Inf(1), []int{0}, []float64{1}},
		{1, []int{2}, []float64{1}},
		{1, []int{0}, []float64{1, 2}},
		{1, []int{0}, []float64{math.NaN()}},
	} {
		if _, err := p.AddColumn(tc.cost, tc.rows, tc.vals); err == nil {
			t.Errorf("AddColumn(%v, %v, %v) accepted", tc.cost, tc.rows, tc.vals)
		}
	}
}
