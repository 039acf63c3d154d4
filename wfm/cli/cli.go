// Package cli is `starpost wfm`, the workforce-management commands for
// planners who live in spreadsheets: forecast, staff, schedule and
// simulate each read CSV and write CSV (to --out, or stdout), so a planner
// can chain them or open any step in a spreadsheet.
//
//	starpost wfm forecast --history calls.csv --days 5 --out forecast.csv
//	starpost wfm staff --forecast forecast.csv --target 80/20 --shrinkage 0.3 --out requirements.csv
//	starpost wfm schedule --requirements requirements.csv --out shifts.csv
//	starpost wfm simulate --forecast forecast.csv --staff shifts.csv --shrinkage 0.3
//
// Bad input is reported as an *InputError naming the file, line and column;
// the commands never panic on what they read.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Usage is the overview printed by `starpost wfm` without a command.
const Usage = `usage: starpost wfm <command> [flags]

Workforce management on CSV files (stdout when --out is absent):
  forecast   history → forecast per interval for the next business days (method picked by backtest)
  staff      forecast → agents required per interval (Erlang C, or Erlang A with --patience)
  schedule   requirements → shifts that cover them at least paid hours (LP bound and gap)
  simulate   forecast + staffing → simulated service level, ASA, abandonment vs Erlang

Run "starpost wfm <command> -h" for a command's flags.
`

// ErrUsage is wrapped by errors caused by the command line itself.
var ErrUsage = errors.New("usage")

// env holds what a command needs from the outside world, so tests can
// inject files and a clock.
type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
	open           func(name string) (io.ReadCloser, error)
	create         func(name string) (io.WriteCloser, error)
}

func osEnv(stdout, stderr io.Writer) *env {
	return &env{
		stdout: stdout, stderr: stderr, now: time.Now,
		open: func(name string) (io.ReadCloser, error) { return os.Open(name) },
		create: func(name string) (io.WriteCloser, error) {
			return os.Create(name)
		},
	}
}

// Run runs `starpost wfm` with args (the words after "wfm"), writing CSV
// and reports to stdout and diagnostics to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, osEnv(stdout, stderr))
}

func run(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, Usage)
		return fmt.Errorf("%w: name a command", ErrUsage)
	}
	cmds := map[string]func(context.Context, []string, *env) error{
		"forecast": runForecast,
		"staff":    runStaff,
		"schedule": runSchedule,
		"simulate": runSimulate,
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, Usage)
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprint(e.stderr, Usage)
		return fmt.Errorf("%w: unknown command %q", ErrUsage, args[0])
	}
	if err := c(ctx, args[1:], e); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("wfm %s: %w", args[0], err)
	}
	return nil
}

// newFlags returns a flag set that reports to stderr and does not exit.
func newFlags(name, usage string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("wfm "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and rejects stray positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// readFile opens name and hands it to read.
func readFile[T any](e *env, name string, read func(file string, r io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := e.open(name)
	if err != nil {
		return zero, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	v, err := read(filepath.Base(name), f)
	if err != nil {
		return zero, err
	}
	return v, nil
}

// writeOut writes through write to the --out file, or stdout when out is
// empty. It reports whether stdout was used, so reports go to stderr then.
func writeOut(e *env, out string, write func(io.Writer) error) (toStdout bool, err error) {
	if out == "" {
		return true, write(e.stdout)
	}
	f, err := e.create(out)
	if err != nil {
		return false, fmt.Errorf("create %s: %w", out, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return false, fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("close %s: %w", out, err)
	}
	return false, nil
}

// reportTo is where a command's human-readable report goes: stdout when
// the CSV went to a file, stderr when the CSV itself is on stdout.
func reportTo(e *env, out string) io.Writer {
	if out == "" {
		return e.stderr
	}
	return e.stdout
}

// parseSeconds reads a duration given as seconds ("20") or with a unit
// ("20s", "2m").
func parseSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if f, err := parseNumber(s); err == nil {
		if f < 0 || f > 86400*7 {
			return 0, fmt.Errorf("%v seconds out of range", f)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither seconds nor a duration like 20s", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %v", d)
	}
	return d, nil
}

// step returns the interval of evenly spaced starts: the smallest gap
// between consecutive starts, or def when there is a single start.
func step(starts []time.Time, def time.Duration) time.Duration {
	best := time.Duration(0)
	for i := 1; i < len(starts); i++ {
		if d := starts[i].Sub(starts[i-1]); d > 0 && (best == 0 || d < best) {
			best = d
		}
	}
	if best == 0 {
		return def
	}
	return best
}
