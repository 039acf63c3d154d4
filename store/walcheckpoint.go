package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints on SQLite, off the committer's path.
//
// A checkpoint copies the pages written to the WAL back into the database
// file and fsyncs both. SQLite runs one by itself inside the COMMIT that
// takes the WAL past 1,000 pages, so every few batches one COMMIT took
// tens of milliseconds, and every call queued behind it waited: that was
// most of the store's tail latency. The writer connection therefore runs
// with wal_autocheckpoint=0, and a background goroutine checkpoints on a
// connection of its own (PASSIVE: it never blocks the writer) every
// checkpointEvery while events are being written, copying each page once
// however often it changed in between.
//
// A passive checkpoint cannot rewind the WAL to its start: SQLite does
// that when a write transaction begins and every frame has been copied,
// which never happens while the committer keeps writing. So when the WAL
// has grown past walRestartFrames, the checkpointer copies once more and
// asks the committer to checkpoint the last few frames itself between two
// batches; its next transaction then starts the WAL afresh. That pause is
// short because the background has already copied nearly everything.

const (
	checkpointEvery  = 100 * time.Millisecond
	walRestartFrames = 16384 // 64 MiB of 4 KiB pages
)

// walCheckpointer runs the background checkpoints of a SQLite file store.
type walCheckpointer struct {
	conn    *sql.DB // its own connection to the database
	logger  *slog.Logger
	mu      sync.Mutex  // one checkpoint at a time: background or committer
	written atomic.Bool // events were committed since the last checkpoint
	rewind  atomic.Bool // the committer should checkpoint the rest and rewind the WAL
	// restartFrames is walRestartFrames (tests lower it).
	restartFrames atomic.Int64
	checkpoints   atomic.Int64 // background checkpoints run
	rewinds       atomic.Int64 // committer checkpoints that let the WAL start over
	quit          chan struct{}
	done          chan struct{}
}

// openWALCheckpointer opens the checkpointer's connection and starts it.
func openWALCheckpointer(ctx context.Context, path, common string, logger *slog.Logger) (*walCheckpointer, error) {
	// synchronous=NORMAL: a checkpoint fsyncs the WAL before it copies
	// and the database after.
	conn, err := sql.Open("sqlite", path+"?"+common+"&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	conn.SetConnMaxIdleTime(0)
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	c := &walCheckpointer{conn: conn, logger: logger, quit: make(chan struct{}), done: make(chan struct{})}
	c.restartFrames.Store(walRestartFrames)
	go c.loop()
	return c, nil
}

// checkpoint runs a passive checkpoint on db and returns how many frames
// the WAL holds and how many of them are now in the database file. The
// caller holds c.mu.
func (c *walCheckpointer) checkpoint(ctx context.Context, db *sql.DB) (log, copied int64, err error) {
	var busy int64
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied); err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return log, copied, nil
}

// loop checkpoints every checkpointEvery while events are written, until
// close.
func (c *walCheckpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.quit:
			return
		}
		if !c.written.Swap(false) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c.mu.Lock()
		log, _, err := c.checkpoint(ctx, c.conn)
		c.checkpoints.Add(1)
		if err == nil && log >= c.restartFrames.Load() && !c.rewind.Load() {
			// Copy what was written meanwhile, so the committer's share
			// is small, then ask it to finish.
			_, _, err = c.checkpoint(ctx, c.conn)
			c.rewind.Store(true)
		}
		c.mu.Unlock()
		cancel()
		if err != nil {
			c.logger.Warn("sqlite checkpoint", "err", err)
		}
	}
}

// rewindWAL is called by the committer between batches: when the
// checkpointer asked for it, it copies the WAL's last frames into the
// database on the writer connection, so that its next transaction starts
// the WAL from the beginning.
func (db *DB) rewindWAL() {
	c := db.ckpt
	if c == nil || !c.rewind.Load() {
		return
	}
	// Never wait for a background checkpoint: try again after the next
	// batch.
	if !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	c.rewind.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, _, err := c.checkpoint(ctx, db.write); err != nil {
		db.logger.Warn("sqlite checkpoint before rewinding the WAL", "err", err)
		return
	}
	c.rewinds.Add(1)
}

// close stops the checkpointer and closes its connection.
func (c *walCheckpointer) close() error {
	close(c.quit)
	<-c.done
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("close sqlite checkpointer: %w", err)
	}
	return nil
}
