package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost/wfm/schedule"
)

// BreakSpec is a break of a shift template, in wall-clock durations.
type BreakSpec struct {
	// Length is the break length.
	Length time.Duration
	// Earliest and Latest bound the break start, from the shift start.
	Earliest, Latest time.Duration
	// Paid is true when break time is paid.
	Paid bool
}

// TemplateSpec is a shift template as a planner writes it, in wall-clock
// durations; Template turns it into intervals.
type TemplateSpec struct {
	// Name identifies the template.
	Name string
	// Length is the shift length, breaks included.
	Length time.Duration
	// Breaks are the breaks in order.
	Breaks []BreakSpec
	// PaidHours, when positive, overrides the paid hours of one shift.
	PaidHours float64
	// From and Until bound the start time of day; Until zero means any
	// start that keeps the shift inside the day's open hours.
	From, Until time.Duration
	// Line is the CSV line the template came from (0 for built-ins).
	Line int
}

// DefaultTemplates are the built-in shifts: a 4-hour part-time shift, a
// 6-hour shift with a paid 15-minute break, and an 8.5-hour full-time
// shift with an unpaid 30-minute lunch 3 to 5 hours in (8 paid hours).
// Breaks that the interval cannot express (15 minutes at 30-minute
// intervals) are dropped by Template and paid time stays the same.
func DefaultTemplates() []TemplateSpec {
	return []TemplateSpec{
		{Name: "part-4h", Length: 4 * time.Hour},
		{Name: "mid-6h", Length: 6 * time.Hour, Breaks: []BreakSpec{{Length: 15 * time.Minute, Earliest: 2 * time.Hour, Latest: 4 * time.Hour, Paid: true}}},
		{Name: "full-8h", Length: 8*time.Hour + 30*time.Minute, Breaks: []BreakSpec{{Length: 30 * time.Minute, Earliest: 3 * time.Hour, Latest: 5 * time.Hour}}},
	}
}

// intervals converts d to a whole number of steps.
func intervals(d, step time.Duration) (int, bool) {
	if d%step != 0 {
		return 0, false
	}
	return int(d / step), true
}

// Template converts the spec to intervals of length step. Paid breaks
// shorter than the step are dropped (they only shorten coverage by less
// than an interval); any other misaligned duration is an error.
func (t TemplateSpec) Template(step time.Duration) (schedule.Template, error) {
	where := t.Name
	if t.Line > 0 {
		where = fmt.Sprintf("line %d (%s)", t.Line, t.Name)
	}
	n, ok := intervals(t.Length, step)
	if !ok || n < 1 {
		return schedule.Template{}, fmt.Errorf("template %s: length %v is not a positive multiple of the %v interval", where, t.Length, step)
	}
	tp := schedule.Template{Name: t.Name, Length: n, PaidHours: t.PaidHours}
	unpaid := time.Duration(0)
	for k, b := range t.Breaks {
		if b.Paid && b.Length < step {
			continue
		}
		l, ok1 := intervals(b.Length, step)
		e, ok2 := intervals(b.Earliest, step)
		la, ok3 := intervals(b.Latest, step)
		if !ok1 || !ok2 || !ok3 {
			return schedule.Template{}, fmt.Errorf("template %s: break %d (%v at %v–%v) is not aligned to the %v interval", where, k+1, b.Length, b.Earliest, b.Latest, step)
		}
		if l < 1 || e < 1 || la < e || la+l >= n {
			return schedule.Template{}, fmt.Errorf("template %s: break %d must lie strictly inside the shift", where, k+1)
		}
		tp.Breaks = append(tp.Breaks, schedule.Break{Length: l, EarliestOffset: e, LatestOffset: la, Paid: b.Paid})
		if !b.Paid {
			unpaid += b.Length
		}
	}
	if tp.PaidHours == 0 {
		tp.PaidHours = (t.Length - unpaid).Hours()
	}
	return tp, nil
}

// ReadTemplates reads shift templates from CSV with a header row:
//
//	name,length,breaks,paid_hours,start_from,start_until
//	full-8h,8h30m,30m@3h-5h,8,07:00,12:30
//	part-4h,4h,,,,
//
// length is a duration (8h30m) or hours (8.5); breaks is a ";"-separated
// list of LENGTH@EARLIEST-LATEST, offsets from the shift start, with a
// " paid" suffix for paid breaks (unpaid by default); paid_hours, when
// set, overrides the paid time; start_from and start_until (HH:MM) bound
// the start time of day. Only name and length are required.
func ReadTemplates(file string, r io.Reader) ([]TemplateSpec, error) {
	t, err := readTable(file, r)
	if err != nil {
		return nil, err
	}
	ni, err := t.need("name", "template")
	if err != nil {
		return nil, err
	}
	li, err := t.need("length", "duration")
	if err != nil {
		return nil, err
	}
	bi, pi := t.col("breaks"), t.col("paid_hours")
	fi, ui := t.col("start_from"), t.col("start_until")
	var out []TemplateSpec
	for r := range t.rows {
		name, err := t.required(r, ni)
		if err != nil {
			return nil, err
		}
		v, err := t.required(r, li)
		if err != nil {
			return nil, err
		}
		ts := TemplateSpec{Name: name, Line: t.line[r]}
		if ts.Length, err = parseLength(v); err != nil || ts.Length <= 0 || ts.Length > 24*time.Hour {
			return nil, t.errAt(r, li, fmt.Errorf("length %q: want a duration such as 8h30m, at most 24h", v))
		}
		if v, _ := t.cell(r, bi); v != "" {
			if ts.Breaks, err = parseBreaks(v); err != nil {
				return nil, t.errAt(r, bi, err)
			}
		}
		if v, _ := t.cell(r, pi); v != "" {
			if ts.PaidHours, err = t.numberAt(r, pi, 0, 24); err != nil {
				return nil, err
			}
		}
		if v, _ := t.cell(r, fi); v != "" {
			if ts.From, err = parseClock(v); err != nil {
				return nil, t.errAt(r, fi, err)
			}
		}
		if v, _ := t.cell(r, ui); v != "" {
			if ts.Until, err = parseClock(v); err != nil {
				return nil, t.errAt(r, ui, err)
			}
			if ts.Until < ts.From {
				return nil, t.errAt(r, ui, fmt.Errorf("start_until %s is before start_from", v))
			}
		}
		out = append(out, ts)
	}
	if len(out) == 0 {
		return nil, &InputError{File: file, Err: errors.New("no templates")}
	}
	return out, nil
}

// parseLength reads a duration ("8h30m") or a number of hours ("8.5").
func parseLength(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f != f || f < 0 || f > 24*7 {
			return 0, fmt.Errorf("%q hours out of range", s)
		}
		return time.Duration(f * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return d, nil
}

// parseClock reads a time of day HH:MM.
func parseClock(s string) (time.Duration, error) {
	c, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q: want a time of day HH:MM", s)
	}
	return time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute, nil
}

// parseBreaks reads "30m@3h-5h; 15m@1h-2h paid".
func parseBreaks(s string) ([]BreakSpec, error) {
	var out []BreakSpec
	for k, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var b BreakSpec
		if p, ok := strings.CutSuffix(part, " paid"); ok {
			b.Paid, part = true, strings.TrimSpace(p)
		} else if p, ok := strings.CutSuffix(part, " unpaid"); ok {
			part = strings.TrimSpace(p)
		}
		l, win, ok := strings.Cut(part, "@")
		if !ok {
			return nil, fmt.Errorf("break %d %q: want LENGTH@EARLIEST-LATEST, such as 30m@3h-5h", k+1, part)
		}
		e, la, ok := strings.Cut(win, "-")
		if !ok {
			return nil, fmt.Errorf("break %d %q: want LENGTH@EARLIEST-LATEST, such as 30m@3h-5h", k+1, part)
		}
		var err error
		if b.Length, err = parseLength(l); err != nil || b.Length <= 0 {
			return nil, fmt.Errorf("break %d length %q is not a positive duration", k+1, l)
		}
		if b.Earliest, err = parseLength(e); err != nil {
			return nil, fmt.Errorf("break %d earliest start %q is not a duration", k+1, e)
		}
		if b.Latest, err = parseLength(la); err != nil || b.Latest < b.Earliest {
			return nil, fmt.Errorf("break %d latest start %q is not a duration after the earliest", k+1, la)
		}
		out = append(out, b)
	}
	return out, nil
}
