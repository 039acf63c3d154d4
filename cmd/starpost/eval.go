package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/starpost/starpost/bot"
	"github.com/starpost/starpost/emotion"
	"github.com/starpost/starpost/text"
	"github.com/starpost/starpost/wfm"
	"github.com/starpost/starpost/wfm/schedule"
)

const evalUsage = `usage: starpost eval <set> [--data FOLDER]

Quality figures on public data, read by path (default ../shared/data/<set folder>):
  forecast   WAPE per method and lead on callcenter_us_bank_2003 (last 20 business days)
  staffing   Erlang A against a discrete-event simulation over a grid of loads
  schedule   shift covering on wfm_shift_instance: cost, lower bound, gap, time
  intent     BANKING77 train → test: accuracy, macro-F1, training time, latency
  match      AFQMC train → dev: accuracy and positive-class F1
  emotion    COLD, ChnSentiCorp, SMP2020-EWECT, GoEmotions: accuracy and macro-F1 on the test splits
  bot        BANKING77 train → test with the bot's model: accuracy, calibration (ECE), policy, out-of-scope
  tags       BANKING77: the bot's accuracy from 5 FAQ variants per intent plus a growing share of tagged conversations
`

// evalSets maps an eval name to its default data folder and its runner.
func evalSets() map[string]struct {
	folder string
	run    func(ctx context.Context, dir string, w io.Writer) error
} {
	type set = struct {
		folder string
		run    func(ctx context.Context, dir string, w io.Writer) error
	}
	return map[string]set{
		"forecast": {"callcenter_us_bank_2003", func(ctx context.Context, dir string, w io.Writer) error {
			_, err := wfm.EvalForecast(ctx, dir, w)
			return err
		}},
		"staffing": {"", func(_ context.Context, _ string, w io.Writer) error { return wfm.EvalStaffing(w) }},
		"schedule": {"wfm_shift_instance", func(ctx context.Context, dir string, w io.Writer) error {
			_, err := schedule.EvalSchedule(ctx, dir, w) // its own deadline: schedule.DefaultEvalBudget

			return err
		}},
		"intent": {"banking77", func(ctx context.Context, dir string, w io.Writer) error {
			_, err := text.EvalIntent(ctx, dir, w)
			return err
		}},
		"match": {"afqmc", func(ctx context.Context, dir string, w io.Writer) error {
			_, err := text.EvalMatch(ctx, dir, w)
			return err
		}},
		"emotion": {"", func(ctx context.Context, dir string, w io.Writer) error {
			_, err := emotion.Eval(ctx, dir, w)
			return err
		}},
		// The bot's intent model and policy (package bot).
		"bot": {"banking77", func(ctx context.Context, dir string, w io.Writer) error {
			_, err := bot.EvalBANKING77(ctx, dir, w)
			return err
		}},
		// What intent tags of resolved conversations add to a small FAQ.
		"tags": {"banking77", func(ctx context.Context, dir string, w io.Writer) error {
			_, err := bot.EvalTagLearning(ctx, dir, 5, w)
			return err
		}},
	}
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, evalUsage)
		return fmt.Errorf("eval: name a data set")
	}
	set, ok := evalSets()[args[0]]
	if !ok {
		fmt.Fprint(stderr, evalUsage)
		return fmt.Errorf("eval: unknown set %q", args[0])
	}
	fs := flag.NewFlagSet("eval "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", filepath.Join("..", "shared", "data", set.folder), "folder of the data set")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	start := time.Now()
	if err := set.run(ctx, *data, stdout); err != nil {
		return fmt.Errorf("eval %s: %w", args[0], err)
	}
	fmt.Fprintf(stdout, "eval %s took %s\n", args[0], time.Since(start).Round(time.Millisecond))
	return nil
}

const trainUsage = `usage: starpost train emotion [--data ../shared/data] [--out emotion/models]

Rebuilds the emotion models that ship inside the binary (embedded from
emotion/models) from the public data sets; the output is the same on every run.
`

// runTrain rebuilds models that ship with the binary.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "emotion" {
		fmt.Fprint(stderr, trainUsage)
		return fmt.Errorf("train: name a model set (emotion)")
	}
	fs := flag.NewFlagSet("train emotion", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", filepath.Join("..", "shared", "data"), "the shared public data folder")
	out := fs.String("out", filepath.Join("emotion", "models"), "where to write the model files")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if _, err := emotion.Train(ctx, *data, *out, stdout); err != nil {
		return fmt.Errorf("train emotion: %w", err)
	}
	return nil
}
