package wfm_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/starpost/starpost/wfm"
)

// A planner's flow: read interval history from CSV, forecast the next
// business day with the automatic per-lead selection, then size staff for
// each interval with Erlang A, chat-free voice and 30 % shrinkage.
func Example() {
	var b strings.Builder
	b.WriteString("interval,count\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // Monday
	for d := start; d.Before(start.AddDate(0, 0, 70)); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		for h, n := range []int{40, 90, 120, 80} { // 09:00 .. 12:00
			fmt.Fprintf(&b, "%s,%d\n", d.Add(time.Duration(9+h)*time.Hour).Format("2006-01-02 15:04"), n+int(d.Weekday()))
		}
	}
	obs, err := wfm.ReadHistory(strings.NewReader(b.String()))
	if err != nil {
		panic(err)
	}
	s, err := wfm.BuildSeries(obs, wfm.Grid{DayStart: 9 * time.Hour, DayEnd: 13 * time.Hour, Step: time.Hour})
	if err != nil {
		panic(err)
	}
	next := s.NextBusinessDays(1, nil)
	fc, err := wfm.NewSelector().Forecast(s, next)
	if err != nil {
		panic(err)
	}
	plan := wfm.StaffPlan{
		Target:    wfm.Target{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second},
		Shrinkage: wfm.Shrinkage{Breaks: 0.12, Absence: 0.1, Training: 0.08},
	}
	reqs, err := wfm.Requirements(s.Forecasts(next, fc, nil), time.Hour, 4*time.Minute, 2*time.Minute, plan)
	if err != nil {
		panic(err)
	}
	if err := wfm.WriteRequirements(os.Stdout, reqs); err != nil {
		panic(err)
	}
	// Output:
	// interval,contacts,aht_seconds,agents,scheduled,service_level,asa_seconds,abandon_rate,occupancy
	// 2024-03-11T09:00:00Z,41.00,240.0,5,8,0.8996,5.5,0.0459,0.5216
	// 2024-03-11T10:00:00Z,91.00,240.0,8,12,0.8283,8.5,0.0708,0.7047
	// 2024-03-11T11:00:00Z,121.00,240.0,10,15,0.8197,8.5,0.0706,0.7497
	// 2024-03-11T12:00:00Z,81.00,240.0,7,10,0.8005,10.3,0.0858,0.7053
}

// Agents needed for 80 % answered in 20 s, with 200 calls an hour of 3
// minutes each (10 Erlangs), by Erlang C and by Erlang A with 2-minute
// average patience.
func ExampleAgentsNeeded() {
	w := wfm.Workload{Contacts: 200, Interval: time.Hour, HandleTime: 3 * time.Minute}
	target := wfm.Target{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second}
	c, _ := wfm.AgentsNeeded(w, target)
	fmt.Printf("Erlang C: %d agents, SL %.1f %%, P(wait) %.1f %%, ASA %.1f s\n", c.Agents, 100*c.ServiceLevel, 100*c.PWait, c.ASA.Seconds())
	w.Patience = 2 * time.Minute
	a, _ := wfm.AgentsNeeded(w, target)
	fmt.Printf("Erlang A: %d agents, SL %.1f %%, abandon %.1f %%\n", a.Agents, 100*a.ServiceLevel, 100*a.Abandon)
	// Output:
	// Erlang C: 14 agents, SL 88.8 %, P(wait) 17.4 %, ASA 7.8 s
	// Erlang A: 12 agents, SL 82.6 %, abandon 6.2 %
}
