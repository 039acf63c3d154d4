package text

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// GBDTConfig configures TrainGBDT. Zero fields take the defaults in
// brackets.
type GBDTConfig struct {
	Trees        int     // boosting rounds [200]
	MaxDepth     int     // depth of each tree [4]
	LearningRate float64 // shrinkage [0.1]
	MinLeaf      int     // minimum examples in a leaf [20]
	Lambda       float64 // L2 penalty on leaf values [1]
	Bins         int     // histogram bins per feature [64]
	Subsample    float64 // fraction of rows per tree [1]
	Seed         uint64
}

// GBDT is a gradient-boosted ensemble of regression trees for binary
// classification with the logistic loss (Newton leaf values, histogram
// splits). Exported fields allow encoding/gob persistence.
type GBDT struct {
	Base  float64
	Trees [][]TreeNode
}

// TreeNode is one node of a GBDT tree: a leaf when Leaf is true, otherwise
// examples with feature Feature <= Threshold go to Left, the rest to Right.
type TreeNode struct {
	Feature     int
	Threshold   float64
	Left, Right int
	Value       float64
	Leaf        bool
}

// TrainGBDT fits a GBDT on dense rows xs with labels ys (0 or 1).
func TrainGBDT(ctx context.Context, xs [][]float64, ys []int, cfg GBDTConfig) (*GBDT, error) {
	if len(xs) == 0 || len(xs) != len(ys) {
		return nil, errors.New("text: train gbdt: need as many labels as rows, at least one")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Trees, 200)
	def(&cfg.MaxDepth, 4)
	def(&cfg.MinLeaf, 20)
	def(&cfg.Bins, 64)
	cfg.Bins = min(cfg.Bins, 255) // bins are stored as uint8
	if cfg.LearningRate == 0 {
		cfg.LearningRate = 0.1
	}
	if cfg.Lambda == 0 {
		cfg.Lambda = 1
	}
	if cfg.Subsample == 0 {
		cfg.Subsample = 1
	}
	n, nf := len(xs), len(xs[0])
	// Quantile bin edges per feature.
	edges := make([][]float64, nf)
	bins := make([][]uint8, nf)
	col := make([]float64, n)
	for f := range nf {
		for i := range xs {
			col[i] = xs[i][f]
		}
		s := append([]float64(nil), col...)
		sort.Float64s(s)
		var e []float64
		for b := 1; b < cfg.Bins; b++ {
			v := s[b*(n-1)/cfg.Bins]
			if len(e) == 0 || v > e[len(e)-1] {
				e = append(e, v)
			}
		}
		edges[f] = e
		bins[f] = make([]uint8, n)
		for i, v := range col {
			bins[f][i] = uint8(sort.SearchFloat64s(e, v))
		}
	}
	pos := 0
	for _, y := range ys {
		pos += y
	}
	p := (float64(pos) + 0.5) / (float64(n) + 1)
	m := &GBDT{Base: math.Log(p / (1 - p))}
	f := make([]float64, n)
	for i := range f {
		f[i] = m.Base
	}
	g, h := make([]float64, n), make([]float64, n)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9bd7))
	rows := make([]int, 0, n)
	for t := 0; t < cfg.Trees; t++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("text: train gbdt: %w", err)
		}
		for i := range f {
			pr := 1 / (1 + math.Exp(-f[i]))
			g[i] = pr - float64(ys[i])
			h[i] = math.Max(pr*(1-pr), 1e-12)
		}
		rows = rows[:0]
		for i := range n {
			if cfg.Subsample >= 1 || rng.Float64() < cfg.Subsample {
				rows = append(rows, i)
			}
		}
		tb := treeBuilder{cfg: cfg, bins: bins, edges: edges, g: g, h: h}
		tb.build(rows, 0)
		tree := tb.nodes
		for i := range n {
			f[i] += predictTree(tree, xs[i])
		}
		m.Trees = append(m.Trees, tree)
	}
	return m, nil
}

type treeBuilder struct {
	cfg   GBDTConfig
	bins  [][]uint8
	edges [][]float64
	g, h  []float64
	nodes []TreeNode
}

func (tb *treeBuilder) build(rows []int, depth int) int {
	var G, H float64
	for _, i := range rows {
		G += tb.g[i]
		H += tb.h[i]
	}
	id := len(tb.nodes)
	tb.nodes = append(tb.nodes, TreeNode{Leaf: true, Value: -G / (H + tb.cfg.Lambda) * tb.cfg.LearningRate})
	if depth >= tb.cfg.MaxDepth || len(rows) < 2*tb.cfg.MinLeaf {
		return id
	}
	lam := tb.cfg.Lambda
	parent := G * G / (H + lam)
	bestGain, bestF, bestB := 1e-9, -1, 0
	var hg, hh [256]float64
	var hc [256]int
	for f, fb := range tb.bins {
		nb := len(tb.edges[f]) + 1
		for b := range nb {
			hg[b], hh[b], hc[b] = 0, 0, 0
		}
		for _, i := range rows {
			b := fb[i]
			hg[b] += tb.g[i]
			hh[b] += tb.h[i]
			hc[b]++
		}
		var gl, hl float64
		cl := 0
		for b := 0; b < nb-1; b++ {
			gl += hg[b]
			hl += hh[b]
			cl += hc[b]
			if cl < tb.cfg.MinLeaf || len(rows)-cl < tb.cfg.MinLeaf {
				continue
			}
			gr, hr := G-gl, H-hl
			gain := gl*gl/(hl+lam) + gr*gr/(hr+lam) - parent
			if gain > bestGain {
				bestGain, bestF, bestB = gain, f, b
			}
		}
	}
	if bestF < 0 {
		return id
	}
	var left, right []int
	for _, i := range rows {
		if int(tb.bins[bestF][i]) <= bestB {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	l := tb.build(left, depth+1)
	r := tb.build(right, depth+1)
	tb.nodes[id] = TreeNode{Feature: bestF, Threshold: tb.edges[bestF][bestB], Left: l, Right: r}
	return id
}

func predictTree(nodes []TreeNode, x []float64) float64 {
	n := 0
	for !nodes[n].Leaf {
		if x[nodes[n].Feature] <= nodes[n].Threshold {
			n = nodes[n].Left
		} else {
			n = nodes[n].Right
		}
	}
	return nodes[n].Value
}

// Probability returns P(y = 1 | x).
func (m *GBDT) Probability(x []float64) float64 {
	s := m.Base
	for _, t := range m.Trees {
		s += predictTree(t, x)
	}
	return 1 / (1 + math.Exp(-s))
}
