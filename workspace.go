package starpost

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Workspace is a tenant: one business served by the platform. Every other
// object belongs to exactly one workspace and is never visible from another.
type Workspace struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks the workspace's fields.
func (w *Workspace) Validate() error {
	return validName("name", w.Name)
}

// Role is what a user may do in a workspace.
type Role string

// Roles, from most to least privileged.
const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleSupervisor || r == RoleAgent
}

// AtLeast reports whether r carries at least the privileges of min.
func (r Role) AtLeast(min Role) bool {
	rank := map[Role]int{RoleAgent: 1, RoleSupervisor: 2, RoleAdmin: 3}
	return rank[r] >= rank[min]
}

// Channel is the medium a conversation runs on.
type Channel string

// Channels.
const (
	ChannelChat  Channel = "chat"
	ChannelEmail Channel = "email"
	ChannelVoice Channel = "voice"
	ChannelVideo Channel = "video"
)

// Channels lists every channel, in a stable order.
var Channels = []Channel{ChannelChat, ChannelEmail, ChannelVoice, ChannelVideo}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, x := range Channels {
		if c == x {
			return true
		}
	}
	return false
}

// User is a person who signs in to a workspace: an admin, a supervisor or an
// agent. Agents carry their routing profile.
type User struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        Role      `json:"role"`
	SiteID      string    `json:"site_id,omitempty"`
	TeamID      string    `json:"team_id,omitempty"`
	Skills      []Skilled `json:"skills"`
	// Capacity is how many conversations of each channel the user may hold
	// at once; a missing channel takes DefaultCapacity.
	Capacity  map[Channel]int `json:"capacity"`
	Disabled  bool            `json:"disabled"`
	CreatedAt time.Time       `json:"created_at"`
}

// Preferences are a user's own settings, kept on the server so that they
// follow the user to every device.
type Preferences struct {
	// MaskAbuse hides abusive words in customers' messages until the agent
	// asks to see them; nil means the default, masked.
	MaskAbuse *bool `json:"mask_abuse,omitempty"`
}

// DefaultCapacity is the per-channel capacity of an agent with none set.
var DefaultCapacity = map[Channel]int{ChannelChat: 3, ChannelEmail: 5, ChannelVoice: 1, ChannelVideo: 1}

// CapacityFor returns how many conversations of channel c the user may hold.
func (u *User) CapacityFor(c Channel) int {
	if n, ok := u.Capacity[c]; ok {
		return n
	}
	return DefaultCapacity[c]
}

// Validate checks the user's fields.
func (u *User) Validate() error {
	if err := validName("name", u.Name); err != nil {
		return err
	}
	if !validEmail(u.Email) {
		return FieldError("email", "must be an email address")
	}
	if !u.Role.Valid() {
		return FieldError("role", "must be admin, supervisor or agent")
	}
	for i, s := range u.Skills {
		if s.SkillID == "" {
			return FieldError("skills", "entry %d has no skill_id", i)
		}
		if s.Level < MinProficiency || s.Level > MaxProficiency {
			return FieldError("skills", "entry %d: level must be %d to %d", i, MinProficiency, MaxProficiency)
		}
	}
	for c, n := range u.Capacity {
		if !c.Valid() {
			return FieldError("capacity", "unknown channel %q", c)
		}
		if n < 0 || n > 100 {
			return FieldError("capacity", "%s capacity must be 0 to 100", c)
		}
	}
	return nil
}

// Principal is the authenticated caller of a request: a signed-in user, or
// an API token acting with the token's role.
type Principal struct {
	WorkspaceID string
	UserID      string // empty for API tokens
	TokenID     string // empty for users
	Role        Role
}

// Site is a place agents work from: a service station in a small town, the
// head office, or "home".
type Site struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	TimeZone    string `json:"time_zone"`
}

// Validate checks the site's fields.
func (s *Site) Validate() error {
	if err := validName("name", s.Name); err != nil {
		return err
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" {
		return FieldError("time_zone", "must be an IANA time zone such as Asia/Shanghai")
	}
	return nil
}

// Proficiency bounds for skills.
const (
	MinProficiency = 1
	MaxProficiency = 5
)

// Skill is something an agent can do: a language, a product, a kind of
// request.
type Skill struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
}

// Validate checks the skill's fields.
func (s *Skill) Validate() error { return validName("name", s.Name) }

// Skilled is an agent's proficiency (1–5) in a skill.
type Skilled struct {
	SkillID string `json:"skill_id"`
	Level   int    `json:"level"`
}

// Team groups agents under a supervisor.
type Team struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
}

// Validate checks the team's fields.
func (t *Team) Validate() error { return validName("name", t.Name) }

// Queue is where conversations wait for an agent. A conversation may go to an
// agent only if the agent has every required skill at the minimum level, as
// widened by the overflow steps in force.
type Queue struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspace_id"`
	Name        string          `json:"name"`
	Skills      []SkillRequired `json:"skills"`
	// Priority orders queues against each other: higher goes first.
	Priority int `json:"priority"`
	// ServiceLevel is the target: Percent of conversations answered within
	// Seconds (for example 80 % in 20 s).
	ServiceLevel  ServiceLevel   `json:"service_level"`
	BusinessHours *BusinessHours `json:"business_hours,omitempty"`
	Overflow      []OverflowStep `json:"overflow"`
	// OfferTimeout is how long an agent has to accept an offer, in seconds.
	OfferTimeout int `json:"offer_timeout"`
	// ReplyTimeout reassigns a conversation whose customer has waited this
	// many seconds for the assigned agent's reply; 0 disables it.
	ReplyTimeout int `json:"reply_timeout"`
	// Bot makes a bot answer the queue's new conversations first (they start
	// in state bot); it hands them over to the queue when it cannot help.
	Bot bool `json:"bot"`
	// BotMaxFailedTurns is how many customer messages of a conversation the
	// bot may fail to answer before it hands over; 0 means
	// DefaultBotMaxFailedTurns.
	BotMaxFailedTurns int       `json:"bot_max_failed_turns"`
	CreatedAt         time.Time `json:"created_at"`
}

// DefaultBotMaxFailedTurns is a bot queue's BotMaxFailedTurns when unset.
const DefaultBotMaxFailedTurns = 2

// MaxBotFailedTurns bounds Queue.BotMaxFailedTurns.
const MaxBotFailedTurns = 10

// Validate checks the queue's fields.
func (q *Queue) Validate() error {
	if err := validName("name", q.Name); err != nil {
		return err
	}
	for i, s := range q.Skills {
		if s.SkillID == "" {
			return FieldError("skills", "entry %d has no skill_id", i)
		}
		if s.MinLevel < MinProficiency || s.MinLevel > MaxProficiency {
			return FieldError("skills", "entry %d: min_level must be %d to %d", i, MinProficiency, MaxProficiency)
		}
	}
	if q.Priority < 0 || q.Priority > 100 {
		return FieldError("priority", "must be 0 to 100")
	}
	if q.ServiceLevel.Percent < 0 || q.ServiceLevel.Percent > 100 {
		return FieldError("service_level", "percent must be 0 to 100")
	}
	if q.ServiceLevel.Seconds < 0 || q.ServiceLevel.Seconds > 86400 {
		return FieldError("service_level", "seconds must be 0 to 86400")
	}
	if q.OfferTimeout < 0 || q.OfferTimeout > 3600 {
		return FieldError("offer_timeout", "must be 0 to 3600 seconds")
	}
	if q.ReplyTimeout < 0 || q.ReplyTimeout > 86400 {
		return FieldError("reply_timeout", "must be 0 to 86400 seconds")
	}
	if q.BotMaxFailedTurns < 0 || q.BotMaxFailedTurns > MaxBotFailedTurns {
		return FieldError("bot_max_failed_turns", "must be 0 to %d", MaxBotFailedTurns)
	}
	if q.BusinessHours != nil {
		if err := q.BusinessHours.Validate(); err != nil {
			return err
		}
	}
	last := -1
	for i, o := range q.Overflow {
		if o.AfterSeconds <= last {
			return FieldError("overflow", "step %d: after_seconds must increase", i)
		}
		last = o.AfterSeconds
		if o.MinLevelDrop < 0 || o.MinLevelDrop > MaxProficiency {
			return FieldError("overflow", "step %d: min_level_drop must be 0 to %d", i, MaxProficiency)
		}
	}
	return nil
}

// DefaultOfferTimeout is the offer timeout of a queue that sets none.
const DefaultOfferTimeout = 30 * time.Second

// OfferTimeoutDuration returns the queue's offer timeout.
func (q *Queue) OfferTimeoutDuration() time.Duration {
	if q.OfferTimeout <= 0 {
		return DefaultOfferTimeout
	}
	return time.Duration(q.OfferTimeout) * time.Second
}

// SkillRequired is a queue's need for a skill at a minimum level.
type SkillRequired struct {
	SkillID  string `json:"skill_id"`
	MinLevel int    `json:"min_level"`
}

// ServiceLevel is a target such as 80 % answered within 20 seconds.
type ServiceLevel struct {
	Percent int `json:"percent"`
	Seconds int `json:"seconds"`
}

// OverflowStep widens who may take a queue's conversations once one has
// waited AfterSeconds: lower skill minimums, any site, or other queues'
// agents (bullseye routing).
type OverflowStep struct {
	AfterSeconds int `json:"after_seconds"`
	// MinLevelDrop lowers every required minimum level by this much (never
	// below 1).
	MinLevelDrop int `json:"min_level_drop"`
	// AnySite lifts the restriction to agents of the queue's preferred sites.
	AnySite bool `json:"any_site"`
	// SiteIDs, when not empty, are the sites allowed from this step on.
	SiteIDs []string `json:"site_ids,omitempty"`
	// QueueID, when set, also makes the conversation eligible for agents who
	// qualify for that (overflow) queue.
	QueueID string `json:"queue_id,omitempty"`
}

// BusinessHours are the weekly opening times of a queue in a time zone.
type BusinessHours struct {
	TimeZone string `json:"time_zone"`
	// Days maps a weekday (0 = Sunday) to opening intervals as "HH:MM-HH:MM".
	Days map[time.Weekday][]string `json:"days"`
}

// Validate checks the business hours.
func (b *BusinessHours) Validate() error {
	if _, err := time.LoadLocation(b.TimeZone); err != nil || b.TimeZone == "" {
		return FieldError("business_hours", "time_zone must be an IANA time zone")
	}
	for d, spans := range b.Days {
		if d < time.Sunday || d > time.Saturday {
			return FieldError("business_hours", "unknown weekday %d", d)
		}
		for _, s := range spans {
			if _, _, err := parseSpan(s); err != nil {
				return FieldError("business_hours", "%s: %v", s, err)
			}
		}
	}
	return nil
}

// Open reports whether t falls inside the business hours. Nil hours are
// always open.
func (b *BusinessHours) Open(t time.Time) bool {
	if b == nil {
		return true
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		return true
	}
	lt := t.In(loc)
	min := lt.Hour()*60 + lt.Minute()
	for _, s := range b.Days[lt.Weekday()] {
		from, to, err := parseSpan(s)
		if err == nil && min >= from && min < to {
			return true
		}
	}
	return false
}

// parseSpan parses "HH:MM-HH:MM" into minutes after midnight.
func parseSpan(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, Errorf(EINVALID, "want HH:MM-HH:MM")
	}
	if from, err = parseClock(a); err != nil {
		return 0, 0, err
	}
	if to, err = parseClock(b); err != nil {
		return 0, 0, err
	}
	if to <= from {
		return 0, 0, Errorf(EINVALID, "end must be after start")
	}
	return from, to, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, Errorf(EINVALID, "bad time %q", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Contact is a customer. One contact has at most one identity per channel
// (a web-chat visitor id, an email address, a phone number).
type Contact struct {
	ID          string             `json:"id"`
	WorkspaceID string             `json:"workspace_id"`
	Name        string             `json:"name"`
	Identities  map[Channel]string `json:"identities"`
	CreatedAt   time.Time          `json:"created_at"`
}

// Validate checks the contact's fields.
func (c *Contact) Validate() error {
	if utf8.RuneCountInString(c.Name) > MaxNameLen {
		return FieldError("name", "longer than %d characters", MaxNameLen)
	}
	for ch, id := range c.Identities {
		if !ch.Valid() {
			return FieldError("identities", "unknown channel %q", ch)
		}
		if id == "" || len(id) > 320 {
			return FieldError("identities", "%s identity must be 1 to 320 bytes", ch)
		}
	}
	return nil
}

// APIToken is a server-to-server credential of a workspace. Only a hash of
// the secret is stored; the secret is shown once when created.
type APIToken struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Name        string    `json:"name"`
	Role        Role      `json:"role"`
	CreatedAt   time.Time `json:"created_at"`
	// Secret is set only on the value returned by CreateAPIToken.
	Secret string `json:"secret,omitempty"`
}

// DirectoryService stores a workspace's configuration: the workspace itself,
// users, sites, skills, teams, queues, contacts and API tokens. Every method
// that takes a workspace id reads and writes that workspace only.
type DirectoryService interface {
	CreateWorkspace(ctx context.Context, w *Workspace) error
	FindWorkspace(ctx context.Context, id string) (*Workspace, error)
	ListWorkspaces(ctx context.Context) ([]*Workspace, error)

	// CreateUser stores u with a password hash (empty for no password login).
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	UpdateUser(ctx context.Context, u *User) error
	FindUser(ctx context.Context, workspaceID, id string) (*User, error)
	// FindUserByEmail looks a user up across workspaces (emails are unique
	// platform-wide) and returns the stored password hash with it.
	FindUserByEmail(ctx context.Context, email string) (*User, string, error)
	ListUsers(ctx context.Context, workspaceID string) ([]*User, error)
	// Preferences returns a user's own settings; SetPreferences replaces
	// them.
	Preferences(ctx context.Context, workspaceID, userID string) (*Preferences, error)
	SetPreferences(ctx context.Context, workspaceID, userID string, p *Preferences) error

	CreateSite(ctx context.Context, s *Site) error
	ListSites(ctx context.Context, workspaceID string) ([]*Site, error)
	CreateSkill(ctx context.Context, s *Skill) error
	ListSkills(ctx context.Context, workspaceID string) ([]*Skill, error)
	CreateTeam(ctx context.Context, t *Team) error
	ListTeams(ctx context.Context, workspaceID string) ([]*Team, error)

	CreateQueue(ctx context.Context, q *Queue) error
	UpdateQueue(ctx context.Context, q *Queue) error
	FindQueue(ctx context.Context, workspaceID, id string) (*Queue, error)
	ListQueues(ctx context.Context, workspaceID string) ([]*Queue, error)

	// FindOrCreateContact returns the contact that owns the identity on the
	// channel, creating it (named name) when there is none.
	FindOrCreateContact(ctx context.Context, workspaceID string, ch Channel, identity, name string) (*Contact, error)
	FindContact(ctx context.Context, workspaceID, id string) (*Contact, error)

	// CreateAPIToken stores t with the hash of its secret.
	CreateAPIToken(ctx context.Context, t *APIToken, secretHash string) error
	// FindAPITokenBySecretHash returns the token whose secret hashes to h.
	FindAPITokenBySecretHash(ctx context.Context, h string) (*APIToken, error)
	ListAPITokens(ctx context.Context, workspaceID string) ([]*APIToken, error)
	DeleteAPIToken(ctx context.Context, workspaceID, id string) error
}

func validName(field, s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return FieldError(field, "required")
	}
	if utf8.RuneCountInString(s) > MaxNameLen {
		return FieldError(field, "longer than %d characters", MaxNameLen)
	}
	return nil
}

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 320 && !strings.ContainsAny(s, " \t\r\n<>")
}
