package wfm

import (
	"fmt"
	"math"
	"time"
)

// DSHW is Taylor's (2003) double-seasonal Holt-Winters exponential
// smoothing with an AR(1) adjustment of the one-step error, run on the
// concatenated business days (intraday cycle of Slots, weekly cycle of
// 5·Slots; like R's dshw it ignores holiday gaps):
//
//	l(t) = α·y(t)/(d(t−m1)·w(t−m2)) + (1−α)·l(t−1)
//	d(t) = δ·y(t)/(l(t)·w(t−m2)) + (1−δ)·d(t−m1)
//	w(t) = ω·y(t)/(l(t)·d(t−m1)) + (1−ω)·w(t−m2)
//	ŷ(t+k) = l(t)·d(t−m1+k)·w(t−m2+k) + φ^k·e(t)
//
// α, δ, ω and φ are chosen from a small grid by the in-sample one-step
// squared error over the last FitWeeks weeks of the history.
type DSHW struct {
	// FitWeeks is the number of final weeks scored when fitting (≥ 1).
	FitWeeks int
}

// Name implements Method.
func (DSHW) Name() string { return "dshw-taylor" }

type dshwParams struct{ alpha, delta, omega, phi float64 }

// Forecast implements Method.
func (m DSHW) Forecast(hist *Series, targets []time.Time) ([][]float64, error) {
	if err := checkTargets(hist, targets); err != nil {
		return nil, err
	}
	m1 := hist.Slots
	m2 := 5 * m1
	y := make([]float64, 0, len(hist.Days)*m1)
	for _, d := range hist.Days {
		for _, v := range d.Counts {
			y = append(y, math.Max(v, 0.5)) // multiplicative model needs y > 0
		}
	}
	if len(y) < 3*m2 {
		return nil, fmt.Errorf("%w: DSHW needs three weeks", ErrShortHistory)
	}
	fitFrom := len(y) - max(m.FitWeeks, 1)*m2
	fitFrom = max(fitFrom, 2*m2)
	best, bestSSE := dshwParams{}, math.Inf(1)
	for _, a := range []float64{0.01, 0.05, 0.15} {
		for _, dl := range []float64{0.05, 0.15, 0.3} {
			for _, om := range []float64{0.05, 0.15, 0.3} {
				for _, ph := range []float64{0, 0.5, 0.9} {
					p := dshwParams{a, dl, om, ph}
					sse, _ := dshwRun(y, m1, m2, p, fitFrom, 0)
					if sse < bestSSE {
						best, bestSSE = p, sse
					}
				}
			}
		}
	}
	H := len(targets) * m1
	_, fc := dshwRun(y, m1, m2, best, len(y), H)
	out := make([][]float64, len(targets))
	for t := range targets {
		out[t] = fc[t*m1 : (t+1)*m1]
	}
	clampNonNeg(out)
	return out, nil
}

// dshwRun filters y and returns the one-step SSE over y[fitFrom:] and an
// h-step forecast from the end.
func dshwRun(y []float64, m1, m2 int, p dshwParams, fitFrom, h int) (float64, []float64) {
	// Initialise from the first two weeks: level = mean, weekly-by-slot
	// indices from week means, intraday indices from the day-of-cycle mean.
	n0 := 2 * m2
	var lvl float64
	for _, v := range y[:n0] {
		lvl += v
	}
	lvl /= float64(n0)
	d := make([]float64, len(y)+h+m2)
	w := make([]float64, len(y)+h+m2)
	// Daily profile indices.
	prof := make([]float64, m1)
	for i := range n0 {
		prof[i%m1] += y[i] / (float64(n0/m1) * lvl)
	}
	week := make([]float64, m2)
	for i := range n0 {
		week[i%m2] += y[i] / (2 * lvl * prof[i%m1])
	}
	// Seasonal states are indexed with an offset of m2 so t−m2 ≥ 0.
	for i := range m2 {
		d[i] = prof[i%m1]
		w[i] = week[i]
	}
	var sse, e float64
	for t := range y {
		k := t + m2
		pred := lvl*d[k-m1]*w[k-m2] + p.phi*e
		err := y[t] - pred
		if t >= fitFrom {
			sse += err * err
		}
		base := lvl * d[k-m1] * w[k-m2]
		e = y[t] - base
		newL := p.alpha*y[t]/(d[k-m1]*w[k-m2]) + (1-p.alpha)*lvl
		d[k] = p.delta*y[t]/(newL*w[k-m2]) + (1-p.delta)*d[k-m1]
		w[k] = p.omega*y[t]/(newL*d[k-m1]) + (1-p.omega)*w[k-m2]
		lvl = newL
	}
	if h == 0 {
		return sse, nil
	}
	fc := make([]float64, h)
	T := len(y) + m2 - 1 // state index of the last observation
	for j := 1; j <= h; j++ {
		di := T - m1 + 1 + (j-1)%m1
		wi := T - m2 + 1 + (j-1)%m2
		fc[j-1] = lvl*d[di]*w[wi] + math.Pow(p.phi, float64(j))*e
	}
	return sse, fc
}
