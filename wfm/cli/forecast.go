package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/starpost/starpost/wfm"
)

const forecastUsage = `usage: starpost wfm forecast --history FILE.csv [--interval 30m] [--days N] [--events events.csv] [--open HH:MM --close HH:MM] [--out forecast.csv]

Reads interval history (columns interval,count[,aht] — aht in seconds), picks
the forecasting method per lead by a rolling-origin backtest, and writes the
forecast for the next N business days as interval,contacts,aht_seconds.
Prints the chosen method per lead and its backtest WAPE.

`

// forecastResult is what the forecast command computed, for tests.
type forecastResult struct {
	series  *wfm.Series
	targets []time.Time
	chosen  []string  // per lead
	wape    []float64 // per lead, of the chosen method
	fc      []wfm.IntervalForecast
}

func runForecast(ctx context.Context, args []string, e *env) error {
	fs := newFlags("forecast", forecastUsage, e)
	history := fs.String("history", "", "history CSV: interval,count[,aht] (required)")
	interval := fs.Duration("interval", 30*time.Minute, "forecast interval; history is summed into it")
	days := fs.Int("days", 5, "business days to forecast (weekdays after the history)")
	events := fs.String("events", "", "events calendar CSV: date,kind (past and planned events)")
	open := fs.String("open", "", "first slot of the day, HH:MM (default: the earliest time in the history)")
	closeAt := fs.String("close", "", "end of the last slot of the day, HH:MM (default: after the latest time in the history)")
	out := fs.String("out", "", "forecast CSV to write (stdout when absent)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *history == "" {
		fs.Usage()
		return fmt.Errorf("%w: --history is required", ErrUsage)
	}
	if *days < 1 || *days > 366 {
		return fmt.Errorf("%w: --days %d outside [1, 366]", ErrUsage, *days)
	}
	if *interval < time.Minute || *interval > 24*time.Hour || (24*time.Hour)%*interval != 0 {
		return fmt.Errorf("%w: --interval %v must divide a day and be at least a minute", ErrUsage, *interval)
	}
	obs, err := readFile(e, *history, ReadHistory)
	if err != nil {
		return err
	}
	var cal wfm.Calendar
	if *events != "" {
		loc := time.UTC
		if len(obs) > 0 {
			loc = obs[0].Start.Location()
		}
		cal, err = readFile(e, *events, func(file string, r io.Reader) (wfm.Calendar, error) { return ReadEvents(file, r, loc) })
		if err != nil {
			return err
		}
	}
	g, err := gridFor(obs, *interval)
	if err != nil {
		return &InputError{File: *history, Err: err}
	}
	if *open != "" {
		if g.DayStart, err = parseClock(*open); err != nil {
			return fmt.Errorf("%w: --open: %v", ErrUsage, err)
		}
	}
	if *closeAt != "" {
		if g.DayEnd, err = parseClock(*closeAt); err != nil {
			return fmt.Errorf("%w: --close: %v", ErrUsage, err)
		}
		if g.DayEnd == 0 {
			g.DayEnd = 24 * time.Hour
		}
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("%w: --open/--close/--interval: %v", ErrUsage, err)
	}
	if native := historyStep(obs); native > 0 && *interval%native != 0 {
		return fmt.Errorf("%w: --interval %v is not a multiple of the history's %v intervals", ErrUsage, *interval, native)
	}
	res, err := forecast(ctx, obs, g, *days, cal)
	if err != nil {
		return err
	}
	if _, err := writeOut(e, *out, func(w io.Writer) error { return wfm.WriteForecast(w, res.fc) }); err != nil {
		return err
	}
	rw := reportTo(e, *out)
	last := res.series.Days[len(res.series.Days)-1].Date
	fmt.Fprintf(rw, "history: %d business days x %d slots of %v, last %s; forecast %d days from %s\n",
		len(res.series.Days), res.series.Slots, res.series.Step, last.Format(time.DateOnly), len(res.targets), res.targets[0].Format(time.DateOnly))
	for i, m := range res.chosen {
		fmt.Fprintf(rw, "lead %d: %s, backtest WAPE %.2f %%\n", i+1, m, 100*res.wape[i])
	}
	if *events != "" {
		ea := wfm.EventAware{Calendar: cal}
		if u := ea.Unknown(res.series, res.targets); len(u) > 0 {
			fmt.Fprintf(rw, "warning: no past occurrence of planned events %v: forecast without uplift\n", u)
		}
	}
	return nil
}

// gridFor returns the business-day grid covering every observation's time
// of day, aligned to the interval.
func gridFor(obs []wfm.Observation, interval time.Duration) (wfm.Grid, error) {
	if len(obs) == 0 {
		return wfm.Grid{}, errors.New("history has no rows")
	}
	lo, hi := 24*time.Hour, time.Duration(0)
	for _, o := range obs {
		y, m, d := o.Start.Date()
		off := o.Start.Sub(time.Date(y, m, d, 0, 0, 0, 0, o.Start.Location()))
		lo, hi = min(lo, off), max(hi, off)
	}
	lo = lo.Truncate(interval)
	hi = hi.Truncate(interval) + interval
	return wfm.Grid{DayStart: lo, DayEnd: min(hi, 24*time.Hour), Step: interval}, nil
}

// forecast builds the series, picks a method per lead by backtest and
// forecasts the next business days.
func forecast(ctx context.Context, obs []wfm.Observation, g wfm.Grid, days int, cal wfm.Calendar) (*forecastResult, error) {
	s, err := wfm.BuildSeries(obs, g)
	if err != nil {
		return nil, fmt.Errorf("aggregate history: %w", err)
	}
	n := len(s.Days)
	if n < 8 {
		return nil, fmt.Errorf("%w: %d business days, want at least 8 (ideally 12 weeks or more)", wfm.ErrShortHistory, n)
	}
	cands := wfm.Candidates()
	if len(cal.Events) > 0 {
		for i, c := range cands {
			cands[i] = wfm.EventAware{Base: c, Calendar: cal}
		}
	}
	// Score the last 40 days, or half the history when it is short, so
	// every method has at least half the history to learn from.
	sel := wfm.Selector{Candidates: cands, Window: min(40, n/2), MaxLead: min(5, days)}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	best, results, err := sel.Choose(s)
	if err != nil {
		return nil, fmt.Errorf("select method: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &forecastResult{series: s, targets: s.NextBusinessDays(days, nil)}
	byName := map[string]wfm.BacktestResult{}
	for _, r := range results {
		byName[r.Method] = r
	}
	for h, m := range best {
		res.chosen = append(res.chosen, m.Name())
		res.wape = append(res.wape, byName[m.Name()].WAPE(h+1))
	}
	rows := make([][]float64, len(res.targets))
	cache := map[string][][]float64{}
	for t := range res.targets {
		m := best[min(t, len(best)-1)]
		fc, ok := cache[m.Name()]
		if !ok {
			if fc, err = m.Forecast(s, res.targets); err != nil {
				return nil, fmt.Errorf("forecast with %s: %w", m.Name(), err)
			}
			cache[m.Name()] = fc
		}
		rows[t] = fc[t]
	}
	for _, r := range rows {
		for i, v := range r {
			if v < 0 || math.IsNaN(v) {
				r[i] = 0
			}
		}
	}
	var aht [][]time.Duration
	if hasHandle(s) {
		if aht, err = wfm.ForecastHandleTime(s, res.targets, 4); err != nil {
			return nil, fmt.Errorf("forecast handle time: %w", err)
		}
	}
	res.fc = s.Forecasts(res.targets, rows, aht)
	return res, nil
}

// historyStep returns the smallest positive gap between observations of
// the same day: the history's own interval (0 when unknown).
func historyStep(obs []wfm.Observation) time.Duration {
	st := make([]time.Time, len(obs))
	for i, o := range obs {
		st[i] = o.Start
	}
	slices.SortFunc(st, func(a, b time.Time) int { return a.Compare(b) })
	best := time.Duration(0)
	for i := 1; i < len(st); i++ {
		if d := st[i].Sub(st[i-1]); d > 0 && d < 24*time.Hour && (best == 0 || d < best) {
			best = d
		}
	}
	return best
}

func hasHandle(s *wfm.Series) bool {
	for _, d := range s.Days {
		for _, h := range d.HandleSeconds {
			if h > 0 {
				return true
			}
		}
	}
	return false
}
