package cli

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestReadForecast(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		rows    int
		wantErr string // "" for success, else a substring
	}{
		{"written by forecast", "interval,contacts,aht_seconds\n2026-01-05T08:00:00Z,12.50,240.0\n2026-01-05T08:30:00Z,3,\n", 2, ""},
		{"bom and spaces", "\ufeffInterval , Count\n2026-01-05 08:00, 4\n", 1, ""},
		{"blank line", "interval,count\n2026-01-05 08:00,4\n\n2026-01-05 08:30,5\n", 2, ""},
		{"no count", "interval,x\n2026-01-05 08:00,4\n", 0, "f.csv:1: header"},
		{"bad time", "interval,count\nmonday,4\n", 0, "f.csv:2:1 (interval): timestamp"},
		{"negative", "interval,count\n2026-01-05 08:00,-4\n", 0, "f.csv:2:2 (count)"},
		{"nan", "interval,count\n2026-01-05 08:00,NaN\n", 0, "not a finite number"},
		{"short row", "interval,count,aht\n2026-01-05 08:00\n", 0, "f.csv:2:2 (count): missing"},
		{"empty count", "interval,count\n2026-01-05 08:00,\n", 0, "f.csv:2:2 (count): empty"},
		{"out of order", "interval,count\n2026-01-05 08:30,1\n2026-01-05 08:00,1\n", 0, "f.csv:3:1 (interval)"},
		{"bad quote", "interval,count\n\"2026-01-05 08:00,1\n", 0, "f.csv:"},
		{"only header", "interval,count\n", 0, "no rows"},
		{"empty", "", 0, "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc, err := ReadForecast("f.csv", strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(fc) != tc.rows {
				t.Fatalf("%d rows, want %d", len(fc), tc.rows)
			}
		})
	}
}

func TestReadHistory(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		rows     int
		handle   float64 // of the first row
		wantErr  string
	}{
		{"planner", "interval,count,aht\n2026-01-05 08:00,10,240\n2026-01-05 08:30,4,\n", 2, 2400, ""},
		{"bank", "rownames,DateTime,Calls\n1,2003-03-03T07:00:00Z,111\n", 1, 0, ""},
		{"negative", "interval,count\n2026-01-05 08:00,4\n2026-01-05 08:30,-2\n", 0, 0, "h.csv:3:2 (count)"},
		{"bad aht", "interval,count,aht\n2026-01-05 08:00,4,long\n", 0, 0, "h.csv:2:3 (aht)"},
		{"no time", "count\n4\n", 0, 0, "no interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := ReadHistory("h.csv", strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(obs) != tc.rows || obs[0].HandleSeconds != tc.handle {
				t.Fatalf("%+v, %v", obs, err)
			}
		})
	}
}

func TestReadRequirementsAndShifts(t *testing.T) {
	reqs, err := ReadRequirements("r.csv", strings.NewReader("interval,contacts,aht_seconds,agents,scheduled\n2026-01-05T08:00:00Z,10,240,3,5\n"))
	if err != nil || len(reqs) != 1 || reqs[0].Agents != 3 || reqs[0].Scheduled != 5 || reqs[0].Line != 2 {
		t.Fatalf("%+v, %v", reqs, err)
	}
	reqs, err = ReadRequirements("r.csv", strings.NewReader("interval,required\n2026-01-05T08:00:00Z,4\n"))
	if err != nil || reqs[0].Agents != 4 || reqs[0].Scheduled != 4 {
		t.Fatalf("%+v, %v", reqs, err)
	}
	for _, in := range []string{
		"interval,contacts\n2026-01-05T08:00:00Z,3\n",
		"interval,agents\n2026-01-05T08:00:00Z,2.5\n",
		"interval,agents\n2026-01-05T08:00:00Z,-1\n",
	} {
		if _, err := ReadRequirements("r.csv", strings.NewReader(in)); !errors.As(err, new(*InputError)) {
			t.Errorf("%q: err = %v, want an InputError", in, err)
		}
	}

	sh, err := ReadShifts("s.csv", strings.NewReader("shift,template,start,end,paid_hours,agents,breaks\n"+
		"1,full,2026-01-05T08:00:00Z,2026-01-05T16:30:00Z,8,2,2026-01-05T12:00:00Z/2026-01-05T12:30:00Z\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := func(hm string) time.Time {
		ts, _ := time.Parse(time.RFC3339, "2026-01-05T"+hm+":00Z")
		return ts
	}
	for _, tc := range []struct {
		at   string
		want int
	}{{"07:30", 0}, {"08:00", 2}, {"11:30", 2}, {"12:00", 0}, {"12:15", 0}, {"12:30", 2}, {"16:00", 2}, {"16:30", 0}} {
		if got := sh[0].On(at(tc.at)); got != tc.want {
			t.Errorf("on at %s = %d, want %d", tc.at, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"start,end\n2026-01-05T08:00:00Z,2026-01-05T07:00:00Z\n", "s.csv:2:2 (end)"},
		{"start,end,breaks\n2026-01-05T08:00:00Z,2026-01-05T12:00:00Z,2026-01-05T13:00:00Z/2026-01-05T13:30:00Z\n", "s.csv:2:3 (breaks)"},
		{"start,end,breaks\n2026-01-05T08:00:00Z,2026-01-05T12:00:00Z,lunch\n", "want START/END"},
		{"start\n2026-01-05T08:00:00Z\n", "no end column"},
	} {
		if _, err := ReadShifts("s.csv", strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestReadTemplates(t *testing.T) {
	specs, err := ReadTemplates("t.csv", strings.NewReader("name,length,breaks,paid_hours,start_from,start_until\n"+
		"full,8h30m,30m@3h-5h; 15m@1h-2h paid,8,07:00,12:30\npart,4,,,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || specs[0].Length != 8*time.Hour+30*time.Minute || len(specs[0].Breaks) != 2 || !specs[0].Breaks[1].Paid ||
		specs[0].From != 7*time.Hour || specs[0].Until != 12*time.Hour+30*time.Minute || specs[1].Length != 4*time.Hour {
		t.Fatalf("%+v", specs)
	}
	for _, tc := range []struct {
		step      time.Duration
		length    int
		breaks    int
		paidHours float64
		wantErr   bool
	}{
		{15 * time.Minute, 34, 2, 8, false},
		{30 * time.Minute, 17, 1, 8, false}, // the 15-minute paid break cannot be expressed
		{time.Hour, 0, 0, 0, true},          // 8h30m is not whole hours
	} {
		tp, err := specs[0].Template(tc.step)
		if (err != nil) != tc.wantErr {
			t.Fatalf("step %v: err %v", tc.step, err)
		}
		if err == nil && (tp.Length != tc.length || len(tp.Breaks) != tc.breaks || tp.PaidHours != tc.paidHours) {
			t.Fatalf("step %v: %+v", tc.step, tp)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"name,length\nx,forever\n", "t.csv:2:2 (length)"},
		{"name,length,breaks\nx,8h,30m\n", "t.csv:2:3 (breaks)"},
		{"name,length,breaks\nx,8h,30m@5h-3h\n", "after the earliest"},
		{"name,length,start_from\nx,8h,25:00\n", "t.csv:2:3 (start_from)"},
		{"name,length,start_from,start_until\nx,8h,12:00,08:00\n", "before start_from"},
		{"name,length,paid_hours\nx,8h,99\n", "t.csv:2:3 (paid_hours)"},
		{"name\nx\n", "no length"},
	} {
		if _, err := ReadTemplates("t.csv", strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestReadEvents(t *testing.T) {
	cal, err := ReadEvents("e.csv", strings.NewReader("date,kind\n2025-11-11,11.11\n2026-06-18,618\n"), time.UTC)
	if err != nil || len(cal.Events) != 2 || cal.Events[1].Kind != "618" || cal.Events[0].Date.Month() != time.November {
		t.Fatalf("%+v, %v", cal, err)
	}
	if _, err := ReadEvents("e.csv", strings.NewReader("date,kind\n11/11,x\n"), time.UTC); err == nil || !strings.Contains(err.Error(), "e.csv:2:1 (date)") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		in     string
		sl     float64
		within time.Duration
		ok     bool
	}{
		{"80/20", 0.8, 20 * time.Second, true},
		{"0.9/15s", 0.9, 15 * time.Second, true},
		{"95%/1m", 0.95, time.Minute, true},
		{"80", 0, 0, false},
		{"100/20", 0, 0, false},
		{"x/20", 0, 0, false},
		{"80/-5", 0, 0, false},
	} {
		sl, w, err := parseTarget(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (math.Abs(sl-tc.sl) > 1e-12 || w != tc.within)) {
			t.Errorf("parseTarget(%q) = %v, %v, %v", tc.in, sl, w, err)
		}
	}
}

// fuzzSeeds adds the shapes the writers produce and a few hostile ones.
func fuzzSeeds(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, "", "\ufeff", "a,b\n\"x", "interval\n,\n,,,,\n", "interval,count\n9999-99-99 99:99,1e400\n") {
		f.Add(s)
	}
}

func FuzzReadForecast(f *testing.F) {
	fuzzSeeds(f, "interval,contacts,aht_seconds\n2026-01-05T08:00:00Z,12.50,240.0\n2026-01-05T08:30:00Z,3,\n",
		"interval,count\n2026-01-05 08:00,5%\n")
	f.Fuzz(func(t *testing.T, in string) {
		fc, err := ReadForecast("f.csv", strings.NewReader(in))
		if err != nil {
			if !errors.As(err, new(*InputError)) {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for i, x := range fc {
			if x.Contacts < 0 || x.Contacts != x.Contacts || x.HandleTime < 0 || (i > 0 && !x.Start.After(fc[i-1].Start)) {
				t.Fatalf("invalid forecast row %d %+v", i, x)
			}
		}
		// Whatever parses must staff without panicking.
		o := staffOptions{aht: 300 * time.Second}
		o.plan.Target.ServiceLevel, o.plan.Target.AnswerWithin = 0.8, 20*time.Second
		if len(fc) < 10 {
			_, _ = staff(t.Context(), fc, o)
		}
	})
}

func FuzzReadHistory(f *testing.F) {
	fuzzSeeds(f, "interval,count,aht\n2026-01-05 08:00,10,240\n2026-01-05 08:30,4,\n", "rownames,DateTime,Calls\n1,2003-03-03T07:00:00Z,111\n")
	f.Fuzz(func(t *testing.T, in string) {
		obs, err := ReadHistory("h.csv", strings.NewReader(in))
		if err != nil {
			if !errors.As(err, new(*InputError)) {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for _, o := range obs {
			if o.Count < 0 || o.Count != o.Count || o.HandleSeconds < 0 {
				t.Fatalf("invalid observation %+v", o)
			}
		}
		// Whatever parses must lay out on a grid without panicking.
		if g, err := gridFor(obs, 30*time.Minute); err == nil {
			_, _ = historyStep(obs), g.Validate()
		}
	})
}

func FuzzReadRequirements(f *testing.F) {
	fuzzSeeds(f, "interval,contacts,aht_seconds,agents,scheduled\n2026-01-05T08:00:00Z,10,240,3,5\n2026-01-05T08:30:00Z,10,240,3,5\n",
		"interval,required\n2026-01-05 08:00,4\n")
	f.Fuzz(func(t *testing.T, in string) {
		reqs, err := ReadRequirements("r.csv", strings.NewReader(in))
		if err != nil {
			if !errors.As(err, new(*InputError)) {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for _, r := range reqs {
			if r.Agents < 0 || r.Scheduled < 0 {
				t.Fatalf("negative requirement %+v", r)
			}
		}
		// Whatever parses must lay out on a timeline without panicking.
		_, _ = buildProblem(reqs, DefaultTemplates(), 0, true)
	})
}

func FuzzReadTemplates(f *testing.F) {
	fuzzSeeds(f, "name,length,breaks,paid_hours,start_from,start_until\nfull,8h30m,30m@3h-5h; 15m@1h-2h paid,8,07:00,12:30\npart,4,,,,\n",
		"name,length,breaks\nx,8h,30m@1h-1h unpaid;30m@2h-7h\n")
	f.Fuzz(func(t *testing.T, in string) {
		specs, err := ReadTemplates("t.csv", strings.NewReader(in))
		if err != nil {
			if !errors.As(err, new(*InputError)) {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for _, s := range specs {
			for _, step := range []time.Duration{15 * time.Minute, 30 * time.Minute} {
				tp, err := s.Template(step)
				if err != nil {
					continue
				}
				if tp.Length < 1 || tp.PaidHours < 0 {
					t.Fatalf("invalid template %+v from %+v", tp, s)
				}
			}
		}
	})
}

func FuzzReadShifts(f *testing.F) {
	fuzzSeeds(f, "shift,template,start,end,paid_hours,agents,breaks\n1,full,2026-01-05T08:00:00Z,2026-01-05T16:30:00Z,8,2,2026-01-05T12:00:00Z/2026-01-05T12:30:00Z\n",
		"start,end\n2026-01-05 08:00,2026-01-05 12:00\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadShifts("s.csv", strings.NewReader(in))
		if err != nil {
			if !errors.As(err, new(*InputError)) {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for _, r := range rows {
			if !r.End.After(r.Start) || r.Agents < 0 {
				t.Fatalf("invalid shift %+v", r)
			}
			if r.On(r.Start.Add(-time.Second)) != 0 || r.On(r.End) != 0 {
				t.Fatalf("shift %+v counts agents outside itself", r)
			}
		}
	})
}

func FuzzReadEvents(f *testing.F) {
	fuzzSeeds(f, "date,kind\n2025-11-11,11.11\n2026-06-18,618\n")
	f.Fuzz(func(t *testing.T, in string) {
		cal, err := ReadEvents("e.csv", strings.NewReader(in), time.UTC)
		if err != nil {
			if !errors.As(err, new(*InputError)) {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for _, e := range cal.Events {
			if e.Kind == "" {
				t.Fatalf("event without kind %+v", e)
			}
		}
	})
}
