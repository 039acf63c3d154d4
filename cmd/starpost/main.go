// Command starpost runs the Starpost customer-service platform.
//
//	starpost serve     the server (SQLite + embedded NATS by default)
//	starpost demo      the server plus simulated customers and agents
//	starpost migrate   apply database migrations and exit
//	starpost bench     benchmarks that print figures (router, e2e)
//	starpost eval      quality figures on public data (forecast, schedule, intent ...)
//	starpost wfm       workforce planning on CSV (forecast, staff, schedule, simulate)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/starpost/starpost/wfm/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "starpost:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: starpost <command> [flags]

commands:
  serve     run the server (default)
  demo      run the server with simulated customers and agents
  migrate   apply database migrations and exit
  bench     run a benchmark: router | e2e
  eval      quality figures on public data: forecast | staffing | schedule | intent | match | emotion
  train     rebuild the models shipped in the binary: emotion
  wfm       workforce planning on CSV files: forecast | staff | schedule | simulate
  version   print the version

Run "starpost <command> -h" for the flags of a command.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr, false)
	case "demo":
		return runServe(ctx, args, stdout, stderr, true)
	case "migrate":
		return runMigrate(ctx, args, stdout, stderr)
	case "bench":
		return runBench(ctx, args, stdout, stderr)
	case "eval":
		return runEval(ctx, args, stdout, stderr)
	case "train":
		return runTrain(ctx, args, stdout, stderr)
	case "wfm":
		return cli.Run(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "starpost", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
