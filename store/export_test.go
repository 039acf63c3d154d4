package store

import (
	"context"

	"github.com/starpost/starpost"
)

// AppendBatchForTest commits the given Append calls as ONE batch, as the
// committer does when they arrive together, and returns each call's result.
// Tests must not run other Appends on db at the same time.
func (db *DB) AppendBatchForTest(ctx context.Context, calls ...[]*starpost.Event) ([][]*starpost.Event, []error) {
	reqs := make([]*appendReq, len(calls))
	for i, c := range calls {
		reqs[i] = &appendReq{ctx: ctx, events: c, done: make(chan appendResult, 1)}
	}
	db.commitBatch(reqs)
	out := make([][]*starpost.Event, len(calls))
	errs := make([]error, len(calls))
	for i, r := range reqs {
		res := <-r.done
		out[i], errs[i] = res.events, res.err
	}
	return out, errs
}

// WrapWALSyncForTest replaces the fsync of a SQLite file store's WAL with
// wrap(real), so tests can hold it or make it fail. It reports false for
// stores without one (PostgreSQL, in-memory SQLite). Call it before any
// Append.
func (db *DB) WrapWALSyncForTest(wrap func(real func() error) error) bool {
	if db.wal == nil {
		return false
	}
	real := db.wal.syncFile
	db.wal.syncFn = func() error { return wrap(real) }
	return true
}

// SetWALRestartFramesForTest lowers the WAL size (in frames) past which the
// committer rewinds the WAL; false for stores without a checkpointer.
func (db *DB) SetWALRestartFramesForTest(n int64) bool {
	if db.ckpt == nil {
		return false
	}
	db.ckpt.restartFrames.Store(n)
	return true
}
