package plan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm"
)

// HistoryDays is how much history a forecast reads.
const HistoryDays = 70

// PlanInterval is one interval of a queue's day: forecast, actuals,
// re-forecast and staffing.
type PlanInterval struct {
	Start time.Time `json:"start"`
	// Forecast is the contacts forecast before the day began.
	Forecast float64 `json:"forecast"`
	// Actual is the contacts that arrived (intervals before now).
	Actual float64 `json:"actual"`
	// Reforecast is the intraday re-forecast (equal to Forecast until the
	// engine re-plans the day; equal to Actual for past intervals).
	Reforecast float64 `json:"reforecast"`
	// AHTSeconds is the forecast mean handle time.
	AHTSeconds float64 `json:"aht_seconds"`
	// Required is the scheduled agents needed by the forecast (after
	// shrinkage), and ReRequired by the re-forecast.
	Required   int `json:"required"`
	ReRequired int `json:"re_required"`
	// Scheduled is the agents on published shifts (breaks excluded),
	// claimed slots included.
	Scheduled int `json:"scheduled"`
	// Open is the agents on open (unclaimed) slots.
	Open int `json:"open"`
}

// DayPlan is a queue's day.
type DayPlan struct {
	QueueID string         `json:"queue_id"`
	Day     string         `json:"day"`
	Method  string         `json:"method"`
	Now     time.Time      `json:"now"`
	Items   []PlanInterval `json:"items"`
	// Factor is the re-forecast factor k applied to the rest of the day
	// (1 when not re-planned).
	Factor float64 `json:"factor"`
}

type storedForecast struct {
	contacts, aht, reforecast []float64
	required, reRequired      []int
	method                    string
}

// loadForecast reads a stored day forecast; ok is false when none.
func (s *Service) loadForecast(ctx context.Context, ws, queueID string, day time.Time) (*storedForecast, bool, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT slot, contacts, aht_seconds, required, method, reforecast, re_required FROM wfm_forecasts
WHERE workspace_id = ? AND queue_id = ? AND day = ? ORDER BY slot`), ws, queueID, dayKey(day))
	if err != nil {
		return nil, false, fmt.Errorf("plan: read forecast: %w", err)
	}
	defer rows.Close()
	f := &storedForecast{contacts: make([]float64, SlotsPerDay), aht: make([]float64, SlotsPerDay), reforecast: make([]float64, SlotsPerDay),
		required: make([]int, SlotsPerDay), reRequired: make([]int, SlotsPerDay)}
	n := 0
	for rows.Next() {
		var slot, req, rereq int64
		var c, a, rf float64
		if err := rows.Scan(&slot, &c, &a, &req, &f.method, &rf, &rereq); err != nil {
			return nil, false, fmt.Errorf("plan: read forecast: %w", err)
		}
		if slot < 0 || slot >= int64(SlotsPerDay) {
			continue
		}
		f.contacts[slot], f.aht[slot], f.required[slot] = c, a, int(req)
		f.reforecast[slot], f.reRequired[slot] = rf, int(rereq)
		if rf < 0 {
			f.reforecast[slot], f.reRequired[slot] = c, int(req)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("plan: read forecast: %w", err)
	}
	return f, n == SlotsPerDay, nil
}

// Forecast computes and stores the forecast of the given days (in
// increasing order) for a queue, from the queue's history before the
// first day: the method is chosen per lead by a rolling-origin backtest
// (wfm.Selector) when the history allows, else the longest week mean the
// history supports, else seasonal naive; a queue with no history gets
// zeros. It returns the method used.
func (s *Service) Forecast(ctx context.Context, ws, queueID string, days []time.Time) (string, error) {
	q, err := s.findQueue(ctx, ws, queueID)
	if err != nil {
		return "", err
	}
	if len(days) == 0 {
		return "", starpost.FieldError("days", "required")
	}
	for i := range days {
		days[i] = DayStart(days[i])
	}
	origin := days[0]
	ivs, err := s.Intervals(ctx, ws, queueID, origin.AddDate(0, 0, -HistoryDays), origin)
	if err != nil {
		return "", err
	}
	counts := make([][]float64, len(days))
	method := "none"
	var ahts [][]time.Duration
	if len(ivs) > 0 {
		obs := make([]wfm.Observation, len(ivs))
		for i, iv := range ivs {
			obs[i] = wfm.Observation{Start: iv.Start, Count: iv.Contacts, HandleSeconds: iv.HandleSeconds}
		}
		hist, err := wfm.BuildSeries(obs, wfm.Grid{DayStart: 0, DayEnd: 24 * time.Hour, Step: Step})
		if err != nil {
			return "", fmt.Errorf("plan: history of %s: %w", queueID, err)
		}
		cal, err := s.calendar(ctx, ws, queueID, time.UTC)
		if err != nil {
			return "", err
		}
		counts, method, err = forecastSeries(hist, days, cal)
		if err != nil {
			return "", fmt.Errorf("plan: forecast %s: %w", queueID, err)
		}
		if a, err := wfm.ForecastHandleTime(perContactHandle(hist, ivs), days, 4); err == nil {
			ahts = a
		}
	} else {
		for i := range counts {
			counts[i] = make([]float64, SlotsPerDay)
		}
	}
	channel, err := s.mainChannel(ctx, ws, queueID)
	if err != nil {
		return "", err
	}
	now := s.clock.Now().UTC()
	return method, s.inTx(ctx, func(tx *sql.Tx) error {
		for d, day := range days {
			for k := 0; k < SlotsPerDay; k++ {
				c := math.Max(0, counts[d][k])
				aht := s.cfg.DefaultAHT
				if ahts != nil && ahts[d][k] > 0 {
					aht = ahts[d][k]
				}
				req, err := s.required(q, channel, c, aht)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_forecasts (workspace_id, queue_id, day, slot, contacts, aht_seconds, required, method, reforecast, re_required, computed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, -1, -1, ?)
ON CONFLICT (workspace_id, queue_id, day, slot) DO UPDATE SET contacts = excluded.contacts, aht_seconds = excluded.aht_seconds,
required = excluded.required, method = excluded.method, reforecast = -1, re_required = -1, computed_at = excluded.computed_at`),
					ws, queueID, dayKey(day), k, c, aht.Seconds(), req, method, unix(now)); err != nil {
					return fmt.Errorf("plan: save forecast: %w", err)
				}
			}
		}
		return nil
	})
}

// perContactHandle turns the history's summed handle time per interval
// into handle time per handled contact scaled to the interval's count, so
// wfm.ForecastHandleTime (sum handle / sum count) sees only ended contacts.
func perContactHandle(hist *wfm.Series, ivs []Interval) *wfm.Series {
	mean := map[time.Time]float64{}
	for _, iv := range ivs {
		if iv.Handled > 0 {
			mean[iv.Start] = iv.HandleSeconds / iv.Handled
		}
	}
	c := *hist
	c.Days = make([]wfm.Day, len(hist.Days))
	for i, d := range hist.Days {
		nd := wfm.Day{Date: d.Date, Counts: d.Counts, HandleSeconds: make([]float64, len(d.Counts))}
		for k, n := range d.Counts {
			nd.HandleSeconds[k] = mean[hist.SlotStart(d.Date, k)] * n
		}
		c.Days[i] = nd
	}
	return &c
}

// forecastSeries forecasts days from hist with the best method the
// history supports; with events on the calendar, the method learns each
// kind's uplift from its past days and applies it to the planned ones
// (wfm.EventAware).
func forecastSeries(hist *wfm.Series, days []time.Time, cal wfm.Calendar) ([][]float64, string, error) {
	n := len(hist.Days)
	var methods []wfm.Method
	if w := min(20, n-28); w >= 5 {
		methods = append(methods, wfm.Selector{Candidates: wfm.Candidates(), Window: w, MaxLead: 7})
	}
	methods = append(methods, wfm.WeekMean{Weeks: 4}, wfm.SeasonalNaive{})
	for _, m := range methods {
		if len(cal.Events) > 0 {
			m = wfm.EventAware{Base: m, Calendar: cal}
		}
		fc, err := m.Forecast(hist, days)
		if err == nil {
			return fc, m.Name(), nil
		}
		// Any method that cannot run on this history gives way to the next.
	}
	// Too little history for any method: the mean day profile.
	prof := make([]float64, hist.Slots)
	for _, d := range hist.Days {
		for k, v := range d.Counts {
			prof[k] += v / float64(n)
		}
	}
	out := make([][]float64, len(days))
	for i := range out {
		out[i] = prof
	}
	return out, "mean-profile", nil
}

// mainChannel is the channel most of the queue's contacts came on (chat
// when it has none).
func (s *Service) mainChannel(ctx context.Context, ws, queueID string) (starpost.Channel, error) {
	var ch string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT channel FROM wfm_contacts WHERE workspace_id = ? AND queue_id = ?
GROUP BY channel ORDER BY COUNT(*) DESC, channel LIMIT 1`), ws, queueID).Scan(&ch)
	if errors.Is(err, sql.ErrNoRows) {
		return starpost.ChannelChat, nil
	} else if err != nil {
		return "", fmt.Errorf("plan: queue channel: %w", err)
	}
	return starpost.Channel(ch), nil
}

// required returns the scheduled agents one interval needs: Erlang C at
// the queue's service-level target (80 % in 20 s when unset), chats
// sharing an agent by ChatConcurrency (email by its default capacity),
// grossed up for shrinkage.
func (s *Service) required(q *starpost.Queue, ch starpost.Channel, contacts float64, aht time.Duration) (int, error) {
	if contacts <= 0 {
		return 0, nil
	}
	sl := q.ServiceLevel
	if sl.Percent <= 0 || sl.Percent >= 100 {
		sl.Percent = 80
	}
	if sl.Seconds <= 0 {
		sl.Seconds = 20
	}
	conc := 1
	switch ch {
	case starpost.ChannelChat:
		conc = s.cfg.ChatConcurrency
	case starpost.ChannelEmail:
		conc = starpost.DefaultCapacity[starpost.ChannelEmail]
	}
	r, err := wfm.Staff(wfm.Workload{Contacts: contacts, Interval: Step, HandleTime: aht},
		wfm.StaffPlan{Target: wfm.Target{ServiceLevel: float64(sl.Percent) / 100, AnswerWithin: time.Duration(sl.Seconds) * time.Second},
			Concurrency: conc, Shrinkage: s.cfg.Shrinkage})
	if err != nil {
		return 0, fmt.Errorf("plan: staff %s: %w", q.ID, err)
	}
	return r.Scheduled, nil
}

// Day returns a queue's day: the stored forecast (computed when missing),
// the actuals so far, the re-forecast, requirements and scheduled staff.
func (s *Service) Day(ctx context.Context, ws, queueID string, day time.Time) (*DayPlan, error) {
	day = DayStart(day)
	if _, err := s.findQueue(ctx, ws, queueID); err != nil {
		return nil, err
	}
	f, ok, err := s.loadForecast(ctx, ws, queueID, day)
	if err != nil {
		return nil, err
	}
	if !ok {
		if _, err := s.Forecast(ctx, ws, queueID, []time.Time{day}); err != nil {
			return nil, err
		}
		if f, _, err = s.loadForecast(ctx, ws, queueID, day); err != nil {
			return nil, err
		}
	}
	actual, _, err := s.dayActuals(ctx, ws, queueID, day)
	if err != nil {
		return nil, err
	}
	sched, open, err := s.coverage(ctx, ws, queueID, day, SlotsPerDay)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	p := &DayPlan{QueueID: queueID, Day: dayKey(day), Method: f.method, Now: now, Factor: 1}
	var fs, rs float64
	for k := 0; k < SlotsPerDay; k++ {
		st := day.Add(time.Duration(k) * Step)
		it := PlanInterval{Start: st, Forecast: f.contacts[k], Reforecast: f.reforecast[k], AHTSeconds: f.aht[k],
			Required: f.required[k], ReRequired: f.reRequired[k], Scheduled: sched[k], Open: open[k]}
		if st.Before(now) {
			it.Actual = actual[k]
		} else {
			fs += f.contacts[k]
			rs += f.reforecast[k]
		}
		p.Items = append(p.Items, it)
	}
	if fs > 0 {
		p.Factor = rs / fs
	}
	return p, nil
}
