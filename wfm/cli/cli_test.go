package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost/wfm"
)

// synthHistory writes weeks of weekday history, 08:00–18:00 at 30
// minutes, with a midday peak, a Monday uplift and Poisson noise; handle
// times are about 240 s.
func synthHistory(t *testing.T, dir string, weeks int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("interval,count,aht\n")
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	for d := start; d.Before(start.AddDate(0, 0, 7*weeks)); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		day := 1.0
		if d.Weekday() == time.Monday {
			day = 1.3
		}
		for s := 0; s < 20; s++ {
			h := 8 + float64(s)/2
			mean := day * (20 + 40*math.Exp(-(h-12)*(h-12)/8))
			n := poisson(rng, mean)
			fmt.Fprintf(&b, "%s,%d,%d\n", d.Add(time.Duration(h*float64(time.Hour))).Format("2006-01-02 15:04"), n, 220+rng.IntN(40))
		}
	}
	return writeTemp(t, dir, "history.csv", b.String())
}

func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func readBack(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPipeline runs forecast → staff → schedule → simulate on a synthetic
// history and checks the outputs agree with each other.
func TestPipeline(t *testing.T) {
	dir := t.TempDir()
	hist := synthHistory(t, dir, 12)
	fcPath := filepath.Join(dir, "forecast.csv")
	reqPath := filepath.Join(dir, "requirements.csv")
	shiftPath := filepath.Join(dir, "shifts.csv")
	simPath := filepath.Join(dir, "sim.csv")

	out, _, err := runCmd(t, "forecast", "--history", hist, "--days", "3", "--out", fcPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forecast:\n%s", out)
	if !strings.Contains(out, "lead 1: ") || !strings.Contains(out, "backtest WAPE") {
		t.Fatalf("forecast report lacks the chosen method: %q", out)
	}
	fc, err := ReadForecast("forecast.csv", strings.NewReader(readBack(t, fcPath)))
	if err != nil {
		t.Fatal(err)
	}
	if len(fc) != 3*20 {
		t.Fatalf("%d forecast intervals, want 60", len(fc))
	}
	if fc[0].Start.Weekday() != time.Monday || fc[0].Start.Hour() != 8 {
		t.Fatalf("forecast starts %v, want Monday 08:00 after 12 weeks", fc[0].Start)
	}
	for _, f := range fc {
		if f.Contacts < 0 || f.HandleTime < 200*time.Second || f.HandleTime > 280*time.Second {
			t.Fatalf("implausible forecast %+v", f)
		}
	}

	out, _, err = runCmd(t, "staff", "--forecast", fcPath, "--target", "80/20", "--patience", "120", "--shrinkage", "0.3", "--out", reqPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("staff:\n%s", out)
	reqs, err := ReadRequirements("requirements.csv", strings.NewReader(readBack(t, reqPath)))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != len(fc) {
		t.Fatalf("%d requirement rows for %d forecast rows", len(reqs), len(fc))
	}
	for _, r := range reqs {
		if r.Agents < 0 || r.Scheduled < r.Agents || (r.Agents > 0 && float64(r.Scheduled) < float64(r.Agents)/0.7-1e-9) {
			t.Fatalf("requirement %+v: scheduled does not gross up agents for 30 %% shrinkage", r)
		}
	}

	out, _, err = runCmd(t, "schedule", "--requirements", reqPath, "--time", "3s", "--out", shiftPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("schedule:\n%s", out)
	var cost, bound, gap float64
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "lower bound") {
			if _, err := fmt.Sscanf(l, "lower bound %f", &bound); err != nil {
				t.Fatal(err)
			}
			i := strings.Index(l, "gap ")
			if _, err := fmt.Sscanf(l[i:], "gap %f", &gap); err != nil {
				t.Fatal(err)
			}
		}
		if i := strings.Index(l, "cost "); strings.HasPrefix(l, "schedule:") && i > 0 {
			if _, err := fmt.Sscanf(l[i:], "cost %f", &cost); err != nil {
				t.Fatal(err)
			}
		}
	}
	if bound <= 0 || cost < bound-1e-6 || gap < 0 || gap > 15 {
		t.Fatalf("cost %v, bound %v, gap %v %%", cost, bound, gap)
	}
	shifts, err := ReadShifts("shifts.csv", strings.NewReader(readBack(t, shiftPath)))
	if err != nil {
		t.Fatal(err)
	}
	paid := 0.0
	for _, s := range shifts {
		paid += float64(s.Agents) * (s.End.Sub(s.Start).Hours())
		for _, b := range s.Breaks {
			paid -= float64(s.Agents) * b[1].Sub(b[0]).Hours()
		}
	}
	if math.Abs(paid-cost) > 0.01*cost+1 { // paid breaks are paid, so allow a little
		t.Fatalf("shifts add up to %.2f paid hours, report says %.2f", paid, cost)
	}
	for _, r := range reqs {
		on := 0
		for _, s := range shifts {
			on += s.On(r.Start)
		}
		if on < r.Scheduled {
			t.Fatalf("%s: %d on shift, %d required", r.Start, on, r.Scheduled)
		}
	}

	out, _, err = runCmd(t, "simulate", "--forecast", fcPath, "--staff", shiftPath, "--target", "80/20", "--patience", "120", "--shrinkage", "0.3", "--arrivals", "5000", "--out", simPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("simulate:\n%s", out)
	var modelSL, simSL float64
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "Erlang" {
			fmt.Sscanf(f[2], "%f%%", &modelSL)
		}
		if len(f) >= 2 && f[0] == "simulated" {
			fmt.Sscanf(f[1], "%f%%", &simSL)
		}
	}
	if modelSL < 80 || simSL < 78 || math.Abs(modelSL-simSL) > 3 {
		t.Fatalf("service level: Erlang %.2f %%, simulated %.2f %%; want both near or above 80 %%", modelSL, simSL)
	}
	if n := strings.Count(readBack(t, simPath), "\n"); n != len(fc)+1 {
		t.Fatalf("simulation CSV has %d lines, want %d", n, len(fc)+1)
	}

	// The requirements file itself is a staffing too: exactly what Erlang A sized.
	out, _, err = runCmd(t, "simulate", "--forecast", fcPath, "--staff", reqPath, "--target", "80/20", "--patience", "120", "--arrivals", "2000", "--out", simPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "requirements") {
		t.Fatalf("simulate did not read a requirements file: %q", out)
	}
}

// TestScheduleTemplates schedules with a planner's templates file: start
// windows and breaks are honoured in the shifts written.
func TestScheduleTemplates(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("interval,agents,scheduled\n")
	for d := 5; d <= 6; d++ {
		for s := 0; s < 24; s++ { // 08:00-20:00 at 30 minutes
			fmt.Fprintf(&b, "2026-01-%02dT%02d:%02d:00Z,3,4\n", d, 8+s/2, 30*(s%2))
		}
	}
	req := writeTemp(t, dir, "req.csv", b.String())
	tpl := writeTemp(t, dir, "tpl.csv", "name,length,breaks,paid_hours,start_from,start_until\n"+
		"early,8h,30m@3h-4h,,08:00,09:00\nlate,8h,30m@3h-4h,,11:00,12:00\nshort,4h,,,,\n")
	out, report, err := runCmd(t, "schedule", "--requirements", req, "--templates", tpl, "--time", "2s")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report, "gap ") {
		t.Fatalf("no gap in report %q", report)
	}
	shifts, err := ReadShifts("out", strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shifts {
		h := s.Start.Hour()*60 + s.Start.Minute()
		switch s.Template {
		case "early":
			if h < 8*60 || h > 9*60 || len(s.Breaks) != 1 {
				t.Fatalf("early shift %+v", s)
			}
		case "late":
			if h < 11*60 || h > 12*60 || len(s.Breaks) != 1 {
				t.Fatalf("late shift %+v", s)
			}
		case "short":
		default:
			t.Fatalf("unknown template in %+v", s)
		}
		if s.End.Hour() > 20 || (s.End.Hour() == 20 && s.End.Minute() > 0) {
			t.Fatalf("shift %+v runs past closing", s)
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeTemp(t, dir, "bad.csv", "interval,contacts,aht_seconds\n2026-01-05T08:00:00Z,12,240\n2026-01-05T08:30:00Z,many,240\n")
	empty := writeTemp(t, dir, "empty.csv", "")
	badTpl := writeTemp(t, dir, "tpl.csv", "name,length,breaks\nlong,8h,30m@3h\n")
	req := writeTemp(t, dir, "req.csv", "interval,agents,scheduled\n2026-01-05T08:00:00Z,2,3\n2026-01-05T08:30:00Z,2,3\n")
	for _, tc := range []struct {
		name string
		args []string
		want string // substring of the error
	}{
		{"no command", nil, "name a command"},
		{"unknown", []string{"fly"}, "unknown command"},
		{"forecast no history", []string{"forecast"}, "--history is required"},
		{"forecast bad flag", []string{"forecast", "--nope"}, "flag provided but not defined"},
		{"forecast missing file", []string{"forecast", "--history", filepath.Join(dir, "none.csv")}, "no such file"},
		{"forecast short", []string{"forecast", "--history", writeTemp(t, dir, "h.csv", "interval,count\n2026-01-05 08:00,3\n")}, "history too short"},
		{"staff bad number", []string{"staff", "--forecast", bad}, "bad.csv:3:2 (contacts)"},
		{"staff empty", []string{"staff", "--forecast", empty}, "empty.csv:1: empty file"},
		{"staff bad target", []string{"staff", "--forecast", bad, "--target", "80"}, "want X/Y"},
		{"staff abandon without patience", []string{"staff", "--forecast", bad, "--abandon", "5%"}, "needs --patience"},
		{"staff channel", []string{"staff", "--forecast", bad, "--channel", "fax"}, "want voice or chat"},
		{"staff shrinkage", []string{"staff", "--forecast", bad, "--shrinkage", "1.2"}, "shrinkage"},
		{"schedule bad template", []string{"schedule", "--requirements", req, "--templates", badTpl}, "tpl.csv:2:3 (breaks)"},
		{"forecast coarse history", []string{"forecast", "--history", synthHistory(t, dir, 2), "--interval", "15m"}, "not a multiple of the history's 30m0s"},
		{"forecast bad open", []string{"forecast", "--history", synthHistory(t, dir, 2), "--open", "7am"}, "--open"},
		{"forecast window", []string{"forecast", "--history", synthHistory(t, dir, 2), "--open", "18:00", "--close", "08:00"}, "invalid"},
		{"schedule no fit", []string{"schedule", "--requirements", req, "--templates", writeTemp(t, dir, "long.csv", "name,length\nlong,8h\n")}, "no template fits"},
		{"schedule misaligned", []string{"schedule", "--requirements", writeTemp(t, dir, "mis.csv", "interval,agents\n2026-01-05T08:00:00Z,1\n2026-01-05T08:30:00Z,1\n2026-01-05T08:45:00Z,1\n"), "--interval", "30m"}, "mis.csv: line 4: interval"},
		{"simulate no staff", []string{"simulate", "--forecast", bad}, "--staff are required"},
		{"stray argument", []string{"staff", "--forecast", bad, "extra"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, _, err := runCmd(t, "staff", "--forecast", bad); !errors.As(err, new(*InputError)) {
		t.Fatalf("bad input is not an *InputError: %v", err)
	}
	if _, _, err := runCmd(t, "fly"); !errors.Is(err, ErrUsage) {
		t.Fatalf("unknown command is not ErrUsage: %v", err)
	}
	if _, _, err := runCmd(t, "staff", "-h"); err != nil {
		t.Fatalf("-h: %v", err)
	}
}

// TestForecastEvents learns a sale's uplift from past sales and applies it
// to a planned one; a kind never seen before is reported.
func TestForecastEvents(t *testing.T) {
	dir := t.TempDir()
	hist := synthHistory(t, dir, 12)
	// Double the demand on three past sale days.
	body := readBack(t, hist)
	sales := []string{"2026-03-18", "2026-04-15", "2026-05-13"} // Wednesdays
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSpace(body), "\n") {
		f := strings.Split(l, ",")
		if i > 0 && slices.ContainsFunc(sales, func(d string) bool { return strings.HasPrefix(f[0], d) }) {
			var n int
			fmt.Sscan(f[1], &n)
			f[1] = fmt.Sprint(2 * n)
		}
		b.WriteString(strings.Join(f, ",") + "\n")
	}
	hist = writeTemp(t, dir, "history.csv", b.String())
	ev := writeTemp(t, dir, "events.csv", "date,kind\n"+strings.Join(sales, ",sale\n")+",sale\n2026-05-27,sale\n2026-05-28,launch\n")
	fcPath := filepath.Join(dir, "fc.csv")
	out, _, err := runCmd(t, "forecast", "--history", hist, "--events", ev, "--days", "4", "--out", fcPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if !strings.Contains(out, "warning: no past occurrence of planned events [launch]") {
		t.Fatalf("no warning for the unknown launch: %q", out)
	}
	fc, err := ReadForecast("fc.csv", strings.NewReader(readBack(t, fcPath)))
	if err != nil {
		t.Fatal(err)
	}
	day := map[string]float64{}
	for _, f := range fc {
		day[f.Start.Format(time.DateOnly)] += f.Contacts
	}
	// 2026-05-26 is a Tuesday, 05-27 the planned sale Wednesday.
	if ratio := day["2026-05-27"] / day["2026-05-26"]; ratio < 1.6 || ratio > 2.4 {
		t.Fatalf("sale day %.0f vs ordinary day %.0f: ratio %.2f, want about 2", day["2026-05-27"], day["2026-05-26"], ratio)
	}
}

// TestStaffChat checks chat concurrency: three conversations per agent
// need about a third of the voice agents for the same contacts.
func TestStaffChat(t *testing.T) {
	dir := t.TempDir()
	fcPath := writeTemp(t, dir, "fc.csv", "interval,contacts,aht_seconds\n2026-01-05T08:00:00Z,300,360\n2026-01-05T08:30:00Z,0,\n")
	w := wfm.Workload{Contacts: 300, Interval: 30 * time.Minute, HandleTime: 360 * time.Second}
	need := func(w wfm.Workload, tg wfm.Target) int {
		p, err := wfm.AgentsNeeded(w, tg)
		if err != nil {
			t.Fatal(err)
		}
		return p.Agents
	}
	sl := wfm.Target{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second}
	voice := need(w, sl)
	impatient := w
	impatient.Patience = time.Minute
	for _, tc := range []struct {
		args   []string
		agents int
	}{
		{[]string{"--channel", "voice"}, voice},
		{[]string{"--channel", "chat", "--concurrency", "3"}, (voice + 2) / 3},
		{[]string{"--target", "", "--asa", "30"}, need(w, wfm.Target{MaxASA: 30 * time.Second})},
		{[]string{"--target", "", "--patience", "60", "--abandon", "5%"}, need(impatient, wfm.Target{MaxAbandon: 0.05})},
		{[]string{"--target", "90/10", "--occupancy", "0.8"}, need(w, wfm.Target{ServiceLevel: 0.9, AnswerWithin: 10 * time.Second, MaxOccupancy: 0.8})},
	} {
		if tc.agents <= 0 || (tc.agents == voice && tc.args[0] != "--channel") {
			t.Fatalf("%v: degenerate expectation %d", tc.args, tc.agents)
		}
		out, _, err := runCmd(t, append([]string{"staff", "--forecast", fcPath}, tc.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		reqs, err := ReadRequirements("out", strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if reqs[0].Agents != tc.agents || reqs[1].Agents != 0 {
			t.Errorf("%v: agents %d, %d; want %d, 0", tc.args, reqs[0].Agents, reqs[1].Agents, tc.agents)
		}
	}
}

// TestRunCancelled checks that a cancelled context stops a command with
// the context's error.
func TestRunCancelled(t *testing.T) {
	dir := t.TempDir()
	hist := synthHistory(t, dir, 12)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"forecast", "--history", hist},
		{"staff", "--forecast", writeTemp(t, dir, "fc.csv", "interval,contacts\n2026-01-05T08:00:00Z,10\n")},
	} {
		if err := Run(ctx, args, &out, &errb); !errors.Is(err, context.Canceled) {
			t.Errorf("%v: err = %v, want context.Canceled", args, err)
		}
	}
}
