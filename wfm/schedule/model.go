// Package schedule builds weekly shift schedules from a staffing
// requirement curve: shift templates (lengths, start windows, paid and
// unpaid breaks, lunch windows) expand into shift columns, a dual simplex
// LP relaxation (package lp) gives a proven lower bound on paid hours, and
// LP diving with repair and local improvement turns it into an integer
// schedule whose gap to that bound is reported.
package schedule

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Break is a break inside a shift template. Agents on a break do not count
// towards coverage; Paid says whether its time is paid.
type Break struct {
	// Length is the break length in intervals.
	Length int
	// EarliestOffset and LatestOffset bound the break start, in intervals
	// from the shift start (inclusive).
	EarliestOffset, LatestOffset int
	// Paid is true when break time is paid.
	Paid bool
}

// Template describes one kind of shift.
type Template struct {
	// Name identifies the template in reports.
	Name string
	// Length is the shift length in intervals, breaks included.
	Length int
	// Starts lists the allowed start intervals; nil means every interval
	// of the horizon.
	Starts []int
	// Breaks lists the breaks (a short break, a lunch, ...) in order; every
	// combination of non-overlapping, ordered break positions is a column.
	Breaks []Break
	// PaidHours, when positive, overrides the cost of one shift. Otherwise
	// the cost is the shift length minus unpaid breaks, in hours.
	PaidHours float64
}

// Problem is a shift-covering instance.
type Problem struct {
	// Required is the number of agents needed in each interval.
	Required []int
	// IntervalMinutes is the interval length (15 by default when zero).
	IntervalMinutes int
	// Cyclic lets shifts wrap from the last interval to the first (a
	// repeating week).
	Cyclic bool
	// Templates are the shift kinds that may be used.
	Templates []Template
}

// Segment is a run of covered intervals [Start, Start+Len) in a horizon of
// n intervals; in a cyclic horizon it may wrap past the end.
type Segment struct {
	// Start is the first covered interval.
	Start int
	// Len is the number of covered intervals.
	Len int
}

// Column is one concrete shift: a template placed at a start with fixed
// break positions.
type Column struct {
	// Template indexes Problem.Templates.
	Template int
	// Start is the start interval.
	Start int
	// BreakStarts are the break start offsets from Start, one per template break.
	BreakStarts []int
	// Cost is the paid hours of one agent working this shift.
	Cost float64
	// Segments are the covered runs of intervals (breaks excluded).
	Segments []Segment
}

// Covers calls f for every interval the column covers.
func (c *Column) Covers(n int, f func(i int)) {
	for _, s := range c.Segments {
		for k := 0; k < s.Len; k++ {
			i := s.Start + k
			if i >= n {
				i -= n
			}
			f(i)
		}
	}
}

func (p *Problem) minutes() int {
	if p.IntervalMinutes <= 0 {
		return 15
	}
	return p.IntervalMinutes
}

// Validate checks the problem for consistency.
func (p *Problem) Validate() error {
	n := len(p.Required)
	if n == 0 {
		return errors.New("schedule: problem has no intervals")
	}
	for i, r := range p.Required {
		if r < 0 {
			return fmt.Errorf("schedule: interval %d: negative requirement %d", i, r)
		}
	}
	if len(p.Templates) == 0 {
		return errors.New("schedule: problem has no shift templates")
	}
	for t, tp := range p.Templates {
		if tp.Length <= 0 || tp.Length > n {
			return fmt.Errorf("schedule: template %d (%s): length %d outside [1,%d]", t, tp.Name, tp.Length, n)
		}
		for _, s := range tp.Starts {
			if s < 0 || s >= n {
				return fmt.Errorf("schedule: template %d (%s): start %d outside [0,%d)", t, tp.Name, s, n)
			}
		}
		for k, b := range tp.Breaks {
			if b.Length <= 0 || b.EarliestOffset < 1 || b.LatestOffset < b.EarliestOffset || b.LatestOffset+b.Length >= tp.Length {
				return fmt.Errorf("schedule: template %d (%s): break %d must lie strictly inside the shift", t, tp.Name, k)
			}
		}
		if tp.PaidHours < 0 {
			return fmt.Errorf("schedule: template %d (%s): negative paid hours", t, tp.Name)
		}
	}
	return nil
}

// Columns expands the templates into every concrete shift column. Shifts
// that would run past the horizon are dropped unless the problem is cyclic.
func (p *Problem) Columns() ([]Column, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	n := len(p.Required)
	hours := float64(p.minutes()) / 60
	var cols []Column
	for t, tp := range p.Templates {
		starts := tp.Starts
		if starts == nil {
			starts = make([]int, n)
			for i := range starts {
				starts[i] = i
			}
		}
		var placements [][]int
		var rec func(k, from int, cur []int)
		rec = func(k, from int, cur []int) {
			if k == len(tp.Breaks) {
				placements = append(placements, append([]int(nil), cur...))
				return
			}
			b := tp.Breaks[k]
			for o := max(b.EarliestOffset, from); o <= b.LatestOffset; o++ {
				rec(k+1, o+b.Length, append(cur, o))
			}
		}
		rec(0, 0, nil)
		for _, s := range starts {
			if !p.Cyclic && s+tp.Length > n {
				continue
			}
			for _, pl := range placements {
				c := Column{Template: t, Start: s, BreakStarts: pl}
				unpaid := 0
				at := 0
				for k, o := range pl {
					if o > at {
						c.Segments = append(c.Segments, Segment{Start: (s + at) % n, Len: o - at})
					}
					at = o + tp.Breaks[k].Length
					if !tp.Breaks[k].Paid {
						unpaid += tp.Breaks[k].Length
					}
				}
				c.Segments = append(c.Segments, Segment{Start: (s + at) % n, Len: tp.Length - at})
				c.Cost = tp.PaidHours
				if c.Cost <= 0 {
					c.Cost = float64(tp.Length-unpaid) * hours
				}
				cols = append(cols, c)
			}
		}
	}
	return cols, nil
}

// ReadRequirements reads a requirements CSV with a header row containing
// an "interval" and a "required_agents" column (other columns are
// ignored). Intervals must be 0..n-1 in order.
func ReadRequirements(r io.Reader) ([]int, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("schedule: read requirements header: %w", err)
	}
	ic, rc := -1, -1
	for k, h := range head {
		switch strings.TrimSpace(strings.ToLower(h)) {
		case "interval":
			ic = k
		case "required_agents", "required":
			rc = k
		}
	}
	if rc < 0 {
		return nil, errors.New("schedule: read requirements: no required_agents column")
	}
	var req []int
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("schedule: read requirements line %d: %w", line, err)
		}
		if ic >= 0 {
			i, err := strconv.Atoi(strings.TrimSpace(rec[ic]))
			if err != nil || i != len(req) {
				return nil, fmt.Errorf("schedule: read requirements line %d: interval %q, want %d", line, rec[ic], len(req))
			}
		}
		v, err := strconv.Atoi(strings.TrimSpace(rec[rc]))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("schedule: read requirements line %d: bad required_agents %q", line, rec[rc])
		}
		req = append(req, v)
	}
	if len(req) == 0 {
		return nil, errors.New("schedule: read requirements: no rows")
	}
	return req, nil
}
