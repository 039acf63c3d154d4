package wfm

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// BankCallsFile is the path, relative to the shared data folder, of the
// public US bank call-centre arrivals (fpp3 bank_calls, 5-minute counts).
const BankCallsFile = "callcenter_us_bank_2003/bank_calls_5min.csv"

// BankGrid returns the evaluation grid: 30-minute slots from 07:00 to
// 21:00, 28 per business day (the 21:00 five-minute count is outside it).
func BankGrid() Grid {
	return Grid{DayStart: 7 * time.Hour, DayEnd: 21 * time.Hour, Step: 30 * time.Minute}
}

// LoadSeries reads a history CSV by path and aggregates it on the grid.
func LoadSeries(ctx context.Context, path string, g Grid) (*Series, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wfm: open history: %w", err)
	}
	defer f.Close()
	obs, err := ReadHistory(f)
	if err != nil {
		return nil, fmt.Errorf("wfm: %s: %w", path, err)
	}
	s, err := BuildSeries(obs, g)
	if err != nil {
		return nil, fmt.Errorf("wfm: %s: %w", path, err)
	}
	return s, nil
}

// ForecastReport is the result of EvalForecast: WAPE per method and lead on
// the last TestDays business days of the bank series.
type ForecastReport struct {
	// Days and Slots describe the aggregated series.
	Days, Slots int
	// TestDays is the number of scored days per lead.
	TestDays int
	// Leads is the maximum lead in business days.
	Leads int
	// Methods lists the evaluated methods in report order.
	Methods []string
	// WAPE maps method name to WAPE per lead (index 0 = day ahead).
	WAPE map[string][]float64
	// Choices counts the automatic selection's picks, keyed "lead:method",
	// over every origin it forecast from.
	Choices map[string]int
}

// EvalForecast runs the day-ahead (and 2–5 days ahead) forecast
// evaluation on the US bank arrivals, prints a table to w and returns the
// figures. dataDir is the data set's folder (callcenter_us_bank_2003) or the
// shared data folder that holds it.
func EvalForecast(ctx context.Context, dataDir string, w io.Writer) (*ForecastReport, error) {
	path := filepath.Join(dataDir, filepath.Base(BankCallsFile))
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(dataDir, BankCallsFile)
	}
	s, err := LoadSeries(ctx, path, BankGrid())
	if err != nil {
		return nil, err
	}
	const testDays, leads = 20, 5
	rep := &ForecastReport{Days: len(s.Days), Slots: s.Slots, TestDays: testDays, Leads: leads, WAPE: map[string][]float64{}}
	first, last := len(s.Days)-testDays, len(s.Days)-1
	for _, m := range EvalMethods() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if sel, ok := m.(Selector); ok && sel.Top <= 1 {
			rep.Choices = map[string]int{}
			sel.OnChoice = func(_ time.Time, lead int, name string) {
				rep.Choices[fmt.Sprintf("%d:%s", lead, name)]++
			}
			m = sel
		}
		r, err := Backtest(s, m, first, last, leads)
		if err != nil {
			return nil, err
		}
		rep.Methods = append(rep.Methods, m.Name())
		ws := make([]float64, leads)
		for h := 1; h <= leads; h++ {
			ws[h-1] = r.WAPE(h)
		}
		rep.WAPE[m.Name()] = ws
	}
	fmt.Fprintf(w, "bank_calls: %d business days x %d slots of 30 min; last %d days scored\n", rep.Days, rep.Slots, testDays)
	fmt.Fprintf(w, "%-40s", "WAPE % (lead in business days)")
	for h := 1; h <= leads; h++ {
		fmt.Fprintf(w, " %7d", h)
	}
	fmt.Fprintln(w)
	for _, n := range rep.Methods {
		fmt.Fprintf(w, "%-40s", n)
		for _, v := range rep.WAPE[n] {
			fmt.Fprintf(w, " %7.2f", 100*v)
		}
		fmt.Fprintln(w)
	}
	if len(rep.Choices) > 0 {
		keys := make([]string, 0, len(rep.Choices))
		for k := range rep.Choices {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "automatic selection picks (lead:method count):")
		for _, k := range keys {
			fmt.Fprintf(w, "  %s %d\n", k, rep.Choices[k])
		}
	}
	return rep, nil
}

// EvalMethods returns the methods EvalForecast reports, baselines first,
// then the automatic per-lead selection among the others, and last, for
// comparison, the selection that averages the best two candidates per
// lead (worse on development data, so not the default).
func EvalMethods() []Method {
	top2 := NewSelector()
	top2.Top = 2
	return append(Candidates(), NewSelector(), top2)
}

// Candidates returns the forecasting methods the automatic selection
// chooses from: the two baselines, an 8-week mean, Taylor's double-seasonal
// smoothing, the calendar regression (with and without the after-holiday
// effect, and with the turn-of-the-month effect, with and without a local
// level), and the equal-weight combination of the regression and the
// 4-week mean.
func Candidates() []Method {
	r := NewRegression()
	rn := r
	rn.NoHoliday = true
	// With a local level the residual AR(1) decays to a slowly moving
	// mean rather than to zero (smoothing 0.1, from development data).
	lvl := NewMonthRegression()
	lvl.LevelAlpha = 0.1
	return []Method{
		SeasonalNaive{}, WeekMean{Weeks: 4}, WeekMean{Weeks: 8}, DSHW{FitWeeks: 4}, r, rn,
		Combination{Members: []Method{r, WeekMean{Weeks: 4}}}, NewMonthRegression(), lvl,
	}
}

// NewMonthRegression returns NewRegression with the turn-of-the-month
// indicators (MonthTurn) and a ridge of 0.25 on them. Both were chosen on
// development data only — the bank series' 40 business days before its
// test window, where the turn-of-month term cut the 1–5-day-ahead WAPE
// from 4.97–6.53 % to 4.61–5.21 %; ridges of 0 to 1 differed by at most
// 0.2 points and the larger of the good ones was kept, for the in-product
// histories that hold only two or three month turns.
func NewMonthRegression() Regression {
	r := NewRegression()
	r.MonthTurn, r.MonthRidge = true, 0.25
	return r
}

// NewSelector returns the default automatic method: per lead, the
// candidate with the lowest WAPE over the last 40 business days before the
// origin, up to 5 days ahead. The 40-day window was chosen over 10 and 20
// days on development data (the 40 bank-series days before its test window).
func NewSelector() Selector {
	return Selector{Candidates: Candidates(), Window: 40, MaxLead: 5}
}
