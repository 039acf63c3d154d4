package plan_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm/plan"
)

func TestReforecast(t *testing.T) {
	flat := func(v float64, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	noDecay := plan.Damping{Prior: 20, Decay: 1, MinRatio: 0.2, MaxRatio: 5}
	for _, tc := range []struct {
		name     string
		fc, act  []float64
		now      int
		d        plan.Damping
		wantK    float64
		wantNext float64 // re-forecast of interval now
		wantLast float64 // of the last interval
	}{
		{"start of day keeps the forecast", flat(10, 8), nil, 0, noDecay, 1, 10, 10},
		{"on plan keeps the forecast", flat(10, 8), flat(10, 4), 4, noDecay, 1, 10, 10},
		// F = 40, A = 80, r = 2, w = 40/60: k = 1 + 2/3.
		{"busier day is scaled up, shrunk by the prior", flat(10, 8), flat(20, 4), 4, noDecay, 1 + 2.0/3, 10 * (1 + 2.0/3), 10 * (1 + 2.0/3)},
		// r = 0.5: k = 1 − 0.5·2/3.
		{"quieter day is scaled down", flat(10, 8), flat(5, 4), 4, noDecay, 1 - 1.0/3, 10 * (1 - 1.0/3), 10 * (1 - 1.0/3)},
		// r = 100 clamps to 5; w = 4/24: k = 1 + 4/6.
		{"ratio is clamped", flat(1, 8), flat(100, 4), 4, noDecay, 1 + 4.0/6, 1 + 4.0/6, 1 + 4.0/6},
		// Decay 0.5: last interval (h = 3) gets 1 + (2/3)·0.125.
		{"correction fades with decay", flat(10, 8), flat(20, 4), 4, plan.Damping{Prior: 20, Decay: 0.5, MinRatio: 0.2, MaxRatio: 5},
			1 + 2.0/3, 10 * (1 + 2.0/3), 10 * (1 + 2.0/3*0.125)},
		// Nothing forecast, 12 came (clamped to 5): k = 1 + 4/21.
		{"unforecast contacts", flat(0, 4), flat(6, 2), 2, noDecay, 1 + 4.0/21, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, k := plan.Reforecast(tc.fc, tc.act, tc.now, tc.d)
			if math.Abs(k-tc.wantK) > 1e-9 {
				t.Fatalf("k = %v, want %v", k, tc.wantK)
			}
			if math.Abs(got[tc.now]-tc.wantNext) > 1e-9 || math.Abs(got[len(got)-1]-tc.wantLast) > 1e-9 {
				t.Fatalf("re-forecast %v, want next %v last %v", got, tc.wantNext, tc.wantLast)
			}
			for i := 0; i < tc.now; i++ {
				if got[i] != tc.act[i] {
					t.Fatalf("done interval %d = %v, want the actual %v", i, got[i], tc.act[i])
				}
			}
		})
	}
}

func TestComputeAdherence(t *testing.T) {
	day := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	shift := []plan.Span{{Start: at(9, 0), End: at(12, 0)}, {Start: at(13, 0), End: at(17, 0)}} // lunch 12–13
	pc := func(h, m int, p starpost.Presence) plan.PresenceChange {
		return plan.PresenceChange{At: at(h, m), Presence: p}
	}
	for _, tc := range []struct {
		name    string
		changes []plan.PresenceChange
		to      time.Time
		percent float64
		out     []plan.Period
	}{
		{"perfect day", []plan.PresenceChange{pc(9, 0, "available"), pc(12, 0, "break"), pc(13, 0, "busy"), pc(17, 0, "offline")},
			at(24, 0), 100, []plan.Period{}},
		{"late, long lunch, early leave", []plan.PresenceChange{pc(9, 10, "available"), pc(12, 0, "break"), pc(13, 20, "available"), pc(16, 30, "offline")},
			at(24, 0), 100 * (420 - 10 - 20 - 30) / 420.0,
			[]plan.Period{{Start: at(9, 0), End: at(9, 10), Kind: plan.OutAbsent}, {Start: at(13, 0), End: at(13, 20), Kind: plan.OutAbsent},
				{Start: at(16, 30), End: at(17, 0), Kind: plan.OutAbsent}}},
		{"works through lunch and after hours", []plan.PresenceChange{pc(8, 0, "available"), pc(18, 0, "offline")},
			at(24, 0), 100,
			[]plan.Period{{Start: at(8, 0), End: at(9, 0), Kind: plan.OutUnscheduled}, {Start: at(12, 0), End: at(13, 0), Kind: plan.OutUnscheduled},
				{Start: at(17, 0), End: at(18, 0), Kind: plan.OutUnscheduled}}},
		{"presence from the day before, window up to now", []plan.PresenceChange{pc(-2, 0, "available")},
			at(10, 0), 100, []plan.Period{{Start: at(0, 0), End: at(9, 0), Kind: plan.OutUnscheduled}}},
		{"never signed in", nil, at(24, 0), 0,
			[]plan.Period{{Start: at(9, 0), End: at(12, 0), Kind: plan.OutAbsent}, {Start: at(13, 0), End: at(17, 0), Kind: plan.OutAbsent}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := plan.ComputeAdherence("ag", shift, tc.changes, day, tc.to)
			if math.Abs(got.Percent-tc.percent) > 1e-9 {
				t.Fatalf("percent %v, want %v (%+v)", got.Percent, tc.percent, got)
			}
			if !reflect.DeepEqual(got.Out, tc.out) {
				t.Fatalf("out %+v\nwant %+v", got.Out, tc.out)
			}
		})
	}
}

func TestRulesCheck(t *testing.T) {
	day := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	w := func(h0, h1 float64) plan.Work {
		s, e := day.Add(time.Duration(h0*float64(time.Hour))), day.Add(time.Duration(h1*float64(time.Hour)))
		return plan.Work{Start: s, End: e, PaidHours: h1 - h0}
	}
	rules := plan.Rules{MaxDayHours: 10, MinRest: 11 * time.Hour}
	for _, tc := range []struct {
		name     string
		existing []plan.Work
		add      plan.Work
		ok       bool
	}{
		{"free day", nil, w(9, 17), true},
		{"overlap", []plan.Work{w(9, 17)}, w(16, 18), false},
		{"extends the day within 10 h", []plan.Work{w(9, 17)}, w(17, 19), true},
		{"more than 10 h a day", []plan.Work{w(9, 17)}, w(17, 20), false},
		{"split day too long a span", []plan.Work{w(6, 8)}, w(18, 20), false},
		{"11 h apart is two days", []plan.Work{w(6, 8)}, w(19, 21), true},
		{"11 h rest after yesterday's late shift", []plan.Work{w(-10, -1)}, w(10, 12), true},
		{"less than 11 h rest", []plan.Work{w(-10, -1)}, w(8, 10), false},
		{"other days untouched", []plan.Work{w(-30, -18), w(9, 12)}, w(13, 15), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rules.Check(tc.existing, tc.add)
			if (err == nil) != tc.ok {
				t.Fatalf("Check = %v, want ok %v", err, tc.ok)
			}
			if err != nil && starpost.ErrorCode(err) != starpost.ECONFLICT {
				t.Fatalf("code %s", starpost.ErrorCode(err))
			}
		})
	}
}

// FuzzParseDay: a day from a query string either parses to UTC midnight
// that formats back to the input, or is a field error; it never panics.
func FuzzParseDay(f *testing.F) {
	for _, s := range []string{"2026-11-11", "", "2026-02-30", "9999-12-31", "2026-1-1", "２０２６-11-11"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := plan.ParseDay("date", s)
		if err != nil {
			if starpost.ErrorField(err) != "date" {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if d.Format(time.DateOnly) != s || !d.Equal(plan.DayStart(d)) {
			t.Fatalf("%q parsed to %v", s, d)
		}
	})
}
