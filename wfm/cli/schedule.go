package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost/wfm/schedule"
)

const scheduleUsage = `usage: starpost wfm schedule --requirements requirements.csv [--templates templates.csv] [--time 10s] [--out shifts.csv]

Builds shifts that cover the requirement curve (the scheduled column, which
includes shrinkage) at least paid hours, with the LP-based optimiser, and
prints its cost, the proven lower bound and the gap. Shifts stay inside each
day's open hours (the first to the last interval of the day in the file).
Templates CSV: name,length,breaks,paid_hours,start_from,start_until, e.g.
  full-8h,8h30m,30m@3h-5h,8,07:00,12:30
Without --templates: part-4h, mid-6h (15 min paid break) and full-8h
(8.5 h with an unpaid 30 min lunch 3 to 5 h in). Writes
shift,template,start,end,paid_hours,agents,breaks.

`

// maxIntervals bounds the horizon of one schedule.
const maxIntervals = 10_000

// timeline maps timestamps to interval indexes from an origin.
type timeline struct {
	origin time.Time
	step   time.Duration
	n      int
}

func (tl timeline) at(i int) time.Time { return tl.origin.Add(time.Duration(i) * tl.step) }

// index returns the interval of t and whether t is aligned and inside.
func (tl timeline) index(t time.Time) (int, bool) {
	d := t.Sub(tl.origin)
	if d < 0 || d%tl.step != 0 {
		return 0, false
	}
	i := int(d / tl.step)
	return i, i < tl.n
}

// scheduleInput is a schedule problem built from requirements.
type scheduleInput struct {
	tl      timeline
	problem *schedule.Problem
}

// buildProblem lays requirements on a timeline and restricts every
// template's starts to each day's open hours.
// With lenient set (the built-in templates), a template the interval
// cannot express is skipped instead of failing.
func buildProblem(reqs []Staffed, specs []TemplateSpec, iv time.Duration, lenient bool) (*scheduleInput, error) {
	if len(reqs) == 0 {
		return nil, errors.New("no requirements")
	}
	if iv == 0 {
		st := make([]time.Time, len(reqs))
		for i, r := range reqs {
			st[i] = r.Start
		}
		iv = step(st, 30*time.Minute)
	}
	if iv < time.Minute || (24*time.Hour)%iv != 0 {
		return nil, fmt.Errorf("interval %v must divide a day and be at least a minute", iv)
	}
	span := reqs[len(reqs)-1].Start.Sub(reqs[0].Start)
	if span/iv >= maxIntervals {
		return nil, fmt.Errorf("requirements span %v: more than %d intervals of %v", span, maxIntervals, iv)
	}
	tl := timeline{origin: reqs[0].Start, step: iv, n: int(span/iv) + 1}
	req := make([]int, tl.n)
	type window struct{ first, last int }
	var days []window
	var dayKey time.Time
	for _, r := range reqs {
		i, ok := tl.index(r.Start)
		if !ok {
			return nil, fmt.Errorf("line %d: interval %s is not on the %v grid from %s", r.Line, r.Start.Format(time.RFC3339), iv, tl.origin.Format(time.RFC3339))
		}
		req[i] = r.Scheduled
		y, m, d := r.Start.Date()
		if k := time.Date(y, m, d, 0, 0, 0, 0, r.Start.Location()); len(days) == 0 || !k.Equal(dayKey) {
			dayKey = k
			days = append(days, window{i, i})
		}
		days[len(days)-1].last = i
	}
	p := &schedule.Problem{Required: req, IntervalMinutes: int(iv / time.Minute)}
	for _, sp := range specs {
		tp, err := sp.Template(iv)
		if err != nil {
			if lenient {
				continue
			}
			return nil, err
		}
		tp.Starts = []int{}
		for _, w := range days {
			for s := w.first; s+tp.Length <= w.last+1; s++ {
				if sp.Until > 0 || sp.From > 0 {
					t := tl.at(s)
					y, m, d := t.Date()
					tod := t.Sub(time.Date(y, m, d, 0, 0, 0, 0, t.Location()))
					if tod < sp.From || (sp.Until > 0 && tod > sp.Until) {
						continue
					}
				}
				tp.Starts = append(tp.Starts, s)
			}
		}
		if len(tp.Starts) > 0 {
			p.Templates = append(p.Templates, tp)
		}
	}
	if len(p.Templates) == 0 {
		return nil, errors.New("no template fits inside any day's open hours")
	}
	return &scheduleInput{tl: tl, problem: p}, nil
}

func runSchedule(ctx context.Context, args []string, e *env) error {
	fs := newFlags("schedule", scheduleUsage, e)
	reqFile := fs.String("requirements", "", "requirements CSV: interval,scheduled (or agents) (required)")
	tplFile := fs.String("templates", "", "shift templates CSV (default: built-in part-4h, mid-6h, full-8h)")
	budget := fs.Duration("time", 10*time.Second, "time limit of the optimiser")
	interval := fs.Duration("interval", 0, "interval length (default: inferred from the requirements)")
	seed := fs.Uint64("seed", 1, "seed of the optimiser's randomised search")
	out := fs.String("out", "", "shifts CSV to write (stdout when absent)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *reqFile == "" {
		fs.Usage()
		return fmt.Errorf("%w: --requirements is required", ErrUsage)
	}
	if *budget <= 0 || *budget > time.Hour {
		return fmt.Errorf("%w: --time %v outside (0, 1h]", ErrUsage, *budget)
	}
	reqs, err := readFile(e, *reqFile, ReadRequirements)
	if err != nil {
		return err
	}
	specs := DefaultTemplates()
	if *tplFile != "" {
		if specs, err = readFile(e, *tplFile, ReadTemplates); err != nil {
			return err
		}
	}
	in, err := buildProblem(reqs, specs, *interval, *tplFile == "")
	if err != nil {
		return fmt.Errorf("%s: %w", *reqFile, err)
	}
	sctx, cancel := context.WithTimeout(ctx, *budget)
	defer cancel()
	start := e.now()
	sol, solveErr := schedule.Solve(sctx, in.problem, schedule.Options{Seed: *seed})
	if sol == nil {
		return fmt.Errorf("optimise: %w", solveErr)
	}
	elapsed := e.now().Sub(start)
	if err := schedule.CheckCoverage(in.problem, sol); err != nil {
		return fmt.Errorf("optimise: %w", err)
	}
	if _, err := writeOut(e, *out, func(w io.Writer) error { return writeShifts(w, in, sol) }); err != nil {
		return err
	}
	shifts := 0
	for _, s := range sol.Shifts {
		shifts += s.Agents
	}
	need := 0.0
	for _, r := range in.problem.Required {
		need += float64(r) * in.tl.step.Hours()
	}
	rw := reportTo(e, *out)
	fmt.Fprintf(rw, "%d intervals of %v, %d shift columns; requirement %.1f agent-hours\n", in.tl.n, in.tl.step, sol.Columns, need)
	fmt.Fprintf(rw, "schedule: %d agent-shifts, cost %.2f paid hours\n", shifts, sol.Cost)
	fmt.Fprintf(rw, "lower bound %.2f paid hours (LP relaxation %.3f, %s); gap %.2f %%\n",
		sol.LowerBound, sol.LPValue, sol.LPStatus, 100*sol.Gap)
	fmt.Fprintf(rw, "time %.2fs\n", elapsed.Seconds())
	if solveErr != nil {
		fmt.Fprintf(rw, "warning: %v\n", solveErr)
	}
	return nil
}

// writeShifts writes one row per used shift column:
// shift,template,start,end,paid_hours,agents,breaks, with breaks as
// ";"-separated RFC 3339 start/end pairs.
func writeShifts(w io.Writer, in *scheduleInput, sol *schedule.Solution) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"shift", "template", "start", "end", "paid_hours", "agents", "breaks"}); err != nil {
		return fmt.Errorf("write shifts header: %w", err)
	}
	for k, s := range sol.Shifts {
		c := s.Column
		tp := in.problem.Templates[c.Template]
		var br []string
		for b, off := range c.BreakStarts {
			bs := in.tl.at(c.Start + off)
			be := bs.Add(time.Duration(tp.Breaks[b].Length) * in.tl.step)
			br = append(br, bs.Format(time.RFC3339)+"/"+be.Format(time.RFC3339))
		}
		rec := []string{
			strconv.Itoa(k + 1), tp.Name,
			in.tl.at(c.Start).Format(time.RFC3339), in.tl.at(c.Start + tp.Length).Format(time.RFC3339),
			strconv.FormatFloat(c.Cost, 'f', 2, 64), strconv.Itoa(s.Agents), strings.Join(br, ";"),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write shifts: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write shifts: %w", err)
	}
	return nil
}

// ShiftRow is one row of a shifts CSV: agents working from Start to End,
// away during Breaks.
type ShiftRow struct {
	// Template names the shift kind (may be empty).
	Template string
	// Start and End bound the shift.
	Start, End time.Time
	// Agents is how many agents work it.
	Agents int
	// Breaks are [start, end) pairs when the agents are away.
	Breaks [][2]time.Time
}

// On reports how many agents of the row are working at t.
func (s ShiftRow) On(t time.Time) int {
	if t.Before(s.Start) || !t.Before(s.End) {
		return 0
	}
	for _, b := range s.Breaks {
		if !t.Before(b[0]) && t.Before(b[1]) {
			return 0
		}
	}
	return s.Agents
}

// ReadShifts reads a shifts CSV as written by `starpost wfm schedule`:
// start, end, agents (1 when the column is absent, one row per agent) and
// an optional breaks column of ";"-separated start/end timestamp pairs.
func ReadShifts(file string, r io.Reader) ([]ShiftRow, error) {
	t, err := readTable(file, r)
	if err != nil {
		return nil, err
	}
	return shiftsFrom(t)
}

func shiftsFrom(t *table) ([]ShiftRow, error) {
	si, err := t.need("start")
	if err != nil {
		return nil, err
	}
	ei, err := t.need("end")
	if err != nil {
		return nil, err
	}
	ai, bi, ti := t.col("agents"), t.col("breaks"), t.col("template")
	var out []ShiftRow
	for r := range t.rows {
		var s ShiftRow
		if s.Start, err = t.timeAt(r, si); err != nil {
			return nil, err
		}
		if s.End, err = t.timeAt(r, ei); err != nil {
			return nil, err
		}
		if !s.End.After(s.Start) || s.End.Sub(s.Start) > 24*time.Hour {
			return nil, t.errAt(r, ei, errors.New("end must be after start, at most 24 h later"))
		}
		s.Agents = 1
		if ai >= 0 {
			if s.Agents, err = t.intAt(r, ai, 0, maxCount); err != nil {
				return nil, err
			}
		}
		s.Template, _ = t.cell(r, ti)
		if v, _ := t.cell(r, bi); v != "" {
			for _, part := range strings.Split(v, ";") {
				a, b, ok := strings.Cut(strings.TrimSpace(part), "/")
				bs, err1 := parseStamp(a)
				be, err2 := parseStamp(b)
				if !ok || err1 != nil || err2 != nil || !be.After(bs) || bs.Before(s.Start) || be.After(s.End) {
					return nil, t.errAt(r, bi, fmt.Errorf("break %q: want START/END timestamps inside the shift", part))
				}
				s.Breaks = append(s.Breaks, [2]time.Time{bs, be})
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, &InputError{File: t.file, Err: errors.New("no shifts")}
	}
	return out, nil
}

func parseStamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts() {
		if ts, err := time.Parse(l, s); err == nil {
			return ts, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q", s)
}
