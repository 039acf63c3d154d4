package wfm

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Observation is one interval of history: the number of contacts that
// arrived in the interval starting at Start and, optionally, their total
// handle time.
type Observation struct {
	// Start is the beginning of the interval.
	Start time.Time
	// Count is the number of contacts that arrived in the interval.
	Count float64
	// HandleSeconds is the total handle time, in seconds, of the contacts
	// counted in the interval; zero when unknown.
	HandleSeconds float64
}

// Day is one business day of a Series: the counts per slot from the
// series' day start.
type Day struct {
	// Date is midnight (in the series' location) of the day.
	Date time.Time
	// Counts holds one value per slot.
	Counts []float64
	// HandleSeconds holds total handle time per slot; nil when unknown.
	HandleSeconds []float64
}

// Series is a business-day grid of contacts: every day has the same slots,
// starting at DayStart after midnight and Step apart. Days are strictly
// increasing; days that are not in the series (weekends, holidays, outages)
// are simply absent.
type Series struct {
	// DayStart is the offset from midnight of the first slot.
	DayStart time.Duration
	// Step is the slot length (for example 15 or 30 minutes).
	Step time.Duration
	// Slots is the number of slots per day.
	Slots int
	// Days are the business days in date order.
	Days []Day
}

// Grid describes how to aggregate raw observations into a Series.
type Grid struct {
	// DayStart is the offset from midnight of the first slot (07:00 = 7h).
	DayStart time.Duration
	// DayEnd is the offset from midnight where the last slot ends; an
	// observation starting at or after DayEnd is ignored.
	DayEnd time.Duration
	// Step is the slot length; it must divide DayEnd-DayStart.
	Step time.Duration
}

// Validate reports whether the grid is usable.
func (g Grid) Validate() error {
	switch {
	case g.Step <= 0:
		return errors.New("wfm: grid step must be positive")
	case g.DayStart < 0 || g.DayEnd > 24*time.Hour || g.DayEnd <= g.DayStart:
		return fmt.Errorf("wfm: grid day window [%v, %v) is invalid", g.DayStart, g.DayEnd)
	case (g.DayEnd-g.DayStart)%g.Step != 0:
		return fmt.Errorf("wfm: grid step %v does not divide the day window %v", g.Step, g.DayEnd-g.DayStart)
	}
	return nil
}

// BuildSeries aggregates observations into a business-day Series on the
// grid. Observations are summed into the slot that contains their start
// time (in the location of their timestamps); observations outside the day
// window are dropped. Only days with at least one observation appear, so
// missing days (holidays, outages) stay gaps rather than zeros.
func BuildSeries(obs []Observation, g Grid) (*Series, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	slots := int((g.DayEnd - g.DayStart) / g.Step)
	byDay := map[time.Time]*Day{}
	hasHandle := false
	for _, o := range obs {
		y, m, d := o.Start.Date()
		date := time.Date(y, m, d, 0, 0, 0, 0, o.Start.Location())
		off := o.Start.Sub(date)
		if off < g.DayStart || off >= g.DayEnd {
			continue
		}
		day := byDay[date]
		if day == nil {
			day = &Day{Date: date, Counts: make([]float64, slots), HandleSeconds: make([]float64, slots)}
			byDay[date] = day
		}
		s := int((off - g.DayStart) / g.Step)
		day.Counts[s] += o.Count
		day.HandleSeconds[s] += o.HandleSeconds
		if o.HandleSeconds != 0 {
			hasHandle = true
		}
	}
	if len(byDay) == 0 {
		return nil, errors.New("wfm: no observations inside the day window")
	}
	s := &Series{DayStart: g.DayStart, Step: g.Step, Slots: slots}
	for _, d := range byDay {
		if !hasHandle {
			d.HandleSeconds = nil
		}
		s.Days = append(s.Days, *d)
	}
	sort.Slice(s.Days, func(i, j int) bool { return s.Days[i].Date.Before(s.Days[j].Date) })
	return s, nil
}

// Head returns a Series sharing the first n days of s.
func (s *Series) Head(n int) *Series {
	c := *s
	c.Days = s.Days[:n]
	return &c
}

// Total returns the sum of counts over all days and slots.
func (s *Series) Total() float64 {
	var t float64
	for _, d := range s.Days {
		for _, v := range d.Counts {
			t += v
		}
	}
	return t
}

// SlotStart returns the start time of slot i on the given date.
func (s *Series) SlotStart(date time.Time, i int) time.Time {
	return date.Add(s.DayStart + time.Duration(i)*s.Step)
}

// NextBusinessDays returns the n weekdays after the last day of s that are
// not listed in skip (holidays known in advance).
func (s *Series) NextBusinessDays(n int, skip map[time.Time]bool) []time.Time {
	if len(s.Days) == 0 {
		return nil
	}
	var out []time.Time
	d := s.Days[len(s.Days)-1].Date
	for len(out) < n {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday || skip[d] {
			continue
		}
		out = append(out, d)
	}
	return out
}

func sum(xs []float64) float64 {
	var t float64
	for _, x := range xs {
		t += x
	}
	return t
}
