package plan

import (
	"slices"
	"time"

	"github.com/starpost/starpost"
)

// Work is a piece of an agent's working time: a shift, a claimed slot or
// an overtime extension.
type Work struct {
	Start, End time.Time
	// PaidHours is the paid time (the span minus unpaid breaks).
	PaidHours float64
}

// Check reports whether adding add to an agent's existing work keeps the
// rules: no overlap; work separated by less than MinRest belongs to one
// working day, whose span (first start to last end) must leave MinRest in
// 24 hours and whose paid hours must not exceed MaxDayHours. The error is
// an ECONFLICT whose message says which rule failed.
func (r Rules) Check(existing []Work, add Work) error {
	if !add.End.After(add.Start) {
		return starpost.Errorf(starpost.EINVALID, "empty work period")
	}
	all := []Work{add}
	for _, w := range existing {
		if w.Start.Before(add.End) && add.Start.Before(w.End) {
			return starpost.Errorf(starpost.ECONFLICT, "overlaps your shift %s–%s", w.Start.Format("Mon 15:04"), w.End.Format("15:04"))
		}
		all = append(all, w)
	}
	slices.SortFunc(all, func(a, b Work) int { return a.Start.Compare(b.Start) })
	// Find the working day (block) that contains add.
	var bs, be time.Time
	var hours float64
	in := false
	flush := func() error {
		if !in {
			return nil
		}
		if span := be.Sub(bs); r.MinRest > 0 && span > 24*time.Hour-r.MinRest {
			return starpost.Errorf(starpost.ECONFLICT, "leaves less than %v rest in 24 hours (working day %s–%s)",
				r.MinRest, bs.Format("Mon 15:04"), be.Format("Mon 15:04"))
		}
		if r.MaxDayHours > 0 && hours > r.MaxDayHours+1e-9 {
			return starpost.Errorf(starpost.ECONFLICT, "makes a %.1f-hour working day (at most %.1f)", hours, r.MaxDayHours)
		}
		return nil
	}
	blockHasAdd := false
	for i, w := range all {
		if i == 0 || w.Start.Sub(be) >= r.MinRest {
			if blockHasAdd {
				if err := flush(); err != nil {
					return err
				}
			}
			bs, be, hours, in, blockHasAdd = w.Start, w.End, 0, true, false
		}
		if w.End.After(be) {
			be = w.End
		}
		hours += w.PaidHours
		if w == add {
			blockHasAdd = true
		}
	}
	if blockHasAdd {
		return flush()
	}
	return nil
}

// CheckWeek reports whether adding add to an agent's existing work keeps
// the paid hours of the week [weekStart, weekEnd) at most maxHours (no
// limit when maxHours ≤ 0). Work counts in the week its start falls in.
// The error is an ECONFLICT saying how many hours the week would have.
func CheckWeek(existing []Work, add Work, weekStart, weekEnd time.Time, maxHours float64) error {
	if maxHours <= 0 {
		return nil
	}
	in := func(w Work) bool { return !w.Start.Before(weekStart) && w.Start.Before(weekEnd) }
	if !in(add) {
		return nil
	}
	h := add.PaidHours
	for _, w := range existing {
		if in(w) {
			h += w.PaidHours
		}
	}
	if h > maxHours+1e-9 {
		return starpost.Errorf(starpost.ECONFLICT, "makes %.1f paid hours in the week from %s (at most %.1f)", h, weekStart.Format(time.DateOnly), maxHours)
	}
	return nil
}

// WeekOf returns the local calendar week (Monday to Monday, in loc) that
// contains t, as times in loc.
func WeekOf(t time.Time, loc *time.Location) (time.Time, time.Time) {
	l := t.In(loc)
	back := (int(l.Weekday()) + 6) % 7
	y, m, d := l.Date()
	return DayOf(y, m, d-back, loc).Start.In(loc), DayOf(y, m, d-back+7, loc).Start.In(loc)
}

// CheckRun reports whether adding add to an agent's existing work keeps
// runs of consecutive working days (local dates in loc on which some work
// starts) at most MaxConsecutiveDays (no limit when it is 0). The error is
// an ECONFLICT naming the run.
func (r Rules) CheckRun(existing []Work, add Work, loc *time.Location) error {
	if r.MaxConsecutiveDays <= 0 {
		return nil
	}
	worked := map[string]bool{}
	for _, w := range existing {
		worked[w.Start.In(loc).Format(time.DateOnly)] = true
	}
	y, m, d := add.Start.In(loc).Date()
	day := func(k int) string { return time.Date(y, m, d+k, 12, 0, 0, 0, time.UTC).Format(time.DateOnly) }
	lo, hi := 0, 0
	for worked[day(lo-1)] {
		lo--
	}
	for worked[day(hi+1)] {
		hi++
	}
	if n := hi - lo + 1; n > r.MaxConsecutiveDays {
		return starpost.Errorf(starpost.ECONFLICT, "makes %d working days in a row, %s to %s (at most %d)", n, day(lo), day(hi), r.MaxConsecutiveDays)
	}
	return nil
}
