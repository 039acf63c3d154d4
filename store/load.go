package store

import (
	"context"
	"fmt"
	"time"

	"github.com/starpost/starpost"
)

// CountWaiting returns how many conversations of channel wait for an agent
// (queued or offered) in the workspace, and when the oldest of them was
// created (zero when none wait). It is one query on the (workspace_id,
// state) index: cheap enough for admission control under a surge.
func (db *DB) CountWaiting(ctx context.Context, workspaceID string, channel starpost.Channel) (int, time.Time, error) {
	if err := requireWorkspace(workspaceID); err != nil {
		return 0, time.Time{}, err
	}
	var n, oldest int64
	err := db.read.QueryRowContext(ctx, db.dialect.q(
		"SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM conversations WHERE workspace_id = ? AND state IN (?, ?) AND channel = ?"),
		workspaceID, string(starpost.StateQueued), string(starpost.StateOffered), string(channel)).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count waiting conversations: %w", err)
	}
	return int(n), fromNanos(oldest), nil
}
