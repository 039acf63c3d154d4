package http_test

import (
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/wfm/plan"
)

// TestWFM drives the workforce-management API: a planner's day, schedule
// generation and publishing, a hand-made open slot claimed first come
// first served by an agent, validation, access levels and tenant
// isolation.
func TestWFM(t *testing.T) {
	e := newEnv(t)
	a, b := e.newTenant("alpha"), e.newTenant("beta")
	sup, agent, agent2 := e.login(a.supervisor), e.login(a.agent), e.login(a.agent2)
	bSup, bAgent := e.login(b.supervisor), e.login(b.agent)

	// The planner's day.
	var day plan.DayPlan
	sup.mustJSON("GET", "/api/v1/wfm/queues/"+a.queue.ID+"/day?date=2025-11-11", nil, 200, &day)
	if len(day.Items) != plan.SlotsPerDay || day.Day != "2025-11-11" {
		t.Fatalf("day %s with %d intervals", day.Day, len(day.Items))
	}
	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"bad date", sup, "GET", "/api/v1/wfm/queues/" + a.queue.ID + "/day?date=11/11", nil, 400, "date"},
		{"agent cannot plan", agent, "GET", "/api/v1/wfm/queues/" + a.queue.ID + "/day", nil, 403, ""},
		{"B's queue", bSup, "GET", "/api/v1/wfm/queues/" + a.queue.ID + "/day", nil, 404, ""},
		{"bad week", sup, "POST", "/api/v1/wfm/queues/" + a.queue.ID + "/schedules", map[string]any{"week_start": "next week"}, 400, "week_start"},
		{"generate in B's queue", bSup, "POST", "/api/v1/wfm/queues/" + a.queue.ID + "/schedules", map[string]any{"week_start": "2025-11-17"}, 404, ""},
		{"slot in the past", sup, "POST", "/api/v1/wfm/slots", map[string]any{"queue_id": a.queue.ID, "start": "2025-11-11T08:00:00Z", "end": "2025-11-11T10:00:00Z"}, 400, "start"},
		{"slot off the grid", sup, "POST", "/api/v1/wfm/slots", map[string]any{"queue_id": a.queue.ID, "start": "2025-11-11T12:05:00Z", "end": "2025-11-11T14:00:00Z"}, 400, "start"},
		{"slot without a queue", sup, "POST", "/api/v1/wfm/slots", map[string]any{"start": "2025-11-11T12:00:00Z", "end": "2025-11-11T14:00:00Z"}, 400, "queue_id"},
		{"slot in B's queue", bSup, "POST", "/api/v1/wfm/slots", map[string]any{"queue_id": a.queue.ID, "start": "2025-11-11T12:00:00Z", "end": "2025-11-11T14:00:00Z"}, 404, ""},
		{"bad range", agent, "GET", "/api/v1/wfm/me?from=2025-11-11T00:00:00Z&to=2025-11-01T00:00:00Z", nil, 400, "to"},
		{"token has no schedule", e.withToken(a.token), "GET", "/api/v1/wfm/me", nil, 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.field != "" && r.errorBody(t).Field != tc.field {
				t.Fatalf("field %q, want %q", r.errorBody(t).Field, tc.field)
			}
		})
	}

	// Generate and publish a week (no history: an empty schedule).
	var sc plan.Schedule
	sup.mustJSON("POST", "/api/v1/wfm/queues/"+a.queue.ID+"/schedules", map[string]any{"week_start": "2025-11-17"}, 201, &sc)
	if sc.Status != plan.StatusDraft || sc.WeekStart != "2025-11-17" {
		t.Fatalf("schedule %+v", sc)
	}
	if r := bSup.do("POST", "/api/v1/wfm/schedules/"+sc.ID+"/publish", nil); r.status != 404 {
		t.Fatalf("B publishes A's schedule: %d", r.status)
	}
	sup.mustJSON("POST", "/api/v1/wfm/schedules/"+sc.ID+"/publish", nil, 200, &sc)
	if r := sup.do("POST", "/api/v1/wfm/schedules/"+sc.ID+"/publish", nil); r.status != 409 {
		t.Fatalf("publish twice: %d", r.status)
	}
	var list sphttp.ListResponse[plan.Schedule]
	bSup.mustJSON("GET", "/api/v1/wfm/schedules?week_start=2025-11-17", nil, 200, &list)
	if len(list.Items) != 0 {
		t.Fatalf("B sees A's schedules: %+v", list.Items)
	}

	// An open slot, claimed by the first agent only.
	var sl plan.Slot
	sup.mustJSON("POST", "/api/v1/wfm/slots", map[string]any{"queue_id": a.queue.ID, "start": "2025-11-11T12:00:00Z", "end": "2025-11-11T14:00:00Z"}, 201, &sl)
	var mine sphttp.MySchedule
	// Open slots are for flexible agents: this one sees none and may not
	// claim until opting in.
	agent.mustJSON("GET", "/api/v1/wfm/me", nil, 200, &mine)
	if len(mine.OpenSlots) != 0 || mine.Profile == nil || mine.Profile.MayClaim() || mine.TimeZone != "Asia/Shanghai" {
		t.Fatalf("a non-flexible agent's view %+v", mine)
	}
	if r := agent.do("POST", "/api/v1/wfm/slots/"+sl.ID+"/claim", nil); r.status != 403 {
		t.Fatalf("claim before opting in: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"opt in without a value", agent, "PUT", "/api/v1/wfm/me/profile", map[string]any{}, 400, "opted_in"},
		{"too many weekly hours", sup, "PUT", "/api/v1/wfm/agents/" + a.agent2.ID, map[string]any{"max_week_hours": 100}, 400, "max_week_hours"},
		{"agent cannot mark agents flexible", agent, "PUT", "/api/v1/wfm/agents/" + a.agent2.ID, map[string]any{"flexible": true}, 403, ""},
		{"B marks A's agent", bSup, "PUT", "/api/v1/wfm/agents/" + a.agent2.ID, map[string]any{"flexible": true}, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.field != "" && r.errorBody(t).Field != tc.field {
				t.Fatalf("field %q, want %q", r.errorBody(t).Field, tc.field)
			}
		})
	}
	var prof plan.AgentProfile
	agent.mustJSON("PUT", "/api/v1/wfm/me/profile", map[string]any{"opted_in": true}, 200, &prof)
	if !prof.OptedIn || prof.Flexible {
		t.Fatalf("opted in %+v", prof)
	}
	sup.mustJSON("PUT", "/api/v1/wfm/agents/"+a.agent2.ID, map[string]any{"flexible": true, "max_week_hours": 20}, 200, &prof)
	if !prof.Flexible || prof.WeekLimit != 20 {
		t.Fatalf("flexible %+v", prof)
	}
	var profs sphttp.ListResponse[plan.AgentProfile]
	sup.mustJSON("GET", "/api/v1/wfm/agents", nil, 200, &profs)
	if len(profs.Items) != 2 {
		t.Fatalf("profiles %+v", profs.Items)
	}
	bSup.mustJSON("GET", "/api/v1/wfm/agents", nil, 200, &profs)
	if len(profs.Items) != 0 {
		t.Fatalf("B sees A's profiles %+v", profs.Items)
	}
	agent.mustJSON("GET", "/api/v1/wfm/me", nil, 200, &mine)
	if len(mine.OpenSlots) != 1 || mine.OpenSlots[0].ID != sl.ID || len(mine.Shifts) != 0 || !mine.OpenSlots[0].ExpiresAt.Equal(sl.Start) {
		t.Fatalf("agent's view %+v", mine)
	}
	bAgent.mustJSON("GET", "/api/v1/wfm/me", nil, 200, &mine)
	if len(mine.OpenSlots) != 0 {
		t.Fatalf("B's agent sees A's slots: %+v", mine.OpenSlots)
	}
	if r := bAgent.do("POST", "/api/v1/wfm/slots/"+sl.ID+"/claim", nil); r.status != 404 {
		t.Fatalf("B's agent claims A's slot: %d", r.status)
	}
	var sh plan.Shift
	agent.mustJSON("POST", "/api/v1/wfm/slots/"+sl.ID+"/claim", nil, 201, &sh)
	if sh.AgentID != a.agent.ID || sh.Kind != plan.KindSlot {
		t.Fatalf("shift %+v", sh)
	}
	if r := agent2.do("POST", "/api/v1/wfm/slots/"+sl.ID+"/claim", nil); r.status != 409 {
		t.Fatalf("second claim: %d %s", r.status, r.body)
	}
	agent.mustJSON("GET", "/api/v1/wfm/me", nil, 200, &mine)
	if len(mine.Shifts) != 1 || len(mine.OpenSlots) != 0 {
		t.Fatalf("after the claim %+v", mine)
	}
	var shifts sphttp.ListResponse[plan.Shift]
	sup.mustJSON("GET", "/api/v1/wfm/shifts?from=2025-11-11T00:00:00Z", nil, 200, &shifts)
	if len(shifts.Items) != 1 {
		t.Fatalf("grid %+v", shifts.Items)
	}
	bSup.mustJSON("GET", "/api/v1/wfm/shifts?from=2025-11-11T00:00:00Z", nil, 200, &shifts)
	if len(shifts.Items) != 0 {
		t.Fatalf("B sees A's shifts %+v", shifts.Items)
	}
	var adh sphttp.ListResponse[plan.Adherence]
	sup.mustJSON("GET", "/api/v1/wfm/adherence?date=2025-11-11", nil, 200, &adh)
	if len(adh.Items) != 1 || adh.Items[0].AgentID != a.agent.ID {
		t.Fatalf("adherence %+v", adh.Items)
	}
	if r := agent.do("POST", "/api/v1/wfm/offers/off_nope/accept", nil); r.status != 404 {
		t.Fatalf("unknown offer: %d", r.status)
	}

	// A slot whose claim window closes before it starts: shown as
	// expired and refused once the window has passed.
	if r := sup.do("POST", "/api/v1/wfm/slots", map[string]any{"queue_id": a.queue.ID, "start": "2025-11-12T02:00:00Z", "end": "2025-11-12T04:00:00Z",
		"expires_at": "2025-11-12T03:00:00Z"}); r.status != 400 || r.errorBody(t).Field != "expires_at" {
		t.Fatalf("expiry after the start: %d %s", r.status, r.body)
	}
	var late plan.Slot
	sup.mustJSON("POST", "/api/v1/wfm/slots", map[string]any{"queue_id": a.queue.ID, "start": "2025-11-12T02:00:00Z", "end": "2025-11-12T04:00:00Z",
		"expires_at": "2025-11-11T09:30:00Z"}, 201, &late)
	e.clock.Advance(45 * time.Minute)
	agent2.mustJSON("GET", "/api/v1/wfm/me", nil, 200, &mine)
	if len(mine.OpenSlots) != 1 || mine.OpenSlots[0].ID != late.ID || mine.OpenSlots[0].Status != plan.SlotExpired {
		t.Fatalf("expired slot shown as %+v", mine.OpenSlots)
	}
	r := agent2.do("POST", "/api/v1/wfm/slots/"+late.ID+"/claim", nil)
	if r.status != 409 || !strings.Contains(r.errorBody(t).Message, "expired") {
		t.Fatalf("claim of an expired slot: %d %s", r.status, r.body)
	}
}

// TestWFMLocalDay: a queue's day follows its business hours' time zone:
// the day the clocks go back in New York has 100 quarter-hours, and the
// default day is today there.
func TestWFMLocalDay(t *testing.T) {
	e := newEnv(t)
	a := e.newTenant("alpha")
	a.queue.BusinessHours = &starpost.BusinessHours{TimeZone: "America/New_York", Days: map[time.Weekday][]string{time.Monday: {"09:00-17:00"}}}
	if err := e.db.UpdateQueue(e.ctx, a.queue); err != nil {
		t.Fatal(err)
	}
	sup := e.login(a.supervisor)
	for _, tc := range []struct {
		query, day, start string
		n                 int
	}{
		{"?date=2025-11-02", "2025-11-02", "2025-11-02T04:00:00Z", 100},
		{"?date=2025-03-09", "2025-03-09", "2025-03-09T05:00:00Z", 92},
		{"", "2025-11-11", "2025-11-11T05:00:00Z", 96}, // 04:00 in New York
	} {
		var day plan.DayPlan
		sup.mustJSON("GET", "/api/v1/wfm/queues/"+a.queue.ID+"/day"+tc.query, nil, 200, &day)
		if day.Day != tc.day || len(day.Items) != tc.n || day.Start.Format(time.RFC3339) != tc.start || day.TimeZone != "America/New_York" {
			t.Fatalf("%s: day %s in %s, %d intervals from %v", tc.query, day.Day, day.TimeZone, len(day.Items), day.Start)
		}
	}
}
