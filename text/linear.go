package text

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// LinearConfig configures TrainLinear.
type LinearConfig struct {
	// C is the inverse regularisation strength (LIBLINEAR's C); 0 means 1.
	C float64
	// L1Loss selects the hinge loss (L1-loss SVM); the default is the
	// squared hinge (L2-loss SVM), which LIBLINEAR uses by default too.
	L1Loss bool
	// Epsilon is the stopping tolerance on the projected gradient; 0 means 0.1.
	Epsilon float64
	// MaxIter bounds the passes over the data per class; 0 means 1000.
	MaxIter int
	// Bias is the value of the constant feature appended to every example
	// (LIBLINEAR's -B); 0 means 1, negative means no bias term.
	Bias float64
	// Workers is the number of classes trained at once; 0 means GOMAXPROCS.
	Workers int
	// Seed makes the coordinate order reproducible.
	Seed uint64
}

// LinearModel is a one-vs-rest linear model: Scores returns one decision
// value per class and Probabilities a calibrated softmax over them.
type LinearModel struct {
	// Dim is the number of input features (the bias is extra).
	Dim int
	// W holds one weight row of length Dim+1 per class; the last entry is
	// the bias weight.
	W [][]float32
	// Bias is the constant feature value used in training.
	Bias float32
	// Temperature divides the decision values before the softmax; fitted by
	// Calibrate, 1 until then.
	Temperature float64
}

// TrainLinear trains a one-vs-rest L2-regularised linear SVM with LIBLINEAR's
// dual coordinate descent (Hsieh et al. 2008, with shrinking) on xs with
// class indices ys in [0, classes). It stops early when ctx is done.
func TrainLinear(ctx context.Context, xs []SparseVector, ys []int, classes, dim int, cfg LinearConfig) (*LinearModel, error) {
	if len(xs) != len(ys) {
		return nil, fmt.Errorf("text: train linear: %d examples but %d labels", len(xs), len(ys))
	}
	if len(xs) == 0 || classes < 2 {
		return nil, errors.New("text: train linear: need examples of at least two classes")
	}
	if cfg.C == 0 {
		cfg.C = 1
	}
	if cfg.Epsilon == 0 {
		cfg.Epsilon = 0.1
	}
	if cfg.MaxIter == 0 {
		cfg.MaxIter = 1000
	}
	if cfg.Bias == 0 {
		cfg.Bias = 1
	}
	if cfg.Bias < 0 {
		cfg.Bias = 0
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	m := &LinearModel{Dim: dim, W: make([][]float32, classes), Bias: float32(cfg.Bias), Temperature: 1}
	if classes == 2 {
		// One decision function is enough: class 1 positive, class 0 its negation.
		w, err := dualCD(ctx, xs, ys, 1, dim, cfg, 0)
		if err != nil {
			return nil, err
		}
		neg := make([]float32, len(w))
		for i, x := range w {
			neg[i] = -x
		}
		m.W[0], m.W[1] = neg, w
		return m, nil
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		firstEr error
		next    = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				w, err := dualCD(ctx, xs, ys, c, dim, cfg, uint64(c))
				mu.Lock()
				if err != nil && firstEr == nil {
					firstEr = err
				}
				m.W[c] = w
				mu.Unlock()
			}
		}()
	}
	for c := range classes {
		if ctx.Err() != nil {
			break
		}
		next <- c
	}
	close(next)
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("text: train linear: %w", err)
	}
	return m, nil
}

// dualCD solves the binary problem "class c versus the rest" and returns the
// weights with the bias weight last.
func dualCD(ctx context.Context, xs []SparseVector, ys []int, c, dim int, cfg LinearConfig, salt uint64) ([]float32, error) {
	l := len(xs)
	w := make([]float64, dim+1)
	alpha := make([]float64, l)
	y := make([]float64, l)
	qd := make([]float64, l)
	diag, upper := 0.5/cfg.C, math.Inf(1)
	if cfg.L1Loss {
		diag, upper = 0, cfg.C
	}
	for i, x := range xs {
		y[i] = -1
		if ys[i] == c {
			y[i] = 1
		}
		q := diag + cfg.Bias*cfg.Bias
		for _, v := range x.Val {
			q += float64(v) * float64(v)
		}
		qd[i] = q
	}
	index := make([]int, l)
	for i := range index {
		index[i] = i
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, salt))
	active := l
	pgMaxOld, pgMinOld := math.Inf(1), math.Inf(-1)
	for iter := 0; iter < cfg.MaxIter; iter++ {
		if iter%8 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("text: train linear class %d: %w", c, ctx.Err())
		}
		for i := 0; i < active; i++ {
			j := i + rng.IntN(active-i)
			index[i], index[j] = index[j], index[i]
		}
		pgMaxNew, pgMinNew := math.Inf(-1), math.Inf(1)
		for s := 0; s < active; s++ {
			i := index[s]
			x := xs[i]
			g := w[dim] * cfg.Bias
			for k, id := range x.Idx {
				g += w[id] * float64(x.Val[k])
			}
			g = g*y[i] - 1 + alpha[i]*diag
			pg := 0.0
			switch {
			case alpha[i] == 0:
				if g > pgMaxOld {
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				}
				if g < 0 {
					pg = g
				}
			case alpha[i] == upper:
				if g < pgMinOld {
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				}
				if g > 0 {
					pg = g
				}
			default:
				pg = g
			}
			pgMaxNew = math.Max(pgMaxNew, pg)
			pgMinNew = math.Min(pgMinNew, pg)
			if math.Abs(pg) > 1e-12 {
				old := alpha[i]
				alpha[i] = math.Min(math.Max(alpha[i]-g/qd[i], 0), upper)
				d := (alpha[i] - old) * y[i]
				for k, id := range x.Idx {
					w[id] += d * float64(x.Val[k])
				}
				w[dim] += d * cfg.Bias
			}
		}
		if pgMaxNew-pgMinNew <= cfg.Epsilon {
			if active == l {
				break
			}
			active = l
			pgMaxOld, pgMinOld = math.Inf(1), math.Inf(-1)
			continue
		}
		pgMaxOld, pgMinOld = pgMaxNew, pgMinNew
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
		if pgMinOld >= 0 {
			pgMinOld = math.Inf(-1)
		}
	}
	out := make([]float32, dim+1)
	for i, v := range w {
		out[i] = float32(v)
	}
	return out, nil
}

// Scores returns the decision value of every class for x.
func (m *LinearModel) Scores(x SparseVector) []float64 {
	out := make([]float64, len(m.W))
	for c, w := range m.W {
		s := float64(w[m.Dim]) * float64(m.Bias)
		for k, id := range x.Idx {
			if int(id) < m.Dim {
				s += float64(w[id]) * float64(x.Val[k])
			}
		}
		out[c] = s
	}
	return out
}

// Probabilities returns softmax(scores / Temperature).
func (m *LinearModel) Probabilities(x SparseVector) []float64 {
	return Softmax(m.Scores(x), m.Temperature)
}

// Softmax returns the softmax of scores divided by temperature t (t <= 0
// means 1).
func Softmax(scores []float64, t float64) []float64 {
	if t <= 0 {
		t = 1
	}
	out := make([]float64, len(scores))
	mx := math.Inf(-1)
	for _, s := range scores {
		mx = math.Max(mx, s/t)
	}
	var sum float64
	for i, s := range scores {
		out[i] = math.Exp(s/t - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// FitTemperature returns the softmax temperature that minimises the negative
// log-likelihood of the true classes ys given held-out decision values scores
// (temperature scaling, Guo et al. 2017), searched on a log scale.
func FitTemperature(scores [][]float64, ys []int) float64 {
	if len(scores) == 0 {
		return 1
	}
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var s float64
		for i, sc := range scores {
			p := Softmax(sc, t)[ys[i]]
			s -= math.Log(math.Max(p, 1e-300))
		}
		return s
	}
	// Golden-section search over log T in [ln 0.005, ln 20].
	a, b := math.Log(0.005), math.Log(20)
	phi := (math.Sqrt(5) - 1) / 2
	x1, x2 := b-phi*(b-a), a+phi*(b-a)
	f1, f2 := nll(x1), nll(x2)
	for range 60 {
		if f1 < f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - phi*(b-a)
			f1 = nll(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + phi*(b-a)
			f2 = nll(x2)
		}
	}
	return math.Exp((a + b) / 2)
}
