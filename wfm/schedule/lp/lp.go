// Package lp solves covering-type linear programmes
//
//	minimise c·x  subject to  A x ≥ b,  x ≥ 0,  with c ≥ 0,
//
// by a dual simplex method on an explicit dense basis inverse. Because every
// cost is non-negative the all-surplus basis is dual feasible from the start,
// so each iterate carries a dual vector y ≥ 0 whose scaled objective is a
// proven lower bound on the optimum even when the solver is stopped early.
//
// The method is sized for problems with up to a few thousand rows and any
// number of sparse columns (a weekly shift-covering model has 672 rows and
// thousands of columns). The right-hand side can be changed between solves
// while keeping the basis (a warm start), which is what diving heuristics
// need.
package lp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Status is the outcome of a solve.
type Status int

// Solve outcomes.
const (
	// Optimal means the basis is primal and dual feasible within tolerances.
	Optimal Status = iota
	// Infeasible means no x ≥ 0 satisfies A x ≥ b (the dual is unbounded).
	Infeasible
	// Stopped means the context ended or the iteration limit was reached;
	// the dual bound is still valid.
	Stopped
)

// String returns a short name for the status.
func (s Status) String() string {
	switch s {
	case Optimal:
		return "optimal"
	case Infeasible:
		return "infeasible"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ErrInfeasible is returned (wrapped) when A x ≥ b has no solution with x ≥ 0.
var ErrInfeasible = errors.New("lp: problem is infeasible")

// Problem is a covering-type LP: minimise Cost·x subject to A x ≥ RHS, x ≥ 0.
// Columns of A are stored sparse (compressed sparse column). Build one with
// NewProblem and AddColumn.
type Problem struct {
	rows     int
	cost     []float64
	colStart []int
	rowIndex []int
	value    []float64
	rhs      []float64
}

// NewProblem returns an empty problem with the given number of rows and
// right-hand side b (copied). len(b) must equal rows.
func NewProblem(rows int, b []float64) (*Problem, error) {
	if rows <= 0 {
		return nil, fmt.Errorf("lp: new problem: rows must be positive, got %d", rows)
	}
	if len(b) != rows {
		return nil, fmt.Errorf("lp: new problem: rhs has %d entries, want %d", len(b), rows)
	}
	return &Problem{rows: rows, rhs: append([]float64(nil), b...), colStart: []int{0}}, nil
}

// AddColumn appends a column with the given cost (must be ≥ 0 and finite)
// and non-zero entries A[rows[k]][j] = values[k]. It returns the column index.
func (p *Problem) AddColumn(cost float64, rows []int, values []float64) (int, error) {
	if !(cost >= 0) || math.IsInf(cost, 0) {
		return 0, fmt.Errorf("lp: add column %d: cost %v must be finite and non-negative", len(p.cost), cost)
	}
	if len(rows) != len(values) {
		return 0, fmt.Errorf("lp: add column %d: %d rows but %d values", len(p.cost), len(rows), len(values))
	}
	for k, r := range rows {
		if r < 0 || r >= p.rows {
			return 0, fmt.Errorf("lp: add column %d: row %d out of range [0,%d)", len(p.cost), r, p.rows)
		}
		if math.IsNaN(values[k]) || math.IsInf(values[k], 0) {
			return 0, fmt.Errorf("lp: add column %d: value %v is not finite", len(p.cost), values[k])
		}
	}
	p.cost = append(p.cost, cost)
	p.rowIndex = append(p.rowIndex, rows...)
	p.value = append(p.value, values...)
	p.colStart = append(p.colStart, len(p.rowIndex))
	return len(p.cost) - 1, nil
}

// Rows returns the number of rows (constraints).
func (p *Problem) Rows() int { return p.rows }

// Cols returns the number of columns (variables).
func (p *Problem) Cols() int { return len(p.cost) }

// Cost returns the cost of column j.
func (p *Problem) Cost(j int) float64 { return p.cost[j] }

// dot returns a_j·v.
func (p *Problem) dot(j int, v []float64) float64 {
	s := 0.0
	for k := p.colStart[j]; k < p.colStart[j+1]; k++ {
		s += p.value[k] * v[p.rowIndex[k]]
	}
	return s
}

// Options tune a Solver. The zero value is usable.
type Options struct {
	// MaxIterations bounds the number of simplex pivots per Solve call
	// (0 means 50·(rows+cols)).
	MaxIterations int
	// RefactorEvery recomputes the basis inverse from scratch after this
	// many pivots (0 means 2000).
	RefactorEvery int
	// Perturb is the relative cost perturbation used against dual
	// degeneracy (0 means 1e-7, negative disables it).
	Perturb float64
	// Seed seeds the perturbation so solves are reproducible.
	Seed uint64
}

// Result summarises a solve.
type Result struct {
	// Status is the outcome.
	Status Status
	// Objective is c·x for the current basic solution with the original
	// costs (meaningful when Status is Optimal).
	Objective float64
	// Bound is a proven lower bound on the optimum, b·y for a dual vector
	// y ≥ 0 scaled so that a_j·y ≤ c_j holds for every column.
	Bound float64
	// Iterations is the number of pivots done by this call.
	Iterations int
	// Refactors is the number of basis reinversions done by this call.
	Refactors int
}

// Tolerances.
const (
	primalTol = 1e-7
	dualTol   = 1e-9
	pivotTol  = 1e-9
)

// Solver holds a dual simplex basis for one Problem and can be re-solved
// after SetRHS (warm start). A Solver is not safe for concurrent use.
type Solver struct {
	p    *Problem
	m, n int
	opt  Options

	cost  []float64 // perturbed costs of the structural columns
	b     []float64
	basis []int // basis[i] is the variable basic in row i (j<n structural, n+r slack of row r)
	pos   []int // pos[v] is the row where v is basic, or -1
	binv  []float64
	xB    []float64
	d     []float64 // reduced costs of all n+m variables
	y     []float64
	w     []float64 // dual steepest-edge weights: squared row norms of binv

	alpha []float64 // scratch: pivot row over all variables
	col   []float64 // scratch: FTRAN column
	rho   []float64 // scratch: copy of pivot row of binv
	nz    []int     // scratch: non-zero positions of rho

	// Columns as runs of consecutive rows sharing one value, for pivot
	// rows from prefix sums when that is shorter than the entries.
	runStart []int
	runLo    []int
	runHi    []int
	runVal   []float64
	useRuns  bool
	prefix   []float64

	// Row-wise copy of A for pivot rows computed from a sparse rho.
	rowStart []int
	rowCol   []int
	rowVal   []float64

	sinceRefactor int
}

// NewSolver prepares a solver on p starting from the all-surplus basis.
func NewSolver(p *Problem, opt Options) *Solver {
	m, n := p.rows, len(p.cost)
	if opt.RefactorEvery <= 0 {
		opt.RefactorEvery = 2000
	}
	if opt.Perturb == 0 {
		opt.Perturb = 1e-7
	}
	s := &Solver{
		p: p, m: m, n: n, opt: opt,
		cost:  make([]float64, n),
		b:     append([]float64(nil), p.rhs...),
		basis: make([]int, m),
		pos:   make([]int, n+m),
		binv:  make([]float64, m*m),
		xB:    make([]float64, m),
		d:     make([]float64, n+m),
		y:     make([]float64, m),
		w:     make([]float64, m),
		alpha: make([]float64, n+m),
		col:   make([]float64, m),
		rho:   make([]float64, m),
		nz:    make([]int, 0, m),
	}
	s.rowStart = make([]int, m+1)
	for _, r := range p.rowIndex {
		s.rowStart[r+1]++
	}
	for i := 0; i < m; i++ {
		s.rowStart[i+1] += s.rowStart[i]
	}
	s.rowCol = make([]int, len(p.rowIndex))
	s.rowVal = make([]float64, len(p.rowIndex))
	fill := append([]int(nil), s.rowStart[:m]...)
	for j := 0; j < n; j++ {
		for k := p.colStart[j]; k < p.colStart[j+1]; k++ {
			r := p.rowIndex[k]
			s.rowCol[fill[r]] = j
			s.rowVal[fill[r]] = p.value[k]
			fill[r]++
		}
	}
	s.buildRuns()
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	for j, c := range p.cost {
		s.cost[j] = c
		if opt.Perturb > 0 {
			s.cost[j] += opt.Perturb * (1 + c) * (0.5 + rng.Float64())
		}
	}
	for j := range s.pos {
		s.pos[j] = -1
	}
	for i := 0; i < m; i++ {
		s.basis[i] = n + i
		s.pos[n+i] = i
		s.binv[i*m+i] = -1
		s.w[i] = 1
	}
	s.recompute()
	return s
}

// buildRuns compresses each column into runs of consecutive rows with
// equal values and decides whether pricing should use them.
func (s *Solver) buildRuns() {
	p := s.p
	s.runStart = make([]int, 1, s.n+1)
	type ent struct {
		r int
		v float64
	}
	var es []ent
	for j := 0; j < s.n; j++ {
		es = es[:0]
		for k := p.colStart[j]; k < p.colStart[j+1]; k++ {
			es = append(es, ent{p.rowIndex[k], p.value[k]})
		}
		slices.SortFunc(es, func(a, b ent) int { return a.r - b.r })
		for k := 0; k < len(es); {
			e := k + 1
			for e < len(es) && es[e].r == es[e-1].r+1 && es[e].v == es[k].v {
				e++
			}
			s.runLo = append(s.runLo, es[k].r)
			s.runHi = append(s.runHi, es[e-1].r+1)
			s.runVal = append(s.runVal, es[k].v)
			k = e
		}
		s.runStart = append(s.runStart, len(s.runLo))
	}
	s.useRuns = 2*len(s.runLo) < len(p.rowIndex)
	s.prefix = make([]float64, s.m+1)
}

// SetRHS replaces the right-hand side b (copied), keeping the basis. The
// basis stays dual feasible, so the next Solve continues from it.
func (s *Solver) SetRHS(b []float64) error {
	if len(b) != s.m {
		return fmt.Errorf("lp: set rhs: %d entries, want %d", len(b), s.m)
	}
	copy(s.b, b)
	s.computePrimal()
	return nil
}

// X returns the current primal values of the structural columns (a new slice).
func (s *Solver) X() []float64 {
	x := make([]float64, s.n)
	for i, v := range s.basis {
		if v < s.n {
			x[v] = math.Max(0, s.xB[i])
		}
	}
	return x
}

// Duals returns the current dual vector y (a new slice), one entry per row.
func (s *Solver) Duals() []float64 { return append([]float64(nil), s.y...) }

// Bound returns a proven lower bound b·y' where y' is the current dual vector
// clipped at zero and scaled so that a_j·y' ≤ c_j for every column with the
// original (unperturbed) costs. It is valid whatever state the solver is in.
func (s *Solver) Bound() float64 {
	b, _ := DualBound(s.p, s.y, s.b)
	return b
}

// DualBound returns a proven lower bound on min{c·x : A x ≥ b, x ≥ 0}
// obtained from any vector y. y is clipped at zero; then for every dual
// constraint a_j·y ≤ c_j that is violated and whose column has no negative
// entry, the y entries on that column's rows are shrunk until it holds
// (which cannot break another constraint when those rows carry only
// non-negative entries elsewhere); finally the whole vector is scaled down
// if any constraint is still violated. The bound is b·y for the repaired
// vector; the second result is the final uniform scale factor. A tiny
// relative safety margin absorbs floating-point rounding.
func DualBound(p *Problem, y, b []float64) (float64, float64) {
	yc := make([]float64, len(y))
	for i, v := range y {
		if v > 0 {
			yc[i] = v
		}
	}
	const margin = 1 - 1e-12
	for j := range p.cost {
		a := p.dot(j, yc)
		if a <= p.cost[j]*margin {
			continue
		}
		nonneg := true
		for k := p.colStart[j]; k < p.colStart[j+1]; k++ {
			if p.value[k] < 0 {
				nonneg = false
				break
			}
		}
		if !nonneg {
			continue
		}
		r := p.cost[j] / a * margin
		for k := p.colStart[j]; k < p.colStart[j+1]; k++ {
			yc[p.rowIndex[k]] *= r
		}
	}
	f := 1.0
	for j := range p.cost {
		a := p.dot(j, yc)
		if a > p.cost[j]*margin {
			f = math.Min(f, p.cost[j]/a*margin)
		}
	}
	obj := 0.0
	for i, v := range yc {
		obj += b[i] * v * f
	}
	return obj, f
}

// objective returns c·x with the original costs.
func (s *Solver) objective() float64 {
	obj := 0.0
	for i, v := range s.basis {
		if v < s.n && s.xB[i] > 0 {
			obj += s.p.cost[v] * s.xB[i]
		}
	}
	return obj
}

// computePrimal sets xB = B⁻¹ b.
func (s *Solver) computePrimal() {
	m := s.m
	for i := 0; i < m; i++ {
		row := s.binv[i*m : (i+1)*m]
		v := 0.0
		for k, bk := range s.b {
			v += row[k] * bk
		}
		s.xB[i] = v
	}
}

// recompute refreshes xB, y, reduced costs and weights from binv.
func (s *Solver) recompute() {
	m, n := s.m, s.n
	s.computePrimal()
	for k := range s.y {
		s.y[k] = 0
	}
	for i, v := range s.basis {
		c := 0.0
		if v < n {
			c = s.cost[v]
		}
		if c == 0 {
			continue
		}
		row := s.binv[i*m : (i+1)*m]
		for k := range s.y {
			s.y[k] += c * row[k]
		}
	}
	for j := 0; j < n; j++ {
		s.d[j] = s.cost[j] - s.p.dot(j, s.y)
	}
	for r := 0; r < m; r++ {
		s.d[n+r] = s.y[r] // slack column is -e_r with zero cost
	}
	for i, v := range s.basis {
		s.d[v] = 0
		row := s.binv[i*m : (i+1)*m]
		w := 0.0
		for _, x := range row {
			w += x * x
		}
		s.w[i] = w
	}
}

// refactor rebuilds binv from the basis columns by Gauss-Jordan elimination
// with partial pivoting.
func (s *Solver) refactor() error {
	m, n := s.m, s.n
	a := make([]float64, m*m) // basis matrix, row-major
	for i, v := range s.basis {
		if v >= n {
			a[(v-n)*m+i] = -1
			continue
		}
		for k := s.p.colStart[v]; k < s.p.colStart[v+1]; k++ {
			a[s.p.rowIndex[k]*m+i] += s.p.value[k]
		}
	}
	inv := s.binv
	for k := range inv {
		inv[k] = 0
	}
	for i := 0; i < m; i++ {
		inv[i*m+i] = 1
	}
	anzBuf, inzBuf := make([]int, 0, m), make([]int, 0, m)
	for c := 0; c < m; c++ {
		piv, best := -1, 0.0
		for r := c; r < m; r++ {
			if v := math.Abs(a[r*m+c]); v > best {
				piv, best = r, v
			}
		}
		if piv < 0 || best < 1e-12 {
			return fmt.Errorf("lp: refactor: basis is singular at column %d", c)
		}
		if piv != c {
			for k := 0; k < m; k++ {
				a[piv*m+k], a[c*m+k] = a[c*m+k], a[piv*m+k]
				inv[piv*m+k], inv[c*m+k] = inv[c*m+k], inv[piv*m+k]
			}
		}
		pv := 1 / a[c*m+c]
		arow, irow := a[c*m:(c+1)*m], inv[c*m:(c+1)*m]
		anz, inz := anzBuf[:0], inzBuf[:0]
		for k := c; k < m; k++ {
			if arow[k] != 0 {
				arow[k] *= pv
				anz = append(anz, k)
			}
		}
		for k := 0; k < m; k++ {
			if irow[k] != 0 {
				irow[k] *= pv
				inz = append(inz, k)
			}
		}
		for r := 0; r < m; r++ {
			if r == c {
				continue
			}
			f := a[r*m+c]
			if f == 0 {
				continue
			}
			ar, ir := a[r*m:(r+1)*m], inv[r*m:(r+1)*m]
			for _, k := range anz {
				ar[k] -= f * arow[k]
			}
			for _, k := range inz {
				ir[k] -= f * irow[k]
			}
		}
	}
	// inv is now B⁻¹ with rows indexed like the basis positions.
	s.sinceRefactor = 0
	s.recompute()
	return nil
}

// Solve runs dual simplex pivots until the basis is optimal, the problem is
// proven infeasible, the iteration limit is hit or ctx ends. On a context
// end it returns the partial Result (Status Stopped, valid Bound) together
// with the wrapped context error.
func (s *Solver) Solve(ctx context.Context) (Result, error) {
	m, n := s.m, s.n
	maxIt := s.opt.MaxIterations
	if maxIt <= 0 {
		maxIt = 50 * (m + n)
	}
	var res Result
	for it := 0; ; it++ {
		if it%32 == 0 {
			if err := ctx.Err(); err != nil {
				res.Status = Stopped
				res.Bound = s.Bound()
				res.Objective = s.objective()
				return res, fmt.Errorf("lp: solve stopped after %d iterations: %w", res.Iterations, err)
			}
		}
		if s.sinceRefactor >= s.opt.RefactorEvery {
			if err := s.refactor(); err != nil {
				return res, err
			}
			res.Refactors++
		}
		// Pricing: leaving row by dual steepest edge.
		r, best := -1, 0.0
		for i, x := range s.xB {
			if x < -primalTol {
				if v := x * x / s.w[i]; v > best {
					r, best = i, v
				}
			}
		}
		if r < 0 {
			if s.sinceRefactor >= s.opt.RefactorEvery/2 {
				// Confirm optimality on a fresh factorisation.
				if err := s.refactor(); err != nil {
					return res, err
				}
				res.Refactors++
				continue
			}
			res.Status = Optimal
			break
		}
		if it >= maxIt {
			res.Status = Stopped
			break
		}
		// Pivot row alpha_j = rho·a_j for nonbasic j.
		rho := s.rho
		copy(rho, s.binv[r*m:(r+1)*m])
		nz := s.nz[:0]
		work := 0
		for k, v := range rho {
			if v != 0 {
				nz = append(nz, k)
				work += s.rowStart[k+1] - s.rowStart[k]
			}
		}
		s.nz = nz
		if 2*work < len(s.p.rowIndex) {
			// Sparse rho: accumulate over the rows it touches.
			alpha := s.alpha[:n]
			for j := range alpha {
				alpha[j] = 0
			}
			for _, k := range nz {
				v := rho[k]
				for e := s.rowStart[k]; e < s.rowStart[k+1]; e++ {
					alpha[s.rowCol[e]] += v * s.rowVal[e]
				}
			}
			for j := range alpha {
				if s.pos[j] >= 0 {
					alpha[j] = 0
				}
			}
		} else if s.useRuns {
			pre := s.prefix
			for k, v := range rho {
				pre[k+1] = pre[k] + v
			}
			for j := 0; j < n; j++ {
				if s.pos[j] >= 0 {
					s.alpha[j] = 0
					continue
				}
				a := 0.0
				for e := s.runStart[j]; e < s.runStart[j+1]; e++ {
					a += s.runVal[e] * (pre[s.runHi[e]] - pre[s.runLo[e]])
				}
				s.alpha[j] = a
			}
		} else {
			for j := 0; j < n; j++ {
				if s.pos[j] >= 0 {
					s.alpha[j] = 0
					continue
				}
				s.alpha[j] = s.p.dot(j, rho)
			}
		}
		for k := 0; k < m; k++ {
			if s.pos[n+k] >= 0 {
				s.alpha[n+k] = 0
				continue
			}
			s.alpha[n+k] = -rho[k]
		}
		// Harris ratio test over alpha_j < 0.
		thetaMax := math.Inf(1)
		for j, a := range s.alpha {
			if a < -pivotTol {
				if t := (math.Max(s.d[j], 0) + dualTol) / -a; t < thetaMax {
					thetaMax = t
				}
			}
		}
		if math.IsInf(thetaMax, 1) {
			res.Status = Infeasible
			res.Bound = s.Bound()
			return res, fmt.Errorf("lp: row %d cannot be covered: %w", r, ErrInfeasible)
		}
		q, bigA := -1, 0.0
		for j, a := range s.alpha {
			if a < -pivotTol && math.Max(s.d[j], 0)/-a <= thetaMax && -a > bigA {
				q, bigA = j, -a
			}
		}
		// Dual update.
		theta := math.Max(s.d[q], 0) / s.alpha[q] // ≤ 0
		if theta != 0 {
			for j, a := range s.alpha {
				if a != 0 {
					s.d[j] -= theta * a
				}
			}
			for k := range s.y {
				s.y[k] += theta * rho[k]
			}
		}
		leaving := s.basis[r]
		s.d[q] = 0
		s.d[leaving] = -theta
		// FTRAN: col = B⁻¹ a_q.
		col := s.col
		if q >= n {
			k := q - n
			for i := 0; i < m; i++ {
				col[i] = -s.binv[i*m+k]
			}
		} else {
			lo, hi := s.p.colStart[q], s.p.colStart[q+1]
			idx, val := s.p.rowIndex[lo:hi], s.p.value[lo:hi]
			for i := 0; i < m; i++ {
				row := s.binv[i*m : (i+1)*m]
				v := 0.0
				for k, rr := range idx {
					v += row[rr] * val[k]
				}
				col[i] = v
			}
		}
		pr := col[r]
		if math.Abs(pr) < pivotTol {
			// Numerical trouble: rebuild and retry.
			if err := s.refactor(); err != nil {
				return res, err
			}
			res.Refactors++
			continue
		}
		// Primal update.
		t := s.xB[r] / pr
		for i := 0; i < m; i++ {
			if col[i] != 0 {
				s.xB[i] -= t * col[i]
			}
		}
		s.xB[r] = t
		// Basis inverse update (product form applied to the explicit inverse).
		prow := s.binv[r*m : (r+1)*m]
		inv := 1 / pr
		pnz := s.nz[:0]
		wr := 0.0
		for k := range prow {
			if prow[k] != 0 {
				prow[k] *= inv
				wr += prow[k] * prow[k]
				pnz = append(pnz, k)
			}
		}
		s.nz = pnz
		s.w[r] = wr
		for i := 0; i < m; i++ {
			f := col[i]
			if i == r || f == 0 {
				continue
			}
			row := s.binv[i*m : (i+1)*m]
			dot := 0.0
			for _, k := range pnz {
				old := row[k]
				dot += old * prow[k]
				row[k] = old - f*prow[k]
			}
			// ||row - f·prow||² from the old norm.
			s.w[i] = math.Max(s.w[i]-2*f*dot+f*f*wr, 1e-12)
		}
		s.basis[r] = q
		s.pos[q] = r
		s.pos[leaving] = -1
		s.sinceRefactor++
		res.Iterations++
	}
	res.Objective = s.objective()
	res.Bound = s.Bound()
	return res, nil
}
