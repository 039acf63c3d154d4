package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/starpost/starpost"
)

// This file implements starpost.DirectoryService.

func notFound(what, id string) error {
	return starpost.Errorf(starpost.ENOTFOUND, "%s %s not found", what, id)
}

func requireWorkspace(id string) error {
	if id == "" {
		return starpost.FieldError("workspace_id", "required")
	}
	return nil
}

// insertErr maps constraint violations of an INSERT or UPDATE to client
// errors: a missing workspace is ENOTFOUND, a duplicate is ECONFLICT.
func insertErr(err error, what, workspaceID, conflict string) error {
	switch {
	case err == nil:
		return nil
	case isForeignKeyViolation(err):
		return notFound("workspace", workspaceID)
	case isUniqueViolation(err):
		return starpost.Errorf(starpost.ECONFLICT, "%s", conflict)
	}
	return fmt.Errorf("store %s: %w", what, err)
}

// inTx runs fn in a write transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// CreateWorkspace stores w, assigning its ID (when empty) and CreatedAt
// (when zero). A workspace id that exists already is ECONFLICT.
func (db *DB) CreateWorkspace(ctx context.Context, w *starpost.Workspace) error {
	if err := w.Validate(); err != nil {
		return err
	}
	if w.ID == "" {
		w.ID = starpost.NewID("ws")
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = db.now()
	}
	_, err := db.write.ExecContext(ctx, db.dialect.q("INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)"),
		w.ID, w.Name, nanos(w.CreatedAt))
	return insertErr(err, "workspace", w.ID, "workspace "+w.ID+" exists")
}

// FindWorkspace returns the workspace with the given id.
func (db *DB) FindWorkspace(ctx context.Context, id string) (*starpost.Workspace, error) {
	var w starpost.Workspace
	var created int64
	err := db.read.QueryRowContext(ctx, db.dialect.q("SELECT id, name, created_at FROM workspaces WHERE id = ?"), id).
		Scan(&w.ID, &w.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("workspace", id)
	} else if err != nil {
		return nil, fmt.Errorf("find workspace: %w", err)
	}
	w.CreatedAt = fromNanos(created)
	return &w, nil
}

// ListWorkspaces returns every workspace, oldest first.
func (db *DB) ListWorkspaces(ctx context.Context) ([]*starpost.Workspace, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT id, name, created_at FROM workspaces ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	defer rows.Close()
	var out []*starpost.Workspace
	for rows.Next() {
		var w starpost.Workspace
		var created int64
		if err := rows.Scan(&w.ID, &w.Name, &created); err != nil {
			return nil, fmt.Errorf("list workspaces: %w", err)
		}
		w.CreatedAt = fromNanos(created)
		out = append(out, &w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	return out, nil
}

// checkRefs verifies that every id names a row of table in the workspace,
// so that no object can point into another workspace.
func (db *DB) checkRefs(ctx context.Context, q querier, workspaceID, table, field string, ids []string) error {
	seen := map[string]bool{}
	var want []any
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return nil
	}
	args := append([]any{workspaceID}, want...)
	rows, err := q.QueryContext(ctx, db.dialect.q("SELECT id FROM "+table+" WHERE workspace_id = ? AND id IN ("+placeholders(len(want))+")"), args...)
	if err != nil {
		return fmt.Errorf("check %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("check %s: %w", table, err)
		}
		delete(seen, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check %s: %w", table, err)
	}
	if len(seen) > 0 {
		missing := make([]string, 0, len(seen))
		for id := range seen {
			missing = append(missing, id)
		}
		sort.Strings(missing)
		return starpost.FieldError(field, "unknown %s", strings.Join(missing, ", "))
	}
	return nil
}

func (db *DB) checkUserRefs(ctx context.Context, q querier, u *starpost.User) error {
	if err := db.checkRefs(ctx, q, u.WorkspaceID, "sites", "site_id", []string{u.SiteID}); err != nil {
		return err
	}
	if err := db.checkRefs(ctx, q, u.WorkspaceID, "teams", "team_id", []string{u.TeamID}); err != nil {
		return err
	}
	ids := make([]string, len(u.Skills))
	for i, s := range u.Skills {
		ids[i] = s.SkillID
	}
	return db.checkRefs(ctx, q, u.WorkspaceID, "skills", "skills", ids)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("store: not encodable: " + err.Error()) // only plain data is encoded
	}
	return string(b)
}

// CreateUser stores u with a password hash (empty for no password login).
// The email must be unused in every workspace (ECONFLICT); site, team and
// skills must belong to u's workspace (EINVALID).
func (db *DB) CreateUser(ctx context.Context, u *starpost.User, passwordHash string) error {
	if err := requireWorkspace(u.WorkspaceID); err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = starpost.NewID("us")
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkUserRefs(ctx, tx, u); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.dialect.q(`INSERT INTO users
			(id, workspace_id, email, email_key, name, role, site_id, team_id, skills, capacity, disabled, created_at, password_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			u.ID, u.WorkspaceID, u.Email, emailKey(u.Email), u.Name, string(u.Role), u.SiteID, u.TeamID,
			mustJSON(nonNilSkills(u.Skills)), mustJSON(nonNilCapacity(u.Capacity)), u.Disabled, nanos(u.CreatedAt), passwordHash)
		return insertErr(err, "user", u.WorkspaceID, "email "+u.Email+" is taken")
	})
}

// UpdateUser changes the stored user u (matched by workspace and id): its
// email, name, role, site, team, skills, capacity and disabled flag. The
// password hash and presence are kept.
func (db *DB) UpdateUser(ctx context.Context, u *starpost.User) error {
	if err := requireWorkspace(u.WorkspaceID); err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkUserRefs(ctx, tx, u); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, db.dialect.q(`UPDATE users SET
			email = ?, email_key = ?, name = ?, role = ?, site_id = ?, team_id = ?, skills = ?, capacity = ?, disabled = ?
			WHERE workspace_id = ? AND id = ?`),
			u.Email, emailKey(u.Email), u.Name, string(u.Role), u.SiteID, u.TeamID,
			mustJSON(nonNilSkills(u.Skills)), mustJSON(nonNilCapacity(u.Capacity)), u.Disabled, u.WorkspaceID, u.ID)
		if err != nil {
			return insertErr(err, "user", u.WorkspaceID, "email "+u.Email+" is taken")
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update user: %w", err)
		} else if n == 0 {
			return notFound("user", u.ID)
		}
		var created int64
		if err := tx.QueryRowContext(ctx, db.dialect.q("SELECT created_at FROM users WHERE id = ?"), u.ID).Scan(&created); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		u.CreatedAt = fromNanos(created)
		return nil
	})
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func nonNilSkills(s []starpost.Skilled) []starpost.Skilled {
	if s == nil {
		return []starpost.Skilled{}
	}
	return s
}

func nonNilCapacity(c map[starpost.Channel]int) map[starpost.Channel]int {
	if c == nil {
		return map[starpost.Channel]int{}
	}
	return c
}

const userColumns = "id, workspace_id, email, name, role, site_id, team_id, skills, capacity, disabled, created_at, password_hash"

func scanUser(sc interface{ Scan(...any) error }) (*starpost.User, string, error) {
	var u starpost.User
	var role, skills, capacity, hash string
	var created int64
	if err := sc.Scan(&u.ID, &u.WorkspaceID, &u.Email, &u.Name, &role, &u.SiteID, &u.TeamID, &skills, &capacity, &u.Disabled, &created, &hash); err != nil {
		return nil, "", err
	}
	u.Role = starpost.Role(role)
	u.CreatedAt = fromNanos(created)
	if err := json.Unmarshal([]byte(skills), &u.Skills); err != nil {
		return nil, "", fmt.Errorf("user %s skills: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(capacity), &u.Capacity); err != nil {
		return nil, "", fmt.Errorf("user %s capacity: %w", u.ID, err)
	}
	return &u, hash, nil
}

// FindUser returns the user of the workspace with the given id.
func (db *DB) FindUser(ctx context.Context, workspaceID, id string) (*starpost.User, error) {
	u, _, err := scanUser(db.read.QueryRowContext(ctx, db.dialect.q("SELECT "+userColumns+" FROM users WHERE workspace_id = ? AND id = ?"), workspaceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindUserByEmail looks a user up across workspaces (emails are unique
// platform-wide, compared without case) and returns the stored password
// hash with it.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*starpost.User, string, error) {
	u, hash, err := scanUser(db.read.QueryRowContext(ctx, db.dialect.q("SELECT "+userColumns+" FROM users WHERE email_key = ?"), emailKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", starpost.Errorf(starpost.ENOTFOUND, "user not found")
	} else if err != nil {
		return nil, "", fmt.Errorf("find user by email: %w", err)
	}
	return u, hash, nil
}

// Preferences returns a user's own settings.
func (db *DB) Preferences(ctx context.Context, workspaceID, userID string) (*starpost.Preferences, error) {
	var data string
	err := db.read.QueryRowContext(ctx, db.dialect.q("SELECT preferences FROM users WHERE workspace_id = ? AND id = ?"), workspaceID, userID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", userID)
	} else if err != nil {
		return nil, fmt.Errorf("find preferences: %w", err)
	}
	var p starpost.Preferences
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return nil, fmt.Errorf("decode preferences of %s: %w", userID, err)
	}
	return &p, nil
}

// SetPreferences replaces a user's own settings.
func (db *DB) SetPreferences(ctx context.Context, workspaceID, userID string, p *starpost.Preferences) error {
	if err := requireWorkspace(workspaceID); err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx, db.dialect.q("UPDATE users SET preferences = ? WHERE workspace_id = ? AND id = ?"), mustJSON(p), workspaceID, userID)
	if err != nil {
		return fmt.Errorf("set preferences: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set preferences: %w", err)
	} else if n == 0 {
		return notFound("user", userID)
	}
	return nil
}

// ListUsers returns the users of a workspace ordered by name.
func (db *DB) ListUsers(ctx context.Context, workspaceID string) ([]*starpost.User, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.q("SELECT "+userColumns+" FROM users WHERE workspace_id = ? ORDER BY name, id"), workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*starpost.User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// CreateSite stores s, assigning its ID when empty.
func (db *DB) CreateSite(ctx context.Context, s *starpost.Site) error {
	if err := requireWorkspace(s.WorkspaceID); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.ID == "" {
		s.ID = starpost.NewID("si")
	}
	_, err := db.write.ExecContext(ctx, db.dialect.q("INSERT INTO sites (id, workspace_id, name, time_zone) VALUES (?, ?, ?, ?)"),
		s.ID, s.WorkspaceID, s.Name, s.TimeZone)
	return insertErr(err, "site", s.WorkspaceID, "site "+s.ID+" exists")
}

// ListSites returns the sites of a workspace ordered by name.
func (db *DB) ListSites(ctx context.Context, workspaceID string) ([]*starpost.Site, error) {
	return listNamed(ctx, db, "sites", "id, workspace_id, name, time_zone", workspaceID, func(sc interface{ Scan(...any) error }) (*starpost.Site, error) {
		var s starpost.Site
		return &s, sc.Scan(&s.ID, &s.WorkspaceID, &s.Name, &s.TimeZone)
	})
}

// CreateSkill stores s, assigning its ID when empty.
func (db *DB) CreateSkill(ctx context.Context, s *starpost.Skill) error {
	if err := requireWorkspace(s.WorkspaceID); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.ID == "" {
		s.ID = starpost.NewID("sk")
	}
	_, err := db.write.ExecContext(ctx, db.dialect.q("INSERT INTO skills (id, workspace_id, name) VALUES (?, ?, ?)"),
		s.ID, s.WorkspaceID, s.Name)
	return insertErr(err, "skill", s.WorkspaceID, "skill "+s.ID+" exists")
}

// ListSkills returns the skills of a workspace ordered by name.
func (db *DB) ListSkills(ctx context.Context, workspaceID string) ([]*starpost.Skill, error) {
	return listNamed(ctx, db, "skills", "id, workspace_id, name", workspaceID, func(sc interface{ Scan(...any) error }) (*starpost.Skill, error) {
		var s starpost.Skill
		return &s, sc.Scan(&s.ID, &s.WorkspaceID, &s.Name)
	})
}

// CreateTeam stores t, assigning its ID when empty.
func (db *DB) CreateTeam(ctx context.Context, t *starpost.Team) error {
	if err := requireWorkspace(t.WorkspaceID); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	if t.ID == "" {
		t.ID = starpost.NewID("tm")
	}
	_, err := db.write.ExecContext(ctx, db.dialect.q("INSERT INTO teams (id, workspace_id, name) VALUES (?, ?, ?)"),
		t.ID, t.WorkspaceID, t.Name)
	return insertErr(err, "team", t.WorkspaceID, "team "+t.ID+" exists")
}

// ListTeams returns the teams of a workspace ordered by name.
func (db *DB) ListTeams(ctx context.Context, workspaceID string) ([]*starpost.Team, error) {
	return listNamed(ctx, db, "teams", "id, workspace_id, name", workspaceID, func(sc interface{ Scan(...any) error }) (*starpost.Team, error) {
		var t starpost.Team
		return &t, sc.Scan(&t.ID, &t.WorkspaceID, &t.Name)
	})
}

func listNamed[T any](ctx context.Context, db *DB, table, columns, workspaceID string, scan func(interface{ Scan(...any) error }) (*T, error)) ([]*T, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.q("SELECT "+columns+" FROM "+table+" WHERE workspace_id = ? ORDER BY name, id"), workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", table, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", table, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", table, err)
	}
	return out, nil
}

func (db *DB) checkQueueRefs(ctx context.Context, q querier, qu *starpost.Queue) error {
	ids := make([]string, len(qu.Skills))
	for i, s := range qu.Skills {
		ids[i] = s.SkillID
	}
	if err := db.checkRefs(ctx, q, qu.WorkspaceID, "skills", "skills", ids); err != nil {
		return err
	}
	var sites []string
	for _, o := range qu.Overflow {
		sites = append(sites, o.SiteIDs...)
	}
	return db.checkRefs(ctx, q, qu.WorkspaceID, "sites", "overflow", sites)
}

// CreateQueue stores q, assigning its ID (when empty) and CreatedAt (when
// zero). Its skills and overflow sites must belong to its workspace.
func (db *DB) CreateQueue(ctx context.Context, q *starpost.Queue) error {
	if err := requireWorkspace(q.WorkspaceID); err != nil {
		return err
	}
	if err := q.Validate(); err != nil {
		return err
	}
	if q.ID == "" {
		q.ID = starpost.NewID("qu")
	}
	if q.CreatedAt.IsZero() {
		q.CreatedAt = db.now()
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkQueueRefs(ctx, tx, q); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.dialect.q("INSERT INTO queues (id, workspace_id, name, priority, created_at, data) VALUES (?, ?, ?, ?, ?, ?)"),
			q.ID, q.WorkspaceID, q.Name, q.Priority, nanos(q.CreatedAt), mustJSON(q))
		return insertErr(err, "queue", q.WorkspaceID, "queue "+q.ID+" exists")
	})
}

// UpdateQueue replaces the stored queue q (matched by workspace and id),
// keeping its CreatedAt.
func (db *DB) UpdateQueue(ctx context.Context, q *starpost.Queue) error {
	if err := requireWorkspace(q.WorkspaceID); err != nil {
		return err
	}
	if err := q.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, db.dialect.q("SELECT created_at FROM queues WHERE workspace_id = ? AND id = ?"+db.dialect.forUpdate),
			q.WorkspaceID, q.ID).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("queue", q.ID)
		} else if err != nil {
			return fmt.Errorf("update queue: %w", err)
		}
		q.CreatedAt = fromNanos(created)
		if err := db.checkQueueRefs(ctx, tx, q); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.dialect.q("UPDATE queues SET name = ?, priority = ?, data = ? WHERE workspace_id = ? AND id = ?"),
			q.Name, q.Priority, mustJSON(q), q.WorkspaceID, q.ID); err != nil {
			return fmt.Errorf("update queue: %w", err)
		}
		return nil
	})
}

func scanQueue(sc interface{ Scan(...any) error }) (*starpost.Queue, error) {
	var data string
	if err := sc.Scan(&data); err != nil {
		return nil, err
	}
	var q starpost.Queue
	if err := json.Unmarshal([]byte(data), &q); err != nil {
		return nil, fmt.Errorf("decode queue: %w", err)
	}
	return &q, nil
}

// FindQueue returns the queue of the workspace with the given id.
func (db *DB) FindQueue(ctx context.Context, workspaceID, id string) (*starpost.Queue, error) {
	q, err := scanQueue(db.read.QueryRowContext(ctx, db.dialect.q("SELECT data FROM queues WHERE workspace_id = ? AND id = ?"), workspaceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("queue", id)
	} else if err != nil {
		return nil, fmt.Errorf("find queue: %w", err)
	}
	return q, nil
}

// ListQueues returns the queues of a workspace, highest priority first.
func (db *DB) ListQueues(ctx context.Context, workspaceID string) ([]*starpost.Queue, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.q("SELECT data FROM queues WHERE workspace_id = ? ORDER BY priority DESC, name, id"), workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	defer rows.Close()
	var out []*starpost.Queue
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, fmt.Errorf("list queues: %w", err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	return out, nil
}

// FindOrCreateContact returns the contact that owns the identity on the
// channel, creating it (named name) when there is none. Concurrent calls
// for one identity return the same contact.
func (db *DB) FindOrCreateContact(ctx context.Context, workspaceID string, ch starpost.Channel, identity, name string) (*starpost.Contact, error) {
	if err := requireWorkspace(workspaceID); err != nil {
		return nil, err
	}
	c := &starpost.Contact{WorkspaceID: workspaceID, Name: name, Identities: map[starpost.Channel]string{ch: identity}}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if found, err := db.contactByIdentity(ctx, db.read, workspaceID, ch, identity); err == nil || starpost.ErrorCode(err) != starpost.ENOTFOUND {
		return found, err
	}
	c.ID = starpost.NewID("ct")
	c.CreatedAt = db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.dialect.q("INSERT INTO contacts (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)"),
			c.ID, workspaceID, name, nanos(c.CreatedAt))
		if err != nil {
			return insertErr(err, "contact", workspaceID, "contact exists")
		}
		// ON CONFLICT DO NOTHING: when another caller or node created the
		// identity meanwhile, roll back and return theirs.
		res, err := tx.ExecContext(ctx, db.dialect.q(`INSERT INTO contact_identities (workspace_id, channel, identity, contact_id)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`), workspaceID, string(ch), identity, c.ID)
		if err != nil {
			return fmt.Errorf("create contact identity: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("create contact identity: %w", err)
		} else if n == 0 {
			return errIdentityTaken
		}
		return nil
	})
	if errors.Is(err, errIdentityTaken) {
		return db.contactByIdentity(ctx, db.write, workspaceID, ch, identity)
	} else if err != nil {
		return nil, err
	}
	return c, nil
}

// errIdentityTaken rolls back a contact whose identity another caller
// created first.
var errIdentityTaken = errors.New("contact identity taken")

func (db *DB) contactByIdentity(ctx context.Context, q querier, workspaceID string, ch starpost.Channel, identity string) (*starpost.Contact, error) {
	var id string
	err := q.QueryRowContext(ctx, db.dialect.q("SELECT contact_id FROM contact_identities WHERE workspace_id = ? AND channel = ? AND identity = ?"),
		workspaceID, string(ch), identity).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("contact", identity)
	} else if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	return db.findContact(ctx, q, workspaceID, id)
}

// FindContact returns the contact of the workspace with the given id, with
// its identities.
func (db *DB) FindContact(ctx context.Context, workspaceID, id string) (*starpost.Contact, error) {
	return db.findContact(ctx, db.read, workspaceID, id)
}

func (db *DB) findContact(ctx context.Context, q querier, workspaceID, id string) (*starpost.Contact, error) {
	c := starpost.Contact{Identities: map[starpost.Channel]string{}}
	var created int64
	err := q.QueryRowContext(ctx, db.dialect.q("SELECT id, workspace_id, name, created_at FROM contacts WHERE workspace_id = ? AND id = ?"),
		workspaceID, id).Scan(&c.ID, &c.WorkspaceID, &c.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("contact", id)
	} else if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	c.CreatedAt = fromNanos(created)
	rows, err := q.QueryContext(ctx, db.dialect.q("SELECT channel, identity FROM contact_identities WHERE workspace_id = ? AND contact_id = ?"), workspaceID, id)
	if err != nil {
		return nil, fmt.Errorf("find contact identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch, ident string
		if err := rows.Scan(&ch, &ident); err != nil {
			return nil, fmt.Errorf("find contact identities: %w", err)
		}
		c.Identities[starpost.Channel(ch)] = ident
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find contact identities: %w", err)
	}
	return &c, nil
}

// CreateAPIToken stores t with the hash of its secret (the secret itself
// is never stored), assigning its ID and CreatedAt when unset.
func (db *DB) CreateAPIToken(ctx context.Context, t *starpost.APIToken, secretHash string) error {
	if err := requireWorkspace(t.WorkspaceID); err != nil {
		return err
	}
	if strings.TrimSpace(t.Name) == "" {
		return starpost.FieldError("name", "required")
	}
	if len([]rune(t.Name)) > starpost.MaxNameLen {
		return starpost.FieldError("name", "longer than %d characters", starpost.MaxNameLen)
	}
	if !t.Role.Valid() {
		return starpost.FieldError("role", "must be admin, supervisor or agent")
	}
	if secretHash == "" {
		return starpost.FieldError("secret", "hash required")
	}
	if t.ID == "" {
		t.ID = starpost.NewID("tk")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	_, err := db.write.ExecContext(ctx, db.dialect.q("INSERT INTO api_tokens (id, workspace_id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
		t.ID, t.WorkspaceID, t.Name, string(t.Role), secretHash, nanos(t.CreatedAt))
	return insertErr(err, "api token", t.WorkspaceID, "api token exists")
}

const tokenColumns = "id, workspace_id, name, role, created_at"

func scanToken(sc interface{ Scan(...any) error }) (*starpost.APIToken, error) {
	var t starpost.APIToken
	var role string
	var created int64
	if err := sc.Scan(&t.ID, &t.WorkspaceID, &t.Name, &role, &created); err != nil {
		return nil, err
	}
	t.Role, t.CreatedAt = starpost.Role(role), fromNanos(created)
	return &t, nil
}

// FindAPITokenBySecretHash returns the token whose secret hashes to h.
func (db *DB) FindAPITokenBySecretHash(ctx context.Context, h string) (*starpost.APIToken, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, db.dialect.q("SELECT "+tokenColumns+" FROM api_tokens WHERE secret_hash = ?"), h))
	if errors.Is(err, sql.ErrNoRows) || h == "" {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "api token not found")
	} else if err != nil {
		return nil, fmt.Errorf("find api token: %w", err)
	}
	return t, nil
}

// ListAPITokens returns the tokens of a workspace, oldest first.
func (db *DB) ListAPITokens(ctx context.Context, workspaceID string) ([]*starpost.APIToken, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.q("SELECT "+tokenColumns+" FROM api_tokens WHERE workspace_id = ? ORDER BY created_at, id"), workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []*starpost.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// DeleteAPIToken deletes the workspace's token with the given id.
func (db *DB) DeleteAPIToken(ctx context.Context, workspaceID, id string) error {
	res, err := db.write.ExecContext(ctx, db.dialect.q("DELETE FROM api_tokens WHERE workspace_id = ? AND id = ?"), workspaceID, id)
	if err != nil {
		return fmt.Errorf("delete api token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete api token: %w", err)
	} else if n == 0 {
		return notFound("api token", id)
	}
	return nil
}
