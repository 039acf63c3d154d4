package text

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
)

// StackerConfig configures TrainStacker. Zero fields take the defaults in
// brackets.
type StackerConfig struct {
	Lambda float64 // L2 penalty per example [1e-4]
	Epochs int     // passes of stochastic gradient descent [12]
	Rate   float64 // initial learning rate, decayed as Rate/(1+epoch) [0.1]
	Seed   uint64  // example order
	// BlockWeights are the starting weights of each block's own-class
	// score (nil means 1 for every block).
	BlockWeights []float64
}

// Stacker is a multinomial logistic regression that reads, for every class,
// several per-class scores of base models (the blocks of its input row:
// block b holds the scores of all classes from base model b) and returns
// combined class scores. Trained on out-of-fold base scores it learns how
// far to trust each base model and which classes the base models confuse.
type Stacker struct {
	Classes int
	// W holds, per class, one weight per input and the bias last.
	W [][]float32
}

// TrainStacker fits a Stacker on rows (each the concatenation of blocks of
// classes scores) with true classes ys. The weights start as "weighted sum
// of the blocks' own-class scores" (cfg.BlockWeights), so an untrained
// stacker reproduces that blend of the base models.
func TrainStacker(ctx context.Context, rows [][]float64, ys []int, classes int, cfg StackerConfig) (*Stacker, error) {
	if len(rows) == 0 || len(rows) != len(ys) {
		return nil, errors.New("text: train stacker: need as many classes as rows, at least one")
	}
	d := len(rows[0])
	if classes < 2 || d%classes != 0 {
		return nil, fmt.Errorf("text: train stacker: rows of %d values are not blocks of %d classes", d, classes)
	}
	if cfg.Lambda == 0 {
		cfg.Lambda = 1e-4
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 12
	}
	if cfg.Rate == 0 {
		cfg.Rate = 0.1
	}
	w := make([][]float64, classes)
	for c := range w {
		w[c] = make([]float64, d+1)
		for b := 0; b < d/classes; b++ {
			w[c][b*classes+c] = 1
			if b < len(cfg.BlockWeights) {
				w[c][b*classes+c] = cfg.BlockWeights[b]
			}
		}
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x57ac))
	z := make([]float64, classes)
	for ep := range cfg.Epochs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("text: train stacker: %w", err)
		}
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		eta := cfg.Rate / (1 + float64(ep))
		decay := 1 - eta*cfg.Lambda
		for _, i := range order {
			row := rows[i]
			for c := range classes {
				z[c] = dotDense(w[c], row)
			}
			p := Softmax(z, 1)
			for c := range classes {
				g := p[c]
				if c == ys[i] {
					g--
				}
				wc := w[c]
				for k, x := range row {
					wc[k] = wc[k]*decay - eta*g*x
				}
				wc[d] -= eta * g
			}
		}
	}
	s := &Stacker{Classes: classes, W: make([][]float32, classes)}
	for c := range w {
		s.W[c] = make([]float32, d+1)
		for k, x := range w[c] {
			s.W[c][k] = float32(x)
		}
	}
	return s, nil
}

// dotDense returns w·row + w[len(row)] (the bias).
func dotDense(w, row []float64) float64 {
	s := w[len(row)]
	for k, x := range row {
		s += w[k] * x
	}
	return s
}

// Scores returns the combined score of every class for one input row.
func (s *Stacker) Scores(row []float64) []float64 {
	out := make([]float64, s.Classes)
	for c, w := range s.W {
		v := float64(w[len(row)])
		for k, x := range row {
			v += float64(w[k]) * x
		}
		out[c] = v
	}
	return out
}
