package emotion

// Direction is where a conversation's emotion is heading.
type Direction int

// Directions reported by Trend.
const (
	Steady     Direction = iota // no clear change
	Escalating                  // anger or negativity is rising
	Calming                     // anger or negativity is falling
)

// String returns "steady", "escalating" or "calming".
func (d Direction) String() string {
	switch d {
	case Escalating:
		return "escalating"
	case Calming:
		return "calming"
	}
	return "steady"
}

// TrendOptions configures a Trend. The zero value gives the defaults.
type TrendOptions struct {
	// Fast and Slow are the smoothing factors of the two exponentially
	// weighted averages (0 means 0.6 and 0.25).
	Fast, Slow float64
	// Threshold is the gap between the fast and slow averages that counts
	// as a change of direction (0 means 0.08).
	Threshold float64
}

// Trend follows one conversation's customer messages with two exponentially
// weighted moving averages of anger and of negativity: a fast one that
// reacts to the latest messages and a slow one that remembers the
// conversation. The fast average above the slow one means escalation, below
// it calming. A Trend is a small value; it is not safe for concurrent use.
type Trend struct {
	opts              TrendOptions
	n                 int
	angerFast, angerS float64
	negFast, negSlow  float64
}

// TrendState is the state of a Trend after a message.
type TrendState struct {
	// Messages is the number of customer messages observed.
	Messages int
	// Anger and Negativity are the fast averages in [0, 1]: the current
	// level. Negativity is (1 - Sentiment) / 2 averaged.
	Anger, Negativity float64
	// Direction compares the fast and slow averages.
	Direction Direction
	// Delta is the larger of the fast-minus-slow gaps of anger and
	// negativity by absolute value (positive when rising).
	Delta float64
}

// NewTrend returns an empty Trend.
func NewTrend(opts TrendOptions) *Trend {
	if opts.Fast <= 0 || opts.Fast > 1 {
		opts.Fast = 0.6
	}
	if opts.Slow <= 0 || opts.Slow > 1 {
		opts.Slow = 0.25
	}
	if opts.Threshold <= 0 {
		opts.Threshold = 0.08
	}
	return &Trend{opts: opts}
}

// Observe adds the analysis of the customer's next message and returns the
// new state.
func (t *Trend) Observe(r Result) TrendState {
	anger := r.Anger
	neg := (1 - r.Sentiment) / 2
	if t.n == 0 {
		t.angerFast, t.angerS, t.negFast, t.negSlow = anger, anger, neg, neg
	} else {
		t.angerFast += t.opts.Fast * (anger - t.angerFast)
		t.angerS += t.opts.Slow * (anger - t.angerS)
		t.negFast += t.opts.Fast * (neg - t.negFast)
		t.negSlow += t.opts.Slow * (neg - t.negSlow)
	}
	t.n++
	return t.State()
}

// State returns the current state without observing a message.
func (t *Trend) State() TrendState {
	da, dn := t.angerFast-t.angerS, t.negFast-t.negSlow
	d := da
	if abs(dn) > abs(da) {
		d = dn
	}
	s := TrendState{Messages: t.n, Anger: t.angerFast, Negativity: t.negFast, Delta: d}
	switch {
	case d >= t.opts.Threshold:
		s.Direction = Escalating
	case d <= -t.opts.Threshold:
		s.Direction = Calming
	}
	return s
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
