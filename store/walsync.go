package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/starpost/starpost"
)

// Durability on SQLite without making the committer wait for the disk.
//
// With synchronous=FULL, SQLite fsyncs its write-ahead log inside COMMIT, so
// the single writer connection, and with it every batch behind, waits for
// the disk: the disk, not the CPU, set the pace. The committer therefore
// runs its batches with synchronous=NORMAL (COMMIT writes the WAL frames but
// does not fsync them; checkpoints still sync the WAL before copying it and
// the database file after; the connection is back at FULL for every other
// writer between batches), and the committer hands each committed batch
// to the syncer goroutine, which fsyncs the WAL file and only then answers
// the batch's calls. While the syncer waits for the disk the committer
// already builds and commits the next batch, and one fsync covers every
// batch committed before it started. The guarantee is the same as FULL's:
// an Append returns only once its events are on disk (kill -9 and power
// loss), and since the WAL is a log, what survives a crash is always a
// prefix of the committed batches.
//
// Two consequences. Answers leave in commit order, so a retried idempotency
// key, answered from a batch that found the original already committed,
// waits for the original's fsync too. And SQLite's readers may see a batch
// for the length of one fsync before it is durable: a crash of the machine
// (not of the process: the kernel keeps what was written) in that moment
// loses events some reader saw but no writer was told were stored.

// syncItem is a committed batch waiting for the WAL to reach the disk.
type syncItem struct {
	reqs    []*appendReq
	results []appendResult
}

// walSyncer fsyncs SQLite's WAL file for the committer (see above). Only
// the syncer goroutine calls sync; the committer reads err.
type walSyncer struct {
	path   string       // the WAL file: the database path + "-wal"
	dir    string       // its folder, synced once for every new WAL file
	last   fs.FileInfo  // the WAL file whose folder entry was last synced
	syncFn func() error // syncFile; tests wrap it

	mu     sync.Mutex // guards failed, never held during an fsync
	failed error      // set by the first failed fsync; the store then refuses writes
}

// sync makes everything written to the WAL so far durable. The WAL file
// is opened by name each time: SQLite deletes and recreates it when the
// last connection closes, and an old descriptor would sync a file no
// longer in use. No WAL file means it was checkpointed into the database,
// which SQLite synced. After a failed fsync the kernel may have dropped
// the pages it could not write, so a later fsync proves nothing: the
// failure sticks and every later write fails until the process restarts.
func (s *walSyncer) sync() error {
	if err := s.err(); err != nil {
		return err
	}
	if err := s.syncFn(); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.failed = starpost.Errorf(starpost.EUNAVAILABLE, "store: writing the SQLite WAL to disk failed (%v); restart the server", err)
		return s.failed
	}
	return nil
}

func (s *walSyncer) syncFile() error {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open WAL: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync WAL: %w", err)
	}
	// A new WAL file's name must reach the disk too: sync the folder once
	// per file.
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat WAL: %w", err)
	}
	if s.last != nil && os.SameFile(fi, s.last) {
		return nil
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("open database folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync database folder: %w", err)
	}
	s.last = fi
	return nil
}

// err returns the sticky fsync failure, if any.
func (s *walSyncer) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func newWALSyncer(dbPath string) *walSyncer {
	s := &walSyncer{path: dbPath + "-wal", dir: filepath.Dir(dbPath)}
	s.syncFn = s.syncFile
	return s
}

// syncLoop answers committed batches once the WAL holding them is on disk:
// it takes every batch waiting, fsyncs once, and answers them in commit
// order. It ends when the committer closes db.syncq.
func (db *DB) syncLoop() {
	defer close(db.synced)
	var items []syncItem
	for it := range db.syncq {
		items = append(items[:0], it)
	drain:
		for {
			select {
			case it, ok := <-db.syncq:
				if !ok {
					break drain
				}
				items = append(items, it)
			default:
				break drain
			}
		}
		err := db.wal.sync()
		if err != nil {
			db.logger.Error("sync SQLite WAL", "err", err)
		}
		for _, it := range items {
			for i, r := range it.reqs {
				if err != nil {
					r.done <- appendResult{err: err}
					continue
				}
				r.done <- it.results[i]
			}
		}
		clear(items)
	}
}
