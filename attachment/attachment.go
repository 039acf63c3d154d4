// Package attachment stores the files and images that customers and agents
// attach to conversation messages.
//
// An upload is read with a size limit (the read stops one byte past it), its
// type is detected from the bytes alone (Detect: http.DetectContentType and
// an allow-list of signatures; what the client claims is never used), and
// anything that a browser could run — HTML, SVG, scripts, executables — is
// refused. An image's dimensions are read from its header first
// (image.DecodeConfig), so a decompression bomb is refused before a single
// pixel is decoded; then it is decoded once to make a thumbnail, which is
// re-encoded (dropping EXIF and other metadata). JPEG and PNG originals
// are stored without their metadata (GPS position, camera, XMP, comments,
// text chunks), their pixels untouched; GIF and WebP are stored as
// uploaded.
//
// The package owns its table (schema_sqlite.sql, schema_postgres.sql,
// created idempotently by Open) on the shared database handle. The bytes
// live in the database, per workspace, so every node of a cluster serves
// every file. A message refers to attachments by id; Resolve checks that
// each id exists in the message's workspace and conversation and returns
// the stored metadata, so a client cannot relabel a file.
package attachment

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

//go:embed schema_sqlite.sql
var sqliteSchema string

//go:embed schema_postgres.sql
var postgresSchema string

// DefaultMaxBytes is the largest upload accepted when Options.MaxBytes is 0.
const DefaultMaxBytes = 10 << 20

// DefaultMaxFiles is how many files one conversation may hold when
// Options.MaxFiles is 0.
const DefaultMaxFiles = 100

// MaxNameLen is the longest file name kept, in characters.
const MaxNameLen = 200

// Errors that the HTTP layer maps to their own status codes (413 and 415).
// Both are wrapped together with a starpost EINVALID error that carries the
// client-safe message.
var (
	ErrTooLarge    = errors.New("attachment too large")
	ErrUnsupported = errors.New("attachment type not allowed")
)

// File is an attachment's metadata.
type File struct {
	ID             string         `json:"id"`
	WorkspaceID    string         `json:"workspace_id"`
	ConversationID string         `json:"conversation_id"`
	Uploader       starpost.Actor `json:"uploader"`
	Name           string         `json:"name"`
	ContentType    string         `json:"content_type"`
	Size           int64          `json:"size"`
	// Width and Height are set for images; Thumbnail says a preview exists.
	Width     int  `json:"width,omitempty"`
	Height    int  `json:"height,omitempty"`
	Thumbnail bool `json:"thumbnail"`
	// Internal files belong to agents' notes: never shown to the customer
	// nor sent in a message.
	Internal  bool      `json:"internal,omitempty"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
}

// IsImage reports whether the file is an image shown inline.
func (f *File) IsImage() bool { return strings.HasPrefix(f.ContentType, "image/") }

// Ref is the reference a message body carries.
func (f *File) Ref() starpost.Attachment {
	return starpost.Attachment{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
		Width: f.Width, Height: f.Height, Thumbnail: f.Thumbnail}
}

// Upload is one file to store.
type Upload struct {
	WorkspaceID    string
	ConversationID string
	Uploader       starpost.Actor
	// Name is the client's file name; only its base name is kept, cleaned.
	Name string
	// Body is read up to the size limit.
	Body io.Reader
	// Internal marks a file for an internal note.
	Internal bool
}

// Options configure a Store.
type Options struct {
	// SQL and Driver ("sqlite" or "postgres") locate the table: pass
	// store.DB.SQL() and store.DB.Driver().
	SQL    *sql.DB
	Driver string
	// Clock stamps uploads; nil is the system clock.
	Clock starpost.Clock
	// MaxBytes is the largest file accepted (default DefaultMaxBytes).
	MaxBytes int64
	// MaxFiles and MaxTotalBytes bound one conversation's attachments
	// (default DefaultMaxFiles and 20 × MaxBytes), so one visitor cannot
	// fill the database.
	MaxFiles      int
	MaxTotalBytes int64
	// Image limits; zero fields take DefaultImageLimits.
	Images ImageLimits
}

// Store keeps attachments in the shared database. It is safe for
// concurrent use.
type Store struct {
	db     *sql.DB
	driver string
	clock  starpost.Clock
	max    int64
	files  int
	total  int64
	img    ImageLimits
}

// Open creates the attachments table if it does not exist and returns a
// Store over it.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.SQL == nil {
		return nil, errors.New("attachment: nil database")
	}
	if err := store.CreateTables(ctx, opts.SQL, opts.Driver, sqliteSchema, postgresSchema); err != nil {
		return nil, fmt.Errorf("attachment: create table: %w", err)
	}
	s := &Store{db: opts.SQL, driver: opts.Driver, clock: opts.Clock, max: opts.MaxBytes, img: opts.Images.withDefaults()}
	if s.clock == nil {
		s.clock = starpost.SystemClock{}
	}
	if s.max <= 0 {
		s.max = DefaultMaxBytes
	}
	s.files, s.total = opts.MaxFiles, opts.MaxTotalBytes
	if s.files <= 0 {
		s.files = DefaultMaxFiles
	}
	if s.total <= 0 {
		s.total = 20 * s.max
	}
	return s, nil
}

// MaxBytes is the largest file the store accepts.
func (s *Store) MaxBytes() int64 { return s.max }

func (s *Store) q(query string) string { return store.Rebind(s.driver, query) }

// tooLarge is the error of an upload over the limit.
func tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrTooLarge, starpost.FieldError("body", format, args...))
}

// unsupported is the error of a refused type.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrUnsupported, starpost.FieldError("body", format, args...))
}

// CleanName returns the base name of a client's file name: no directories,
// no control characters, at most MaxNameLen characters; "file" when
// nothing is left.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" || name == ".." {
		return "file"
	}
	if utf8.RuneCountInString(name) > MaxNameLen {
		r := []rune(name)
		name = string(r[len(r)-MaxNameLen:])
	}
	return name
}

// Put reads, checks and stores one upload. It fails with ErrTooLarge when
// the body is larger than the limit (or an image has too many pixels), with
// ErrUnsupported when its bytes are not of an allowed type, and with
// ETOOMANY when the conversation already holds as many files or bytes as it
// may.
func (s *Store) Put(ctx context.Context, u Upload) (*File, error) {
	if u.WorkspaceID == "" || u.ConversationID == "" {
		return nil, starpost.FieldError("conversation_id", "required")
	}
	if !u.Uploader.Role.Valid() || u.Uploader.ID == "" {
		return nil, starpost.FieldError("uploader", "required")
	}
	var n int
	var used int64
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(SUM(size), 0) FROM attachments WHERE workspace_id = ? AND conversation_id = ?`),
		u.WorkspaceID, u.ConversationID).Scan(&n, &used); err != nil {
		return nil, fmt.Errorf("attachment: count %s: %w", u.ConversationID, err)
	}
	if n >= s.files || used >= s.total {
		return nil, starpost.Errorf(starpost.ETOOMANY, "this conversation already holds %d files (%d bytes); no more can be added", n, used)
	}
	data, err := io.ReadAll(io.LimitReader(u.Body, s.max+1))
	if err != nil {
		return nil, fmt.Errorf("attachment: read upload: %w", err)
	}
	if int64(len(data)) > s.max {
		return nil, tooLarge("larger than %d bytes", s.max)
	}
	if len(data) == 0 {
		return nil, starpost.FieldError("body", "empty file")
	}
	p, err := Process(data, s.img)
	if err != nil {
		return nil, err
	}
	if p.Clean != nil {
		data = p.Clean
	}
	sum := sha256.Sum256(data)
	f := &File{
		ID: starpost.NewID("at"), WorkspaceID: u.WorkspaceID, ConversationID: u.ConversationID,
		Uploader: u.Uploader, Name: CleanName(u.Name), ContentType: p.ContentType, Size: int64(len(data)),
		Width: p.Width, Height: p.Height, Thumbnail: len(p.Thumb) > 0, Internal: u.Internal, SHA256: hex.EncodeToString(sum[:]),
		CreatedAt: s.clock.Now().UTC(),
	}
	var thumb any
	if len(p.Thumb) > 0 {
		thumb = p.Thumb
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO attachments (workspace_id, id, conversation_id, uploader_role, uploader_id,
name, content_type, size, width, height, internal, sha256, data, thumb_type, thumb, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		f.WorkspaceID, f.ID, f.ConversationID, string(f.Uploader.Role), f.Uploader.ID, f.Name, f.ContentType, f.Size,
		f.Width, f.Height, boolInt(f.Internal), f.SHA256, data, p.ThumbType, thumb, f.CreatedAt.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("attachment: store %s: %w", f.ID, err)
	}
	return f, nil
}

const metaColumns = `id, workspace_id, conversation_id, uploader_role, uploader_id, name, content_type, size, width, height, internal, sha256, thumb_type, created_at`

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scanFile(sc interface{ Scan(...any) error }) (*File, error) {
	var f File
	var role, thumbType string
	var at, internal int64
	if err := sc.Scan(&f.ID, &f.WorkspaceID, &f.ConversationID, &role, &f.Uploader.ID, &f.Name, &f.ContentType,
		&f.Size, &f.Width, &f.Height, &internal, &f.SHA256, &thumbType, &at); err != nil {
		return nil, err
	}
	f.Internal = internal != 0
	f.Uploader.Role = starpost.ParticipantRole(role)
	f.Thumbnail = thumbType != ""
	f.CreatedAt = time.Unix(0, at).UTC()
	return &f, nil
}

// Get returns the metadata of attachment id of the workspace, or ENOTFOUND.
func (s *Store) Get(ctx context.Context, workspaceID, id string) (*File, error) {
	f, err := scanFile(s.db.QueryRowContext(ctx, s.q(`SELECT `+metaColumns+` FROM attachments WHERE workspace_id = ? AND id = ?`), workspaceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "attachment not found")
	} else if err != nil {
		return nil, fmt.Errorf("attachment: read %s: %w", id, err)
	}
	return f, nil
}

// Content returns the bytes of attachment id of the workspace and their
// type: the file itself, or its thumbnail when thumb is true (ENOTFOUND
// when it has none).
func (s *Store) Content(ctx context.Context, workspaceID, id string, thumb bool) ([]byte, string, error) {
	col, typ := "data", "content_type"
	if thumb {
		col, typ = "thumb", "thumb_type"
	}
	var data []byte
	var ct string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT `+col+`, `+typ+` FROM attachments WHERE workspace_id = ? AND id = ?`), workspaceID, id).Scan(&data, &ct)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (len(data) == 0 || ct == "") {
		return nil, "", starpost.Errorf(starpost.ENOTFOUND, "attachment not found")
	} else if err != nil {
		return nil, "", fmt.Errorf("attachment: read %s: %w", id, err)
	}
	return data, ct, nil
}

// Resolve checks the attachments a message (or, with internal, a note)
// refers to: each id must exist in the workspace and belong to the
// conversation, appear once, and not be an internal file in a message. It
// returns the stored references (names, types and sizes come from the
// store, not from the client).
func (s *Store) Resolve(ctx context.Context, workspaceID, conversationID string, refs []starpost.Attachment, internal bool) ([]starpost.Attachment, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	out := make([]starpost.Attachment, 0, len(refs))
	seen := make(map[string]bool, len(refs))
	for i, r := range refs {
		if r.ID == "" {
			return nil, starpost.FieldError("attachments", "entry %d has no id", i)
		}
		if seen[r.ID] {
			return nil, starpost.FieldError("attachments", "attachment %s listed twice", r.ID)
		}
		seen[r.ID] = true
		f, err := s.Get(ctx, workspaceID, r.ID)
		if starpost.ErrorCode(err) == starpost.ENOTFOUND || err == nil && f.ConversationID != conversationID {
			return nil, starpost.FieldError("attachments", "no attachment %s in this conversation", r.ID)
		} else if err != nil {
			return nil, err
		}
		if f.Internal && !internal {
			return nil, starpost.FieldError("attachments", "attachment %s belongs to an internal note", r.ID)
		}
		out = append(out, f.Ref())
	}
	return out, nil
}

// List returns the metadata of a conversation's attachments, oldest first.
func (s *Store) List(ctx context.Context, workspaceID, conversationID string) ([]*File, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+metaColumns+` FROM attachments WHERE workspace_id = ? AND conversation_id = ? ORDER BY created_at, id`),
		workspaceID, conversationID)
	if err != nil {
		return nil, fmt.Errorf("attachment: list %s: %w", conversationID, err)
	}
	defer rows.Close()
	var out []*File
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("attachment: list %s: %w", conversationID, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
