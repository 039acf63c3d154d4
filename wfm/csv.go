package wfm

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are the timestamp layouts ReadHistory accepts, tried in order.
var timeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006/01/02 15:04",
}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}

func headerIndex(h []string, names ...string) int {
	for i, c := range h {
		c = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))
		for _, n := range names {
			if c == n {
				return i
			}
		}
	}
	return -1
}

// ReadHistory reads interval history from CSV with a header row. The
// interval column may be named interval, start, datetime, time or
// timestamp; the count column count, calls, contacts, volume or offered;
// an optional handle column (aht, handle_time, handle_seconds) gives the
// mean handle time in seconds of the interval's contacts. Other columns are
// ignored, so the public bank_calls CSV (rownames,DateTime,Calls) reads as
// is. Timestamps are RFC 3339 or "YYYY-MM-DD HH:MM[:SS]" (UTC). Counts must
// be finite and non-negative.
func ReadHistory(r io.Reader) ([]Observation, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("wfm: read history header: %w", err)
	}
	ti := headerIndex(head, "interval", "start", "datetime", "time", "timestamp")
	ci := headerIndex(head, "count", "calls", "contacts", "volume", "offered")
	hi := headerIndex(head, "aht", "handle_time", "handle_seconds")
	if ti < 0 || ci < 0 {
		return nil, fmt.Errorf("wfm: history header %q needs an interval and a count column", strings.Join(head, ","))
	}
	var out []Observation
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("wfm: read history line %d: %w", line, err)
		}
		need := max(ti, ci, hi)
		if len(rec) <= need {
			return nil, fmt.Errorf("wfm: history line %d: %d fields, want at least %d", line, len(rec), need+1)
		}
		t, err := parseTime(strings.TrimSpace(rec[ti]))
		if err != nil {
			return nil, fmt.Errorf("wfm: history line %d: %w", line, err)
		}
		n, err := parseNonNegative(rec[ci])
		if err != nil {
			return nil, fmt.Errorf("wfm: history line %d count: %w", line, err)
		}
		o := Observation{Start: t, Count: n}
		if hi >= 0 && strings.TrimSpace(rec[hi]) != "" {
			a, err := parseNonNegative(rec[hi])
			if err != nil {
				return nil, fmt.Errorf("wfm: history line %d handle time: %w", line, err)
			}
			o.HandleSeconds = a * n
		}
		out = append(out, o)
	}
}

func parseNonNegative(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e12 {
		return 0, fmt.Errorf("value %v out of range", v)
	}
	return v, nil
}

// IntervalForecast is the forecast for one interval.
type IntervalForecast struct {
	// Start is the beginning of the interval.
	Start time.Time
	// Contacts is the expected number of arriving contacts.
	Contacts float64
	// HandleTime is the expected mean handle time; zero when not forecast.
	HandleTime time.Duration
}

// Forecasts flattens a day-by-slot forecast into intervals.
func (s *Series) Forecasts(dates []time.Time, fc [][]float64, aht [][]time.Duration) []IntervalForecast {
	var out []IntervalForecast
	for d, date := range dates {
		for i, v := range fc[d] {
			f := IntervalForecast{Start: s.SlotStart(date, i), Contacts: v}
			if aht != nil {
				f.HandleTime = aht[d][i]
			}
			out = append(out, f)
		}
	}
	return out
}

// WriteForecast writes forecasts as CSV: interval,contacts,aht_seconds.
func WriteForecast(w io.Writer, fc []IntervalForecast) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"interval", "contacts", "aht_seconds"}); err != nil {
		return fmt.Errorf("wfm: write forecast header: %w", err)
	}
	for _, f := range fc {
		rec := []string{
			f.Start.Format(time.RFC3339),
			strconv.FormatFloat(f.Contacts, 'f', 2, 64),
			strconv.FormatFloat(f.HandleTime.Seconds(), 'f', 1, 64),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("wfm: write forecast: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("wfm: write forecast: %w", err)
	}
	return nil
}

// WriteRequirements writes staffing requirements as CSV:
// interval,contacts,aht_seconds,agents,scheduled,service_level,asa_seconds,abandon_rate,occupancy.
func WriteRequirements(w io.Writer, rs []Requirement) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"interval", "contacts", "aht_seconds", "agents", "scheduled", "service_level", "asa_seconds", "abandon_rate", "occupancy"}); err != nil {
		return fmt.Errorf("wfm: write requirements header: %w", err)
	}
	f := func(v float64, p int) string { return strconv.FormatFloat(v, 'f', p, 64) }
	for _, r := range rs {
		rec := []string{
			r.Start.Format(time.RFC3339), f(r.Contacts, 2), f(r.HandleTime.Seconds(), 1),
			strconv.Itoa(r.Agents), strconv.Itoa(r.Scheduled),
			f(r.Perf.ServiceLevel, 4), f(r.Perf.ASA.Seconds(), 1), f(r.Perf.Abandon, 4), f(r.Perf.Occupancy, 4),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("wfm: write requirements: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("wfm: write requirements: %w", err)
	}
	return nil
}
