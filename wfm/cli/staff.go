package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost/wfm"
)

const staffUsage = `usage: starpost wfm staff --forecast forecast.csv --target 80/20 [--asa S] [--abandon P] [--patience S] [--shrinkage 0.3] [--channel voice|chat --concurrency K] [--out requirements.csv]

Sizes every forecast interval: Erlang C, or Erlang A (customers abandon)
when --patience is set; chat agents handle --concurrency conversations at
once. Writes interval,contacts,aht_seconds,agents,scheduled,service_level,
asa_seconds,abandon_rate,occupancy: agents are productive (net) agents,
scheduled adds shrinkage.

`

// staffOptions are the parsed staffing flags shared with simulate.
type staffOptions struct {
	target    wfm.Target
	patience  time.Duration
	aht       time.Duration
	interval  time.Duration // 0: inferred from the forecast
	plan      wfm.StaffPlan
	shrinkage float64
}

// staffFlags registers the staffing flags on fs and returns a function
// that validates them after parsing.
func staffFlags(fs *flag.FlagSet) func() (staffOptions, error) {
	target := fs.String("target", "80/20", "service level X/Y: X % answered within Y seconds (\"\" for none)")
	asa := fs.String("asa", "", "maximum average speed of answer, seconds (or 30s)")
	abandon := fs.String("abandon", "", "maximum abandonment rate: 0.05 or 5% (needs --patience)")
	occupancy := fs.String("occupancy", "", "maximum occupancy: 0.85 or 85%")
	patience := fs.String("patience", "", "mean customer patience, seconds (Erlang A); absent: Erlang C")
	shrinkage := fs.Float64("shrinkage", 0, "share of paid time not available for contacts, 0 ≤ s < 1")
	channel := fs.String("channel", "voice", "voice or chat")
	concurrency := fs.Int("concurrency", 1, "chat conversations per agent at once (chat only)")
	aht := fs.String("aht", "300", "handle time, seconds, for intervals whose forecast has none")
	interval := fs.Duration("interval", 0, "interval length (default: inferred from the forecast's timestamps)")
	return func() (staffOptions, error) {
		var o staffOptions
		var err error
		if *target != "" {
			if o.target.ServiceLevel, o.target.AnswerWithin, err = parseTarget(*target); err != nil {
				return o, fmt.Errorf("%w: --target: %v", ErrUsage, err)
			}
		}
		if o.target.MaxASA, err = parseSeconds(*asa); err != nil {
			return o, fmt.Errorf("%w: --asa: %v", ErrUsage, err)
		}
		if *abandon != "" {
			if o.target.MaxAbandon, err = parseFraction(*abandon); err != nil {
				return o, fmt.Errorf("%w: --abandon: %v", ErrUsage, err)
			}
		}
		if *occupancy != "" {
			if o.target.MaxOccupancy, err = parseFraction(*occupancy); err != nil {
				return o, fmt.Errorf("%w: --occupancy: %v", ErrUsage, err)
			}
		}
		if o.patience, err = parseSeconds(*patience); err != nil {
			return o, fmt.Errorf("%w: --patience: %v", ErrUsage, err)
		}
		if o.target.MaxAbandon > 0 && o.patience == 0 {
			return o, fmt.Errorf("%w: --abandon needs --patience (Erlang C has no abandonment)", ErrUsage)
		}
		if err := o.target.Validate(); err != nil {
			return o, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if o.aht, err = parseSeconds(*aht); err != nil || o.aht <= 0 {
			return o, fmt.Errorf("%w: --aht must be a positive number of seconds", ErrUsage)
		}
		if *interval < 0 {
			return o, fmt.Errorf("%w: --interval must not be negative", ErrUsage)
		}
		o.interval = *interval
		o.shrinkage = *shrinkage
		o.plan = wfm.StaffPlan{Target: o.target, Shrinkage: wfm.Shrinkage{Other: *shrinkage}}
		if err := o.plan.Shrinkage.Validate(); err != nil {
			return o, fmt.Errorf("%w: --shrinkage: %v", ErrUsage, err)
		}
		switch *channel {
		case "voice":
			if *concurrency != 1 {
				return o, fmt.Errorf("%w: --concurrency applies to --channel chat", ErrUsage)
			}
		case "chat":
			if *concurrency < 1 || *concurrency > 20 {
				return o, fmt.Errorf("%w: --concurrency %d outside [1, 20]", ErrUsage, *concurrency)
			}
			o.plan.Concurrency = *concurrency
		default:
			return o, fmt.Errorf("%w: --channel %q: want voice or chat", ErrUsage, *channel)
		}
		return o, nil
	}
}

// parseTarget reads "80/20" (80 % within 20 s) or "0.8/20s".
func parseTarget(s string) (float64, time.Duration, error) {
	x, y, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want X/Y, such as 80/20", s)
	}
	sl, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(x), "%"), 64)
	if err != nil || math.IsNaN(sl) {
		return 0, 0, fmt.Errorf("%q: service level is not a number", x)
	}
	if sl >= 1 {
		sl /= 100
	}
	if sl <= 0 || sl >= 1 {
		return 0, 0, fmt.Errorf("service level %q must be between 0 and 100 %%", x)
	}
	d, err := parseSeconds(y)
	if err != nil {
		return 0, 0, err
	}
	return sl, d, nil
}

// parseFraction reads 0.05 or 5%.
func parseFraction(s string) (float64, error) {
	f, err := parseNumber(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if f <= 0 || f >= 1 {
		return 0, fmt.Errorf("%v must be between 0 and 1 (or 0 %% and 100 %%)", f)
	}
	return f, nil
}

func runStaff(ctx context.Context, args []string, e *env) error {
	fs := newFlags("staff", staffUsage, e)
	fcFile := fs.String("forecast", "", "forecast CSV: interval,contacts[,aht_seconds] (required)")
	out := fs.String("out", "", "requirements CSV to write (stdout when absent)")
	opts := staffFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *fcFile == "" {
		fs.Usage()
		return fmt.Errorf("%w: --forecast is required", ErrUsage)
	}
	o, err := opts()
	if err != nil {
		return err
	}
	fc, err := readFile(e, *fcFile, ReadForecast)
	if err != nil {
		return err
	}
	reqs, err := staff(ctx, fc, o)
	if err != nil {
		return err
	}
	if _, err := writeOut(e, *out, func(w io.Writer) error { return wfm.WriteRequirements(w, reqs) }); err != nil {
		return err
	}
	model := "Erlang C"
	if o.patience > 0 {
		model = fmt.Sprintf("Erlang A (patience %v)", o.patience)
	}
	var peak, peakSched int
	var agentHours float64
	iv := o.interval
	if iv == 0 {
		iv = step(starts(fc), 30*time.Minute)
	}
	for _, r := range reqs {
		peak, peakSched = max(peak, r.Agents), max(peakSched, r.Scheduled)
		agentHours += float64(r.Scheduled) * iv.Hours()
	}
	fmt.Fprintf(reportTo(e, *out), "%d intervals of %v by %s: peak %d agents (%d scheduled with %.0f %% shrinkage), %.1f scheduled agent-hours\n",
		len(reqs), iv, model, peak, peakSched, 100*o.shrinkage, agentHours)
	return nil
}

func starts(fc []wfm.IntervalForecast) []time.Time {
	s := make([]time.Time, len(fc))
	for i, f := range fc {
		s[i] = f.Start
	}
	return s
}

// staff sizes every interval of fc.
func staff(ctx context.Context, fc []wfm.IntervalForecast, o staffOptions) ([]wfm.Requirement, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	iv := o.interval
	if iv == 0 {
		iv = step(starts(fc), 30*time.Minute)
	}
	reqs, err := wfm.Requirements(fc, iv, o.aht, o.patience, o.plan)
	if err != nil {
		return nil, fmt.Errorf("staffing: %w", err)
	}
	return reqs, nil
}
