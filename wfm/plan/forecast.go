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

// DayPlan is a queue's day, in the queue's time zone: Items has one
// interval per 15 minutes from local midnight to the next (92 or 100 on a
// daylight-saving change).
type DayPlan struct {
	QueueID string `json:"queue_id"`
	Day     string `json:"day"`
	// TimeZone is the queue's time zone (IANA name) and Start and End the
	// day's local midnights.
	TimeZone string         `json:"time_zone"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	Method   string         `json:"method"`
	Now      time.Time      `json:"now"`
	Items    []PlanInterval `json:"items"`
	// Factor is the re-forecast factor k applied to the rest of the day
	// (1 when not re-planned).
	Factor float64 `json:"factor"`
}

type storedForecast struct {
	contacts, aht, reforecast []float64
	required, reRequired      []int
	method                    string
}

// loadForecast reads a stored forecast of a local day; ok is false when
// none was computed for the day in its time zone.
func (s *Service) loadForecast(ctx context.Context, ws, queueID string, day LocalDay) (*storedForecast, bool, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT slot, contacts, aht_seconds, required, method, reforecast, re_required FROM wfm_forecasts
WHERE workspace_id = ? AND queue_id = ? AND day = ? AND time_zone = ? ORDER BY slot`), ws, queueID, day.Date, day.Location().String())
	if err != nil {
		return nil, false, fmt.Errorf("plan: read forecast: %w", err)
	}
	defer rows.Close()
	n := day.Len()
	f := &storedForecast{contacts: make([]float64, n), aht: make([]float64, n), reforecast: make([]float64, n),
		required: make([]int, n), reRequired: make([]int, n)}
	got := 0
	for rows.Next() {
		var slot, req, rereq int64
		var c, a, rf float64
		if err := rows.Scan(&slot, &c, &a, &req, &f.method, &rf, &rereq); err != nil {
			return nil, false, fmt.Errorf("plan: read forecast: %w", err)
		}
		if slot < 0 || slot >= int64(n) {
			continue
		}
		f.contacts[slot], f.aht[slot], f.required[slot] = c, a, int(req)
		f.reforecast[slot], f.reRequired[slot] = rf, int(rereq)
		if rf < 0 {
			f.reforecast[slot], f.reRequired[slot] = c, int(req)
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("plan: read forecast: %w", err)
	}
	return f, got == n, nil
}

// Forecast computes and stores the forecast of the given days (calendar
// dates in the queue's time zone, in increasing order) for a queue, from
// the queue's complete days of history before the first day (and before today): the method is chosen per lead
// by a rolling-origin backtest (wfm.Selector) when the history allows,
// else the longest week mean the history supports, else seasonal naive; a
// queue with no history gets zeros. The history and the forecast are kept
// in local wall-clock time (see wallHistory), so a day is 96 local
// quarter-hours whatever its length; each interval of a 23- or 25-hour
// day takes the forecast of its wall-clock slot. It returns the method
// used.
func (s *Service) Forecast(ctx context.Context, ws, queueID string, days []time.Time) (string, error) {
	q, err := s.findQueue(ctx, ws, queueID)
	if err != nil {
		return "", err
	}
	if len(days) == 0 {
		return "", starpost.FieldError("days", "required")
	}
	loc, err := s.queueLocation(ctx, ws, q)
	if err != nil {
		return "", err
	}
	ldays := make([]LocalDay, len(days))
	dates := make([]time.Time, len(days))
	for i := range days {
		ldays[i] = DateIn(days[i], loc)
		dates[i] = ldays[i].Date0()
	}
	origin := ldays[0]
	ivs, err := s.Intervals(ctx, ws, queueID, origin.Start.AddDate(0, 0, -HistoryDays-1), origin.Start)
	if err != nil {
		return "", err
	}
	counts := make([][]float64, len(days))
	method := "none"
	var ahts [][]time.Duration
	// The history is the complete days before the first forecast day and
	// before today: neither the days still to come nor today's first hours
	// are days with few contacts.
	histEnd := origin
	if today := DateIn(s.clock.Now(), loc); today.Start.Before(histEnd.Start) {
		histEnd = today
	}
	if hist := wallHistory(ivs, loc, histEnd); hist != nil {
		// The calendar's days key the series as its days do: UTC midnight
		// of the local date.
		cal, err := s.calendar(ctx, ws, queueID, time.UTC)
		if err != nil {
			return "", err
		}
		counts, method, err = forecastSeries(hist, dates, cal)
		if err != nil {
			return "", fmt.Errorf("plan: forecast %s: %w", queueID, err)
		}
		if a, err := wfm.ForecastHandleTime(hist, dates, 4); err == nil {
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
		for d, day := range ldays {
			// A day forecast before in another time zone may have other
			// intervals: drop those the day no longer has (the others are
			// overwritten, so concurrent forecasts of a day do not collide).
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM wfm_forecasts WHERE workspace_id = ? AND queue_id = ? AND day = ? AND (time_zone <> ? OR slot >= ?)`),
				ws, queueID, day.Date, loc.String(), day.Len()); err != nil {
				return fmt.Errorf("plan: save forecast: %w", err)
			}
			for k := 0; k < day.Len(); k++ {
				w := day.Wall(k)
				c := math.Max(0, counts[d][w])
				aht := s.cfg.DefaultAHT
				if ahts != nil && ahts[d][w] > 0 {
					aht = ahts[d][w]
				}
				req, err := s.required(q, channel, c, aht)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_forecasts (workspace_id, queue_id, day, slot, contacts, aht_seconds, required, method, reforecast, re_required, computed_at, time_zone)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, -1, -1, ?, ?)
ON CONFLICT (workspace_id, queue_id, day, slot) DO UPDATE SET contacts = excluded.contacts, aht_seconds = excluded.aht_seconds,
required = excluded.required, method = excluded.method, reforecast = -1, re_required = -1, computed_at = excluded.computed_at, time_zone = excluded.time_zone`),
					ws, queueID, day.Date, k, c, aht.Seconds(), req, method, unix(now), loc.String()); err != nil {
					return fmt.Errorf("plan: save forecast: %w", err)
				}
			}
		}
		return nil
	})
}

// wallHistory turns a queue's interval history before the local day
// origin into a series in local wall-clock time: one day per local date
// from the first date with contacts to the day before origin (days
// without contacts are zeros), 96 slots a day. On the day the clocks go
// back, the two intervals of a repeated wall-clock slot are averaged; on
// the day they go forward, the skipped slots take the next slot's value,
// so neither change distorts the same slot a week later. Handle seconds
// are per handled contact scaled to the slot's count, so
// wfm.ForecastHandleTime (sum handle / sum count) sees only ended
// contacts. It returns nil when there is no history.
func wallHistory(ivs []Interval, loc *time.Location, origin LocalDay) *wfm.Series {
	if len(ivs) == 0 {
		return nil
	}
	type agg struct{ n, hs, hn float64 }
	byWall := map[time.Time]*agg{}
	first := origin.Date0()
	for _, iv := range ivs {
		w := wallTime(iv.Start, loc)
		a := byWall[w]
		if a == nil {
			a = &agg{}
			byWall[w] = a
		}
		a.n += iv.Contacts
		a.hs += iv.HandleSeconds
		a.hn += iv.Handled
		if d := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC); d.Before(first) {
			first = d
		}
	}
	var obs []wfm.Observation
	for date := first; date.Before(origin.Date0()); date = date.AddDate(0, 0, 1) {
		ld := DateIn(date, loc)
		mult := make([]int, SlotsPerDay)
		for k := 0; k < ld.Len(); k++ {
			if w := ld.Wall(k); w < SlotsPerDay {
				mult[w]++
			}
		}
		vals := make([]wfm.Observation, SlotsPerDay)
		for w := SlotsPerDay - 1; w >= 0; w-- {
			st := date.Add(time.Duration(w) * Step)
			if mult[w] == 0 {
				vals[w] = wfm.Observation{Start: st}
				if w+1 < SlotsPerDay {
					vals[w].Count, vals[w].HandleSeconds = vals[w+1].Count, vals[w+1].HandleSeconds
				}
				continue
			}
			o := wfm.Observation{Start: st}
			if a := byWall[st]; a != nil {
				o.Count = a.n / float64(mult[w])
				if a.hn > 0 {
					o.HandleSeconds = a.hs / a.hn * o.Count
				}
			}
			vals[w] = o
		}
		obs = append(obs, vals...)
	}
	hist, err := wfm.BuildSeries(obs, wfm.Grid{DayStart: 0, DayEnd: 24 * time.Hour, Step: Step})
	if err != nil {
		return nil
	}
	return hist
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
	// Any method that cannot run on this history gives way to the next.
	// With events, so does each forecast the uplift of a past event day is
	// learned from (made with the history before that day, often too short
	// for the backtest).
	first := &firstOf{methods: methods}
	var m wfm.Method = first
	if len(cal.Events) > 0 {
		m = wfm.EventAware{Base: first, Calendar: cal}
	}
	if fc, err := m.Forecast(hist, days); err == nil {
		if len(cal.Events) > 0 {
			return fc, "events(" + first.used + ")", nil
		}
		return fc, first.used, nil
	}
	// Too little history for any method on every day (a new queue): per
	// day, the mean of the same weekday when the history has one, else
	// the mean day profile.
	prof := make([]float64, hist.Slots)
	for _, d := range hist.Days {
		for k, v := range d.Counts {
			prof[k] += v / float64(n)
		}
	}
	out := make([][]float64, len(days))
	name := "mean-profile"
	for i, day := range days {
		out[i] = prof
		if fc, err := (wfm.WeekMean{Weeks: 4}).Forecast(hist, []time.Time{day}); err == nil {
			out[i], name = fc[0], "weekday-mean/mean-profile"
		}
	}
	return out, name, nil
}

// firstOf is a wfm.Method that forecasts with the first of methods that
// can run on the history it is given; used names the one that answered
// last.
type firstOf struct {
	methods []wfm.Method
	used    string
}

func (f *firstOf) Name() string { return "first-of" }

func (f *firstOf) Forecast(hist *wfm.Series, targets []time.Time) ([][]float64, error) {
	err := wfm.ErrShortHistory
	for _, m := range f.methods {
		var fc [][]float64
		if fc, err = m.Forecast(hist, targets); err == nil {
			f.used = m.Name()
			return fc, nil
		}
	}
	return nil, err
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

// Day returns a queue's local day (date is a calendar date in the
// queue's time zone): the stored forecast (computed when missing), the
// actuals so far, the re-forecast, requirements and scheduled staff.
func (s *Service) Day(ctx context.Context, ws, queueID string, date time.Time) (*DayPlan, error) {
	q, err := s.findQueue(ctx, ws, queueID)
	if err != nil {
		return nil, err
	}
	loc, err := s.queueLocation(ctx, ws, q)
	if err != nil {
		return nil, err
	}
	day := DateIn(date, loc)
	f, err := s.dayForecast(ctx, ws, queueID, day)
	if err != nil {
		return nil, err
	}
	actual, _, err := s.dayActuals(ctx, ws, queueID, day)
	if err != nil {
		return nil, err
	}
	n := day.Len()
	sched, open, err := s.coverage(ctx, ws, queueID, day.Start, n)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	p := &DayPlan{QueueID: queueID, Day: day.Date, TimeZone: loc.String(), Start: day.Start, End: day.End, Method: f.method, Now: now, Factor: 1}
	var fs, rs float64
	for k := 0; k < n; k++ {
		st := day.At(k)
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

// dayForecast returns the stored forecast of a local day, computing it
// first when missing.
func (s *Service) dayForecast(ctx context.Context, ws, queueID string, day LocalDay) (*storedForecast, error) {
	f, ok, err := s.loadForecast(ctx, ws, queueID, day)
	if err != nil || ok {
		return f, err
	}
	if _, err := s.Forecast(ctx, ws, queueID, []time.Time{day.Date0()}); err != nil {
		return nil, err
	}
	f, _, err = s.loadForecast(ctx, ws, queueID, day)
	return f, err
}
