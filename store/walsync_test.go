package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

// walFixture opens a SQLite file store with its WAL fsync wrapped by wrap,
// and a conversation to append to.
func walFixture(t *testing.T, wrap func(real func() error) error) (*store.DB, *starpost.Event) {
	t.Helper()
	ctx := context.Background()
	db := openDSN(t, filepath.Join(t.TempDir(), "wal.db"))
	if !db.WrapWALSyncForTest(wrap) {
		t.Fatal("a SQLite file store has no WAL syncer")
	}
	ws := &starpost.Workspace{Name: "wal"}
	must(t, db.CreateWorkspace(ctx, ws))
	out, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct", QueueID: "q"})})
	must(t, err)
	return db, out[0]
}

func walMessage(conv *starpost.Event, key string) *starpost.Event {
	return &starpost.Event{WorkspaceID: conv.WorkspaceID, ConversationID: conv.ConversationID, Kind: starpost.KindMessage,
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"}, Body: starpost.MustBody(starpost.MessageBody{Text: key}), IdempotencyKey: key}
}

// An Append on SQLite returns only after an fsync of the WAL that started
// after its batch committed, and so does a retry of its idempotency key
// that arrives while that fsync is still running.
func TestSQLiteAnswersAfterWALSync(t *testing.T) {
	ctx := context.Background()
	// While holding, each sync sends a channel on hold and waits until it
	// is closed.
	hold := make(chan chan struct{})
	var holding atomic.Bool
	db, conv := walFixture(t, func(real func() error) error {
		if holding.Load() {
			release := make(chan struct{})
			hold <- release
			<-release
		}
		return real()
	})
	holding.Store(true)

	type result struct {
		evs []*starpost.Event
		err error
	}
	first, retry := make(chan result, 1), make(chan result, 1)
	go func() { evs, err := db.Append(ctx, walMessage(conv, "k1")); first <- result{evs, err} }()
	release := <-hold // the batch committed; its fsync is running
	var once sync.Once
	unblock := func() { holding.Store(false); once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the store closes, should the test fail
	committed := db.Stats().Batches
	go func() { evs, err := db.Append(ctx, walMessage(conv, "k1")); retry <- result{evs, err} }()
	for db.Stats().Batches == committed { // until the retry's batch has committed too
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-first:
		t.Fatalf("Append returned (%v) while the WAL fsync was still running", r.err)
	case r := <-retry:
		t.Fatalf("the retry returned (%v) while the original's fsync was still running", r.err)
	default:
	}
	unblock()
	a, b := <-first, <-retry
	must(t, a.err)
	must(t, b.err)
	if a.evs[0].Cursor != b.evs[0].Cursor {
		t.Fatalf("retry got cursor %d, original %d", b.evs[0].Cursor, a.evs[0].Cursor)
	}
}

// A failed fsync fails the calls of its batches, and every later write,
// even if the disk seems to recover: after a failed fsync the kernel may
// have dropped the pages it could not write, so nothing later is certain.
func TestSQLiteWALSyncFailureSticks(t *testing.T) {
	ctx := context.Background()
	var fail atomic.Bool
	db, conv := walFixture(t, func(real func() error) error {
		if fail.Load() {
			return errors.New("EIO")
		}
		return real()
	})
	fail.Store(true)
	_, err := db.Append(ctx, walMessage(conv, "k1"))
	wantCode(t, err, starpost.EUNAVAILABLE, "")
	fail.Store(false)
	_, err = db.Append(ctx, walMessage(conv, "k2"))
	wantCode(t, err, starpost.EUNAVAILABLE, "")
}

// Under continuous writes the background checkpointer copies the WAL into
// the database and, once the WAL is past its limit, the committer lets it
// start over; nothing written is lost on the way, and a reopened store
// reads it all back.
func TestSQLiteCheckpointsAndRewindsWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	db, err := store.Open(ctx, path, nil, nil)
	must(t, err)
	if !db.SetWALRestartFramesForTest(64) {
		t.Fatal("a SQLite file store has no checkpointer")
	}
	ws := &starpost.Workspace{Name: "ckpt"}
	must(t, db.CreateWorkspace(ctx, ws))
	out, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct", QueueID: "q"})})
	must(t, err)
	n := 1
	for db.Stats().WALRewinds < 2 { // until the WAL started over twice
		if n > 200_000 {
			t.Fatalf("no WAL rewind after %d events: %+v", n, db.Stats())
		}
		_, err := db.Append(ctx, walMessage(out[0], "m"+strconv.Itoa(n)))
		must(t, err)
		n++
	}
	if st := db.Stats(); st.Checkpoints == 0 {
		t.Fatalf("rewinds without background checkpoints: %+v", st)
	}
	// The WAL really started over: it holds far fewer frames than the
	// events written (each wrote at least one page).
	_, err = db.Append(ctx, walMessage(out[0], "after"))
	must(t, err)
	n++
	var busy, frames, copied int64
	must(t, db.SQL().QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied))
	t.Logf("%d events, %d frames in the WAL", n, frames)
	if frames >= int64(n) {
		t.Fatalf("%d frames in the WAL after %d events: it never started over", frames, n)
	}
	must(t, db.Close())
	db = openDSN(t, path)
	last, err := db.LastCursor(ctx, ws.ID)
	must(t, err)
	if last != int64(n) {
		t.Fatalf("last cursor %d after reopening, want %d", last, n)
	}
}
