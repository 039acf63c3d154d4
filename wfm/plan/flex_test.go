package plan_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/wfm/plan"
)

// TestFlexibleClaims on SQLite and PostgreSQL: only flexible or opted-in
// agents see and claim open slots; an agent's weekly limit holds across
// claims; a slot past its claim window (ClaimLead before the start by
// default, or an explicit expiry) is shown expired and refused.
func TestFlexibleClaims(t *testing.T) {
	for _, d := range dialects() {
		t.Run(d.Name, func(t *testing.T) {
			f := newFixture(t, d.DSN(t), 3)
			ctx := f.ctx
			svc, err := plan.Open(ctx, plan.Options{SQL: f.db.SQL(), Driver: f.db.Driver(), Directory: f.db, Clock: f.clock,
				Config: plan.Config{ClaimLead: 30 * time.Minute}})
			must(t, err)
			no, yes := false, true
			a, b := f.agents[0], f.agents[1]
			_, err = svc.UpdateAgentProfile(ctx, f.ws, a.ID, plan.AgentProfileUpdate{Flexible: &no})
			must(t, err)
			day := plan.DayIn(today, time.UTC).Next() // tomorrow, a Thursday
			sl, err := svc.OpenSlot(ctx, f.ws, f.queue.ID, day.Start.Add(9*time.Hour), day.Start.Add(11*time.Hour), time.Time{})
			must(t, err)
			if !sl.ExpiresAt.Equal(sl.Start.Add(-30 * time.Minute)) {
				t.Fatalf("default expiry %v for a slot at %v", sl.ExpiresAt, sl.Start)
			}

			// Not flexible: nothing to see, nothing to claim.
			mine, err := svc.OpenSlots(ctx, f.ws, a.ID)
			must(t, err)
			if len(mine) != 0 {
				t.Fatalf("a non-flexible agent sees %d slots", len(mine))
			}
			if _, err := svc.Claim(ctx, f.ws, a.ID, sl.ID); starpost.ErrorCode(err) != starpost.EFORBIDDEN {
				t.Fatalf("claim by a non-flexible agent: %v", err)
			}
			p, err := svc.UpdateAgentProfile(ctx, f.ws, a.ID, plan.AgentProfileUpdate{OptedIn: &yes})
			must(t, err)
			if !p.MayClaim() || p.Flexible || p.WeekLimit != 40 {
				t.Fatalf("opted in: %+v", p)
			}
			if mine, err = svc.OpenSlots(ctx, f.ws, a.ID); err != nil || len(mine) != 1 {
				t.Fatalf("opted in, sees %d slots (%v)", len(mine), err)
			}
			if _, err := svc.Claim(ctx, f.ws, a.ID, sl.ID); err != nil {
				t.Fatalf("claim after opting in: %v", err)
			}

			// A weekly limit of 5 hours: 4 fit in the week, a fifth and
			// sixth do not; the next week is a new week.
			h5 := 5.0
			_, err = svc.UpdateAgentProfile(ctx, f.ws, b.ID, plan.AgentProfileUpdate{MaxWeekHours: &h5})
			must(t, err)
			bad := -1.0
			if _, err := svc.UpdateAgentProfile(ctx, f.ws, b.ID, plan.AgentProfileUpdate{MaxWeekHours: &bad}); starpost.ErrorCode(err) != starpost.EINVALID {
				t.Fatalf("negative weekly hours: %v", err)
			}
			if _, err := svc.UpdateAgentProfile(ctx, f.ws, "us_nope", plan.AgentProfileUpdate{Flexible: &yes}); starpost.ErrorCode(err) != starpost.ENOTFOUND {
				t.Fatalf("unknown agent: %v", err)
			}
			open := func(dayOff, hour, hours int) *plan.Slot {
				t.Helper()
				st := day.Start.AddDate(0, 0, dayOff).Add(time.Duration(hour) * time.Hour)
				sl, err := svc.OpenSlot(ctx, f.ws, f.queue.ID, st, st.Add(time.Duration(hours)*time.Hour), time.Time{})
				must(t, err)
				return sl
			}
			if _, err := svc.Claim(ctx, f.ws, b.ID, open(0, 9, 4).ID); err != nil {
				t.Fatalf("4 hours of 5: %v", err)
			}
			_, err = svc.Claim(ctx, f.ws, b.ID, open(1, 9, 2).ID) // Friday, same week
			if starpost.ErrorCode(err) != starpost.ECONFLICT || !strings.Contains(err.Error(), "week") {
				t.Fatalf("6 hours of 5: %v", err)
			}
			if _, err := svc.Claim(ctx, f.ws, b.ID, open(5, 9, 4).ID); err != nil { // the Tuesday after
				t.Fatalf("next week: %v", err)
			}

			// Expiry: 20 minutes before a slot's start its window (30
			// minutes) has closed.
			late := open(2, 9, 2)
			f.clock.set(late.Start.Add(-20 * time.Minute))
			shown, err := svc.FindSlot(ctx, f.ws, late.ID)
			must(t, err)
			if shown.Status != plan.SlotExpired {
				t.Fatalf("slot shown as %s", shown.Status)
			}
			_, err = svc.Claim(ctx, f.ws, f.agents[2].ID, late.ID)
			if starpost.ErrorCode(err) != starpost.ECONFLICT || !strings.Contains(err.Error(), "expired") {
				t.Fatalf("claim of an expired slot: %v", err)
			}
			f.clock.set(today)
			// An explicit expiry: in the future and not after the start.
			st := day.Start.AddDate(0, 0, 2).Add(14 * time.Hour)
			for _, tc := range []struct {
				name    string
				expires time.Time
				ok      bool
			}{
				{"an hour before", st.Add(-time.Hour), true},
				{"at the start", st, true},
				{"after the start", st.Add(time.Minute), false},
				{"in the past", today.Add(-time.Minute), false},
			} {
				sl, err := svc.OpenSlot(ctx, f.ws, f.queue.ID, st, st.Add(time.Hour), tc.expires)
				if tc.ok != (err == nil) {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if err == nil && !sl.ExpiresAt.Equal(tc.expires) {
					t.Fatalf("%s: expires %v", tc.name, sl.ExpiresAt)
				}
				if err != nil && starpost.ErrorCode(err) != starpost.EINVALID {
					t.Fatalf("%s: %v", tc.name, err)
				}
			}
		})
	}
}

// TestOpenAddsColumns: a database made before slots and offers expired
// and forecasts had a time zone gets the columns when the service opens,
// on SQLite and PostgreSQL, and opening again changes nothing; an old
// slot is claimable until it starts.
func TestOpenAddsColumns(t *testing.T) {
	old := map[string][]string{
		"wfm_forecasts": {"workspace_id TEXT NOT NULL", "queue_id TEXT NOT NULL", "day TEXT NOT NULL", "slot BIGINT NOT NULL", "contacts REAL NOT NULL",
			"aht_seconds REAL NOT NULL", "required BIGINT NOT NULL", "method TEXT NOT NULL", "reforecast REAL NOT NULL DEFAULT -1",
			"re_required BIGINT NOT NULL DEFAULT -1", "computed_at BIGINT NOT NULL", "PRIMARY KEY (workspace_id, queue_id, day, slot)"},
		"wfm_slots": {"workspace_id TEXT NOT NULL", "id TEXT NOT NULL", "queue_id TEXT NOT NULL", "start_at BIGINT NOT NULL", "end_at BIGINT NOT NULL",
			"break_start BIGINT NOT NULL DEFAULT 0", "break_end BIGINT NOT NULL DEFAULT 0", "status TEXT NOT NULL", "agent_id TEXT NOT NULL DEFAULT ''",
			"reason TEXT NOT NULL", "created_at BIGINT NOT NULL", "claimed_at BIGINT NOT NULL DEFAULT 0", "PRIMARY KEY (workspace_id, id)"},
		"wfm_offers": {"workspace_id TEXT NOT NULL", "id TEXT NOT NULL", "queue_id TEXT NOT NULL", "agent_id TEXT NOT NULL", "shift_id TEXT NOT NULL",
			"kind TEXT NOT NULL", "start_at BIGINT NOT NULL", "end_at BIGINT NOT NULL", "status TEXT NOT NULL", "created_at BIGINT NOT NULL",
			"answered_at BIGINT NOT NULL DEFAULT 0", "PRIMARY KEY (workspace_id, id)"},
	}
	for _, d := range dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			c := &clock{now: today}
			db, err := store.Open(ctx, d.DSN(t), c, nil)
			must(t, err)
			defer db.Close()
			for table, cols := range old {
				_, err := db.SQL().ExecContext(ctx, "CREATE TABLE "+table+" ("+strings.Join(cols, ", ")+")")
				must(t, err)
			}
			start := today.Add(2 * time.Hour)
			_, err = db.SQL().ExecContext(ctx, store.Rebind(db.Driver(), `INSERT INTO wfm_slots (workspace_id, id, queue_id, start_at, end_at, status, reason, created_at)
VALUES ('ws', 'slot_old', 'qu', ?, ?, 'open', 'planner', ?)`), start.Unix(), start.Add(time.Hour).Unix(), today.Unix())
			must(t, err)
			for range 2 {
				svc, err := plan.Open(ctx, plan.Options{SQL: db.SQL(), Driver: db.Driver(), Directory: db, Clock: c})
				must(t, err)
				sl, err := svc.FindSlot(ctx, "ws", "slot_old")
				must(t, err)
				if !sl.ExpiresAt.Equal(start) || sl.Status != plan.SlotOpen {
					t.Fatalf("old slot %+v", sl)
				}
			}
			for table, col := range map[string]string{"wfm_forecasts": "time_zone", "wfm_slots": "expires_at", "wfm_offers": "expires_at"} {
				var n sql.NullInt64
				if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT("+col+") FROM "+table).Scan(&n); err != nil {
					t.Fatalf("%s.%s: %v", table, col, err)
				}
			}
		})
	}
}

// TestDaysInARowAcrossQueues: an agent's claimed slots in one queue and
// a generated schedule of another keep at most six working days in a row
// together, and a claim that would make a seventh is refused.
func TestDaysInARowAcrossQueues(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 1)
	ctx := f.ctx
	a := f.agents[0]
	second := &starpost.Queue{WorkspaceID: f.ws, Name: "Refunds", Skills: f.queue.Skills}
	must(t, f.db.CreateQueue(ctx, second))
	monday := date(t, "2026-11-16")
	claim := func(q string, day, hour int) error {
		st := monday.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
		sl, err := f.svc.OpenSlot(ctx, f.ws, q, st, st.Add(2*time.Hour), time.Time{})
		must(t, err)
		_, err = f.svc.Claim(ctx, f.ws, a.ID, sl.ID)
		return err
	}
	for d := range 3 { // Monday to Wednesday in Refunds
		must(t, claim(second.ID, d, 10))
	}
	// Chat has contacts around the clock from Thursday to Sunday (two
	// weeks of history from a Monday: the other days are quiet).
	cs := []plan.Contact{{ID: "first", QueueID: f.queue.ID, Channel: starpost.ChannelChat, Arrived: monday.AddDate(0, 0, -14)}}
	for d := monday.AddDate(0, 0, -14); d.Before(monday); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd > time.Sunday && wd < time.Thursday {
			continue
		}
		for k := range plan.SlotsPerDay {
			at := d.Add(time.Duration(k) * plan.Step)
			cs = append(cs, plan.Contact{ID: at.Format(time.RFC3339), QueueID: f.queue.ID, Channel: starpost.ChannelChat, Arrived: at})
		}
	}
	must(t, f.svc.ImportContacts(ctx, f.ws, cs))
	sc, err := f.svc.Generate(ctx, f.ws, f.queue.ID, monday)
	must(t, err)
	days := map[string]bool{}
	for d := range 3 {
		days[monday.AddDate(0, 0, d).Format(time.DateOnly)] = true
	}
	n := 0
	for _, sh := range sc.Shifts {
		if sh.AgentID == a.ID {
			days[sh.Start.Format(time.DateOnly)] = true
			n++
		}
	}
	if n == 0 {
		t.Fatal("the agent got no Chat shift")
	}
	if len(days) > 6 {
		t.Fatalf("the agent works %d days in a row over two queues: %v", len(days), days)
	}
	// Claims: Thursday to Saturday make six days in a row; Sunday would
	// make seven.
	for d := 3; d < 6; d++ {
		must(t, claim(second.ID, d, 10))
	}
	if err := claim(f.queue.ID, 6, 10); starpost.ErrorCode(err) != starpost.ECONFLICT || !strings.Contains(err.Error(), "in a row") {
		t.Fatalf("a seventh day in a row: %v", err)
	}
}
