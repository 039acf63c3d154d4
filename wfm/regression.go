package wfm

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Regression is a log-linear calendar regression that forecasts a day as
// volume × intraday profile, the structure of a Poisson regression
// log μ(d,s) = a(weekday) + b·afterHoliday(d) + u(d) + log p(weekday,s):
//
//   - daily volume: exponentially weighted least squares of log daily totals
//     on weekday indicators and an after-holiday indicator (ridge-shrunk, so
//     a handful of past holidays cannot swing it), with an AR(1) recent-level
//     term on the residuals that fades with the lead;
//   - intraday profile: the share of each slot on the same weekday over the
//     last ProfileWeeks weeks, shrunk toward the all-weekday profile.
//
// With MonthTurn, three calendar indicators join the daily model: the first
// business day of a month, its second and third, and the last business
// day (bank and billing traffic peaks at the turn of the month), each
// ridge-shrunk by MonthRidge.
//
// The zero value is not usable; see NewRegression for defaults.
type Regression struct {
	// Window is the number of most recent business days used to fit volume.
	Window int
	// HalfLife is the half-life, in business days, of the fit weights.
	HalfLife float64
	// ProfileWeeks is the number of same-weekday days in the profile.
	ProfileWeeks int
	// Shrink is the weight of the all-weekday profile in [0, 1].
	Shrink float64
	// HolidayRidge is the ridge penalty on the after-holiday coefficient;
	// larger means it needs more evidence to move away from zero.
	HolidayRidge float64
	// NoHoliday drops the after-holiday term.
	NoHoliday bool
	// NoAR drops the recent-level AR(1) term.
	NoAR bool
	// LevelAlpha, when positive, adds a local level: an exponentially
	// weighted mean L of the residuals (smoothing constant LevelAlpha) to
	// which the AR(1) term decays, so a lasting shift carries to every lead.
	LevelAlpha float64
	// MonthTurn adds the turn-of-the-month indicators, and MonthRidge is
	// their ridge penalty.
	MonthTurn  bool
	MonthRidge float64
}

// NewRegression returns a Regression with defaults chosen by rolling-origin
// backtests on development data (the bank series' 40 business days before
// its test window): 100-day window, 80-day half-life, 8-week profile shrunk
// 25 % toward the all-weekday profile.
func NewRegression() Regression {
	return Regression{Window: 100, HalfLife: 80, ProfileWeeks: 8, Shrink: 0.25, HolidayRidge: 2}
}

// Name implements Method.
func (r Regression) Name() string {
	n := fmt.Sprintf("regression-w%d-h%g-p%d", r.Window, r.HalfLife, r.ProfileWeeks)
	if r.NoHoliday {
		n += "-nohol"
	}
	if r.NoAR {
		n += "-noar"
	}
	if r.LevelAlpha > 0 {
		n += fmt.Sprintf("-lvl%g", r.LevelAlpha)
	}
	if r.MonthTurn {
		n += fmt.Sprintf("-month%g", r.MonthRidge)
	}
	return n
}

// Forecast implements Method.
func (r Regression) Forecast(hist *Series, targets []time.Time) ([][]float64, error) {
	if err := checkTargets(hist, targets); err != nil {
		return nil, err
	}
	if r.Window < 10 || r.HalfLife <= 0 || r.ProfileWeeks < 1 || r.Shrink < 0 || r.Shrink > 1 {
		return nil, errors.New("wfm: regression parameters out of range")
	}
	n := len(hist.Days)
	if n < 10 {
		return nil, ErrShortHistory
	}
	known := knownDays(hist, targets)
	cal := calendar{known: known, last: hist.Days[n-1].Date}
	if len(targets) > 0 {
		cal.last = targets[len(targets)-1]
	}
	lo := max(0, n-r.Window)
	// Design: 5 weekday indicators, after-holiday, 3 turn-of-month.
	const p = nFeatures
	xtx := make([][]float64, p)
	for i := range xtx {
		xtx[i] = make([]float64, p)
	}
	xty := make([]float64, p)
	rows := make([][p]float64, 0, n-lo)
	ys := make([]float64, 0, n-lo)
	for d := lo; d < n; d++ {
		x := r.features(hist.Days[d].Date, cal)
		y := math.Log(math.Max(sum(hist.Days[d].Counts), 1))
		w := math.Exp2(-float64(n-1-d) / r.HalfLife)
		for i := range p {
			xty[i] += w * x[i] * y
			for j := range p {
				xtx[i][j] += w * x[i] * x[j]
			}
		}
		rows = append(rows, x)
		ys = append(ys, y)
	}
	for i := range 5 {
		xtx[i][i] += 1e-6 // weekday without data keeps a solvable system
	}
	xtx[5][5] += r.HolidayRidge + 1e-6
	for i := 6; i < p; i++ {
		xtx[i][i] += r.MonthRidge + 1e-6
	}
	beta, err := solve(xtx, xty)
	if err != nil {
		return nil, fmt.Errorf("wfm: regression fit: %w", err)
	}
	// AR(1) on the residuals of consecutive business days.
	res := make([]float64, len(ys))
	for i, x := range rows {
		res[i] = ys[i] - dot(beta, x[:])
	}
	phi := 0.0
	if !r.NoAR {
		var num, den float64
		for i := 1; i < len(res); i++ {
			num += res[i] * res[i-1]
			den += res[i-1] * res[i-1]
		}
		if den > 0 {
			phi = min(max(num/den, 0), 0.95)
		}
	}
	lastRes := res[len(res)-1]
	level := 0.0
	if r.LevelAlpha > 0 {
		for _, e := range res {
			level = r.LevelAlpha*e + (1-r.LevelAlpha)*level
		}
		var num, den float64
		for i := 1; i < len(res); i++ {
			num += (res[i] - level) * (res[i-1] - level)
			den += (res[i-1] - level) * (res[i-1] - level)
		}
		if den > 0 && !r.NoAR {
			phi = min(max(num/den, 0), 0.95)
		}
	}
	allProfile := r.profile(hist, -1)
	out := make([][]float64, len(targets))
	for t, date := range targets {
		x := r.features(date, cal)
		logV := dot(beta, x[:]) + level + math.Pow(phi, float64(t+1))*(lastRes-level)
		vol := math.Exp(logV)
		wdProfile := r.profile(hist, date.Weekday())
		row := make([]float64, hist.Slots)
		for s := range row {
			row[s] = vol * ((1-r.Shrink)*wdProfile[s] + r.Shrink*allProfile[s])
		}
		out[t] = row
	}
	clampNonNeg(out)
	return out, nil
}

// nFeatures is the number of columns of the daily design.
const nFeatures = 9

func (r Regression) features(date time.Time, cal calendar) [nFeatures]float64 {
	var x [nFeatures]float64
	if wd := date.Weekday(); wd >= time.Monday && wd <= time.Friday {
		x[wd-time.Monday] = 1
	}
	if !r.NoHoliday && gapBefore(date, cal.known) {
		x[5] = 1
	}
	if r.MonthTurn {
		switch cal.ofMonth(date) {
		case 1:
			x[6] = 1
		case 2, 3:
			x[7] = 1
		}
		if cal.lastOfMonth(date) {
			x[8] = 1
		}
	}
	return x
}

// calendar tells business days: a weekday is one unless it falls on or
// before last and is absent from known (a holiday or closure); after last
// every weekday is presumed open.
type calendar struct {
	known map[time.Time]bool
	last  time.Time
}

func (c calendar) business(d time.Time) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return d.After(c.last) || c.known[d]
}

// ofMonth returns the 1-based business day of date in its month.
func (c calendar) ofMonth(date time.Time) int {
	n := 0
	for d := time.Date(date.Year(), date.Month(), 1, 0, 0, 0, 0, date.Location()); !d.After(date); d = d.AddDate(0, 0, 1) {
		if c.business(d) {
			n++
		}
	}
	return n
}

// lastOfMonth reports whether no business day follows date in its month.
func (c calendar) lastOfMonth(date time.Time) bool {
	for d := date.AddDate(0, 0, 1); d.Month() == date.Month(); d = d.AddDate(0, 0, 1) {
		if c.business(d) {
			return false
		}
	}
	return true
}

// profile returns the intraday share per slot over the last ProfileWeeks
// days of weekday wd, or over the last 5·ProfileWeeks days when wd < 0.
// It falls back to the all-day profile when a weekday is missing.
func (r Regression) profile(hist *Series, wd time.Weekday) []float64 {
	prof := make([]float64, hist.Slots)
	var idx []int
	if wd < 0 {
		for i := len(hist.Days) - 1; i >= 0 && len(idx) < 5*r.ProfileWeeks; i-- {
			idx = append(idx, i)
		}
	} else {
		idx = lastSameWeekday(hist, wd, r.ProfileWeeks)
		if len(idx) == 0 {
			return r.profile(hist, -1)
		}
	}
	var tot float64
	for _, i := range idx {
		for s, v := range hist.Days[i].Counts {
			prof[s] += v
			tot += v
		}
	}
	if tot == 0 {
		for s := range prof {
			prof[s] = 1 / float64(len(prof))
		}
		return prof
	}
	for s := range prof {
		prof[s] /= tot
	}
	return prof
}

func dot(a, b []float64) float64 {
	var t float64
	for i := range a {
		t += a[i] * b[i]
	}
	return t
}

// solve solves the square system a·x = b by Gaussian elimination with
// partial pivoting; a is given row by row and is not modified.
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n+1)
		copy(m[i], a[i][:n])
		m[i][n] = b[i]
	}
	for c := range n {
		piv := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		if math.Abs(m[piv][c]) < 1e-12 {
			return nil, errors.New("singular system")
		}
		m[c], m[piv] = m[piv], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		v := m[i][n]
		for k := i + 1; k < n; k++ {
			v -= m[i][k] * x[k]
		}
		x[i] = v / m[i][i]
	}
	return x, nil
}
