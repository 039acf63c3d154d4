package plan

import (
	"context"
	"fmt"
	"time"

	"github.com/starpost/starpost"
)

// LocalDay is one calendar day of a queue in the queue's time zone: from
// local midnight to the next local midnight, so 23, 24 or 25 hours long
// on the days daylight saving time starts or ends. Its intervals are the
// Step-long intervals from Start; with every real time zone's offset a
// multiple of 15 minutes they sit on the same absolute 15-minute grid as
// the history.
type LocalDay struct {
	// Date is the local date, YYYY-MM-DD.
	Date string
	// Start and End are local midnights as UTC instants.
	Start, End time.Time
	loc        *time.Location
}

// DayIn returns the local day of loc that contains t.
func DayIn(t time.Time, loc *time.Location) LocalDay {
	y, m, d := t.In(loc).Date()
	return DayOf(y, m, d, loc)
}

// DayOf returns the local day y-m-d of loc.
func DayOf(y int, m time.Month, d int, loc *time.Location) LocalDay {
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	end := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	return LocalDay{Date: start.Format(time.DateOnly), Start: start.UTC(), End: end.UTC(), loc: loc}
}

// DateIn returns the local day of loc with the calendar date of date
// (whatever date's own location).
func DateIn(date time.Time, loc *time.Location) LocalDay {
	y, m, d := date.Date()
	return DayOf(y, m, d, loc)
}

// Len is the number of intervals of the day: 96 on an ordinary day, 92 or
// 100 on a daylight-saving change.
func (d LocalDay) Len() int { return int(d.End.Sub(d.Start) / Step) }

// At returns the start of interval k.
func (d LocalDay) At(k int) time.Time { return d.Start.Add(time.Duration(k) * Step) }

// Index returns the interval of t (negative before the day, Len or more
// after it).
func (d LocalDay) Index(t time.Time) int {
	off := t.Sub(d.Start)
	if off < 0 {
		return -int((-off + Step - 1) / Step)
	}
	return int(off / Step)
}

// Wall returns interval k's local wall-clock slot (0–95): on the day the
// clocks go back two intervals share a slot, on the day they go forward
// some slots have no interval.
func (d LocalDay) Wall(k int) int {
	t := d.At(k).In(d.location())
	return (t.Hour()*60 + t.Minute()) / int(Step/time.Minute)
}

// Date0 is the day's date as UTC midnight (the key of the wall-clock
// history series).
func (d LocalDay) Date0() time.Time {
	t, _ := time.Parse(time.DateOnly, d.Date)
	return t
}

// Next returns the following local day.
func (d LocalDay) Next() LocalDay {
	y, m, dd := d.Date0().Date()
	return DayOf(y, m, dd+1, d.location())
}

// Location is the day's time zone.
func (d LocalDay) Location() *time.Location { return d.location() }

func (d LocalDay) location() *time.Location {
	if d.loc == nil {
		return time.UTC
	}
	return d.loc
}

// wallTime returns t's local wall clock in loc as a UTC time with the same
// fields: the history series is kept in wall-clock time, 96 slots a day.
func wallTime(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// queueLocation is the time zone a queue plans in: its business hours'
// time zone; else the one time zone every site of the workspace shares;
// else UTC.
func (s *Service) queueLocation(ctx context.Context, ws string, q *starpost.Queue) (*time.Location, error) {
	if q.BusinessHours != nil && q.BusinessHours.TimeZone != "" {
		loc, err := time.LoadLocation(q.BusinessHours.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("plan: time zone of queue %s: %w", q.ID, err)
		}
		return loc, nil
	}
	sites, err := s.dir.ListSites(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("plan: list sites: %w", err)
	}
	return sharedZone(sites, nil), nil
}

// sharedZone returns the time zone of the sites (all of them, or those in
// ids when ids is not nil) when they share one, else UTC.
func sharedZone(sites []*starpost.Site, ids map[string]bool) *time.Location {
	zone := ""
	for _, si := range sites {
		if ids != nil && !ids[si.ID] {
			continue
		}
		if zone != "" && si.TimeZone != zone {
			return time.UTC
		}
		zone = si.TimeZone
	}
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" {
		return loc
	}
	return time.UTC
}

// QueueZone returns the time zone a queue plans in (see LocalDay): its
// business hours' time zone, else the time zone all the workspace's sites
// share, else UTC.
func (s *Service) QueueZone(ctx context.Context, ws, queueID string) (*time.Location, error) {
	q, err := s.findQueue(ctx, ws, queueID)
	if err != nil {
		return nil, err
	}
	return s.queueLocation(ctx, ws, q)
}

// AgentZone returns the time zone of an agent's own schedule: the agent's
// site's time zone, else the one all the workspace's sites share, else
// UTC.
func (s *Service) AgentZone(ctx context.Context, ws, agentID string) (*time.Location, error) {
	u, err := s.dir.FindUser(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	return s.userZone(ctx, ws, u)
}

// userZone is AgentZone for a user already read.
func (s *Service) userZone(ctx context.Context, ws string, u *starpost.User) (*time.Location, error) {
	sites, err := s.dir.ListSites(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("plan: list sites: %w", err)
	}
	if u.SiteID != "" {
		return sharedZone(sites, map[string]bool{u.SiteID: true}), nil
	}
	return sharedZone(sites, nil), nil
}
