package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

// runMigrate applies the database migrations (store.Open does) and exits.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	cfg.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.dsn(), starpost.SystemClock{}, log)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	fmt.Fprintf(stdout, "database %s is up to date\n", redact(cfg.dsn()))
	return nil
}
