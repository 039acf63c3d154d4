package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost/wfm"
)

// InputError is bad input in a CSV file: it names the file, the 1-based
// line and column, and the column's header name when known. It is the
// 4xx-style error of the CLI: the planner's file is wrong, not the program.
type InputError struct {
	// File is the file name as given on the command line.
	File string
	// Line is the 1-based line number (0 when the whole file is at fault).
	Line int
	// Column is the 1-based column number (0 when the whole line is at fault).
	Column int
	// Field is the column's header name, if any.
	Field string
	// Err is the underlying problem.
	Err error
}

// Error implements error as "file:line:column (field): problem".
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (%s)", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *InputError) Unwrap() error { return e.Err }

// table is a CSV file with a header row, read whole.
type table struct {
	file string
	head []string
	cols map[string]int
	rows [][]string
	line []int // line[i] is the 1-based line where rows[i] starts
}

// maxRows bounds the rows read from one file so hostile input cannot
// exhaust memory (a year at 5 minutes is about 105,000 rows).
const maxRows = 2_000_000

// readTable reads a CSV with a header row. Header names are matched
// case-insensitively, ignoring a UTF-8 byte-order mark and spaces.
func readTable(file string, r io.Reader) (*table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &InputError{File: file, Line: 1, Err: errors.New("empty file, want a header row")}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	t := &table{file: file, cols: map[string]int{}}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		t.head = append(t.head, h)
		if _, dup := t.cols[h]; !dup && h != "" {
			t.cols[h] = i
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		if len(t.rows) >= maxRows {
			return nil, &InputError{File: file, Err: fmt.Errorf("more than %d rows", maxRows)}
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line a spreadsheet left behind
		}
		t.rows = append(t.rows, rec)
		t.line = append(t.line, line)
	}
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{File: file, Line: pe.Line, Column: pe.Column, Err: pe.Err}
	}
	return fmt.Errorf("read %s: %w", file, err)
}

// col returns the index of the first header among names, or -1.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.cols[n]; ok {
			return i
		}
	}
	return -1
}

// need returns the index of the first header among names or an error
// naming the wanted column.
func (t *table) need(names ...string) (int, error) {
	if i := t.col(names...); i >= 0 {
		return i, nil
	}
	return -1, &InputError{File: t.file, Line: 1, Err: fmt.Errorf("header %q has no %s column", strings.Join(t.head, ","), strings.Join(names, " or "))}
}

// cell returns row r's value in column c (trimmed) and whether it exists.
func (t *table) cell(r, c int) (string, bool) {
	if c < 0 || c >= len(t.rows[r]) {
		return "", false
	}
	return strings.TrimSpace(t.rows[r][c]), true
}

// errAt builds an InputError for row r, column c.
func (t *table) errAt(r, c int, err error) error {
	e := &InputError{File: t.file, Line: t.line[r], Column: c + 1, Err: err}
	if c >= 0 && c < len(t.head) {
		e.Field = t.head[c]
	}
	return e
}

// required returns row r's non-empty value in column c.
func (t *table) required(r, c int) (string, error) {
	v, ok := t.cell(r, c)
	if !ok {
		return "", t.errAt(r, c, fmt.Errorf("missing: the row has %d fields", len(t.rows[r])))
	}
	if v == "" {
		return "", t.errAt(r, c, errors.New("empty"))
	}
	return v, nil
}

// timeLayouts are the timestamp layouts the CLI accepts, tried in order.
func timeLayouts() []string {
	return []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006/01/02 15:04"}
}

func (t *table) timeAt(r, c int) (time.Time, error) {
	v, err := t.required(r, c)
	if err != nil {
		return time.Time{}, err
	}
	for _, l := range timeLayouts() {
		if ts, err := time.Parse(l, v); err == nil {
			return ts, nil
		}
	}
	return time.Time{}, t.errAt(r, c, fmt.Errorf("timestamp %q: want RFC 3339 or YYYY-MM-DD HH:MM", v))
}

// numberAt parses a finite number in [lo, hi]; a trailing % divides by 100.
func (t *table) numberAt(r, c int, lo, hi float64) (float64, error) {
	v, err := t.required(r, c)
	if err != nil {
		return 0, err
	}
	f, err := parseNumber(v)
	if err != nil {
		return 0, t.errAt(r, c, err)
	}
	if f < lo || f > hi {
		return 0, t.errAt(r, c, fmt.Errorf("%v outside [%v, %v]", f, lo, hi))
	}
	return f, nil
}

// intAt parses a whole number in [lo, hi].
func (t *table) intAt(r, c int, lo, hi int) (int, error) {
	v, err := t.required(r, c)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, t.errAt(r, c, fmt.Errorf("%q is not a whole number", v))
	}
	if n < lo || n > hi {
		return 0, t.errAt(r, c, fmt.Errorf("%d outside [%d, %d]", n, lo, hi))
	}
	return n, nil
}

func parseNumber(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// maxCount bounds per-interval contacts and agents read from files.
const maxCount = 1e7

// ReadForecast reads a forecast CSV as written by `starpost wfm forecast`:
// a header with interval (or start), contacts (or count, calls, volume)
// and optionally aht_seconds (or aht, handle_seconds); blank handle times
// are zero (the staffing default applies). Rows must be in increasing
// time order.
func ReadForecast(file string, r io.Reader) ([]wfm.IntervalForecast, error) {
	rows, err := readIntervals(file, r, []string{"contacts", "count", "calls", "volume", "offered"},
		[]string{"aht_seconds", "aht", "handle_seconds", "handle_time"}, true)
	if err != nil {
		return nil, err
	}
	out := make([]wfm.IntervalForecast, len(rows))
	for i, x := range rows {
		out[i] = wfm.IntervalForecast{Start: x.start, Contacts: x.count, HandleTime: time.Duration(math.Round(x.aht * float64(time.Second)))}
	}
	return out, nil
}

// ReadHistory reads interval history: a header with interval (or start,
// datetime, time, timestamp), count (or contacts, calls, volume, offered)
// and optionally aht (or aht_seconds, handle_time, handle_seconds), the
// mean handle time in seconds of the interval's contacts. Other columns
// are ignored. It accepts what wfm.ReadHistory accepts, but reports bad
// input by line and column, and rows may come in any order.
func ReadHistory(file string, r io.Reader) ([]wfm.Observation, error) {
	rows, err := readIntervals(file, r, []string{"count", "contacts", "calls", "volume", "offered"},
		[]string{"aht", "aht_seconds", "handle_time", "handle_seconds"}, false)
	if err != nil {
		return nil, err
	}
	out := make([]wfm.Observation, len(rows))
	for i, x := range rows {
		out[i] = wfm.Observation{Start: x.start, Count: x.count, HandleSeconds: x.aht * x.count}
	}
	return out, nil
}

// intervalRow is one row of a forecast or history file.
type intervalRow struct {
	start time.Time
	count float64
	aht   float64 // mean handle time in seconds; 0 when blank or absent
}

// readIntervals reads the rows of an interval file: the interval start, the
// count (the first of countNames in the header) and the optional mean
// handle time (the first of ahtNames). With ordered, rows must be in
// increasing time order. Bad input is reported by line and column.
func readIntervals(file string, r io.Reader, countNames, ahtNames []string, ordered bool) ([]intervalRow, error) {
	t, err := readTable(file, r)
	if err != nil {
		return nil, err
	}
	ti, err := t.need("interval", "start", "datetime", "time", "timestamp")
	if err != nil {
		return nil, err
	}
	ci, err := t.need(countNames...)
	if err != nil {
		return nil, err
	}
	ai := t.col(ahtNames...)
	out := make([]intervalRow, 0, len(t.rows))
	for r := range t.rows {
		ts, err := t.timeAt(r, ti)
		if err != nil {
			return nil, err
		}
		if ordered && len(out) > 0 && !ts.After(out[len(out)-1].start) {
			return nil, t.errAt(r, ti, fmt.Errorf("%s is not after the previous row", ts.Format(time.RFC3339)))
		}
		n, err := t.numberAt(r, ci, 0, maxCount)
		if err != nil {
			return nil, err
		}
		x := intervalRow{start: ts, count: n}
		if v, ok := t.cell(r, ai); ok && v != "" {
			if x.aht, err = t.numberAt(r, ai, 0, 86400); err != nil {
				return nil, err
			}
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, &InputError{File: file, Err: errors.New("no rows")}
	}
	return out, nil
}

// Staffed is the number of agents in one interval, read from a
// requirements or shifts file.
type Staffed struct {
	// Start is the beginning of the interval.
	Start time.Time
	// Agents is the productive (net) number of agents.
	Agents int
	// Scheduled is the number of agents on shift, before shrinkage.
	Scheduled int
	// Line is the CSV line the interval came from.
	Line int
}

// ReadRequirements reads a requirements CSV as written by `starpost wfm
// staff`: interval, agents (net) and scheduled (with shrinkage); a file
// with only one of agents, scheduled or required uses it for both. Rows
// must be in increasing time order.
func ReadRequirements(file string, r io.Reader) ([]Staffed, error) {
	t, err := readTable(file, r)
	if err != nil {
		return nil, err
	}
	return requirementsFrom(t)
}

func requirementsFrom(t *table) ([]Staffed, error) {
	ti, err := t.need("interval", "start", "datetime", "time", "timestamp")
	if err != nil {
		return nil, err
	}
	ai := t.col("agents", "required", "required_agents")
	si := t.col("scheduled")
	if ai < 0 && si < 0 {
		return nil, &InputError{File: t.file, Line: 1, Err: fmt.Errorf("header %q has no agents, scheduled or required column", strings.Join(t.head, ","))}
	}
	out := make([]Staffed, 0, len(t.rows))
	for r := range t.rows {
		ts, err := t.timeAt(r, ti)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && !ts.After(out[len(out)-1].Start) {
			return nil, t.errAt(r, ti, fmt.Errorf("%s is not after the previous row", ts.Format(time.RFC3339)))
		}
		s := Staffed{Start: ts, Line: t.line[r]}
		if ai >= 0 {
			if s.Agents, err = t.intAt(r, ai, 0, maxCount); err != nil {
				return nil, err
			}
			s.Scheduled = s.Agents
		}
		if si >= 0 {
			if s.Scheduled, err = t.intAt(r, si, 0, maxCount); err != nil {
				return nil, err
			}
			if ai < 0 {
				s.Agents = s.Scheduled
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, &InputError{File: t.file, Err: errors.New("no rows")}
	}
	return out, nil
}

// ReadEvents reads an events calendar CSV: date (YYYY-MM-DD) and kind
// (such as 11.11, 618 or launch), one row per event day.
func ReadEvents(file string, r io.Reader, loc *time.Location) (wfm.Calendar, error) {
	t, err := readTable(file, r)
	if err != nil {
		return wfm.Calendar{}, err
	}
	di, err := t.need("date", "day")
	if err != nil {
		return wfm.Calendar{}, err
	}
	ki, err := t.need("kind", "event", "name")
	if err != nil {
		return wfm.Calendar{}, err
	}
	var cal wfm.Calendar
	for r := range t.rows {
		v, err := t.required(r, di)
		if err != nil {
			return wfm.Calendar{}, err
		}
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return wfm.Calendar{}, t.errAt(r, di, fmt.Errorf("date %q: want YYYY-MM-DD", v))
		}
		k, err := t.required(r, ki)
		if err != nil {
			return wfm.Calendar{}, err
		}
		cal.Events = append(cal.Events, wfm.Event{Kind: k, Date: d})
	}
	return cal, nil
}
