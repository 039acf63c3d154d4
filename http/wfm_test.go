package http_test

import (
	"testing"

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
	agent.mustJSON("GET", "/api/v1/wfm/me", nil, 200, &mine)
	if len(mine.OpenSlots) != 1 || mine.OpenSlots[0].ID != sl.ID || len(mine.Shifts) != 0 {
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
}
