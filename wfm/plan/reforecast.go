package plan

import "math"

// Damping shapes the intraday re-forecast.
type Damping struct {
	// Prior is a pseudo-count of contacts: the observed ratio is trusted
	// with weight F/(F+Prior), where F is the contacts forecast so far, so
	// a noisy first hour moves the rest of the day little.
	Prior float64
	// Decay is the per-interval factor by which the correction fades
	// towards the original forecast for intervals further ahead (1 keeps
	// it constant for the rest of the day).
	Decay float64
	// MinRatio and MaxRatio clamp the observed actual/forecast ratio.
	MinRatio, MaxRatio float64
}

// DefaultDamping returns a prior of 20 contacts, a decay of 0.98 per
// 15 minutes (the correction halves in about 8.5 hours) and a ratio clamp
// of [0.2, 5].
func DefaultDamping() Damping { return Damping{Prior: 20, Decay: 0.98, MinRatio: 0.2, MaxRatio: 5} }

// Reforecast re-forecasts the rest of a day from what happened so far.
// forecast and actual hold one value per interval of the day; intervals
// before now are done. With F and A the forecast and actual contacts of
// the done intervals, the ratio r = clamp(A/F) is shrunk towards 1 with
// weight w = F/(F+Prior): k = 1 + w·(r−1). Interval now+h (h ≥ 0) of the
// rest of the day gets forecast·(1 + (k−1)·Decay^h). Done intervals keep
// their actuals. It returns the re-forecast curve and the factor k.
func Reforecast(forecast, actual []float64, now int, d Damping) ([]float64, float64) {
	out := make([]float64, len(forecast))
	now = max(0, min(now, len(forecast)))
	var f, a float64
	for i := 0; i < now; i++ {
		f += forecast[i]
		if i < len(actual) {
			a += actual[i]
			out[i] = actual[i]
		}
	}
	k := 1.0
	switch {
	case f > 0:
		r := a / f
		if d.MaxRatio > 0 {
			r = math.Min(r, d.MaxRatio)
		}
		r = math.Max(r, d.MinRatio)
		w := f / (f + d.Prior)
		k = 1 + w*(r-1)
	case a > 0:
		// Nothing was expected but contacts came: trust them as far as
		// the prior allows, as if one contact had been expected.
		w := 1 / (1 + d.Prior)
		k = 1 + w*(math.Min(a, d.MaxRatio)-1)
	}
	decay := d.Decay
	if decay <= 0 || decay > 1 {
		decay = 1
	}
	g := k - 1
	for i := now; i < len(forecast); i++ {
		out[i] = forecast[i] * (1 + g)
		g *= decay
	}
	return out, k
}
