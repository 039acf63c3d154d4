package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost/attachment"
	"github.com/starpost/starpost/http"
	"github.com/starpost/starpost/router"
)

// config is what serve and demo read from flags and the environment.
type config struct {
	Addr       string
	Data       string
	DB         string
	NATS       string
	NATSListen string
	Secret     string
	Demo       bool
	LogLevel   string
	DebugAddr  string
	LLMURL     string
	LLMModel   string
	LLMKey     string
	LLMTimeout time.Duration
	// Agent assist: the well-being break threshold and the day's time zone
	// for agents without a site.
	BreakAfter int
	TimeZone   string
	// AttachmentMaxBytes is the largest attachment accepted (widget feature).
	AttachmentMaxBytes int64
	// Agent liveness: how long a disconnected agent keeps their work, and
	// how often each node re-announces its connected agents (0: Grace/3).
	Grace     time.Duration
	Heartbeat time.Duration
	envErr    error // a STARPOST_* duration that does not parse

	// Surge limits (back-pressure): see http.Limits.
	MaxWaiting        int
	MaxInflightWrites int
	MaxSockets        int
	VisitorRate       float64

	// Workforce management: how long before an open slot or an offer
	// starts claiming and answering close.
	WFMClaimLead time.Duration
}

// register adds the flags to fs, with defaults taken from STARPOST_*
// environment variables.
func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("STARPOST_ADDR", ":8080"), "HTTP listen address")
	fs.StringVar(&c.Data, "data", env("STARPOST_DATA", "./starpost-data"), "data folder (SQLite database, secret, demo logins)")
	fs.StringVar(&c.DB, "db", env("STARPOST_DB", ""), "database: a SQLite file path or a postgres:// URL (default: DATA/starpost.db)")
	fs.StringVar(&c.NATS, "nats", env("STARPOST_NATS", ""), "NATS URL of an external cluster (default: an embedded server)")
	fs.StringVar(&c.NATSListen, "nats-listen", env("STARPOST_NATS_LISTEN", ""), "let other nodes connect to the embedded NATS at this address, e.g. 127.0.0.1:4222")
	fs.StringVar(&c.Secret, "secret", env("STARPOST_SECRET", ""), "key that signs sessions and visitor tokens; every node of a cluster needs the same (default: DATA/secret, made on first start)")
	fs.BoolVar(&c.Demo, "demo", env("STARPOST_DEMO", "true") == "true", "create the demo workspace when the database has no workspace")
	fs.StringVar(&c.LogLevel, "log-level", env("STARPOST_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.StringVar(&c.LLMURL, "llm-url", env("STARPOST_LLM_URL", ""), "OpenAI-compatible API base for agents' reply drafts, e.g. http://localhost:11434/v1 (Ollama); empty turns drafting off")
	fs.StringVar(&c.LLMModel, "llm-model", env("STARPOST_LLM_MODEL", "qwen2.5:7b-instruct"), "model name for reply drafts")
	c.LLMKey = os.Getenv("STARPOST_LLM_KEY") // a secret: environment only, never a flag (ps shows flags)
	fs.DurationVar(&c.LLMTimeout, "llm-timeout", 60*time.Second, "how long a reply draft may take")
	fs.StringVar(&c.DebugAddr, "debug-addr", env("STARPOST_DEBUG_ADDR", ""), "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 (keep it private)")
	// Agent assist.
	fs.IntVar(&c.BreakAfter, "break-after", 3, "suggest a break to an agent after this many hostile conversations in a day")
	fs.StringVar(&c.TimeZone, "time-zone", env("STARPOST_TIME_ZONE", "UTC"), "time zone in which an agent's day starts when the agent has no site (IANA name)")
	// Widget feature.
	maxAtt, err := strconv.ParseInt(env("STARPOST_ATTACHMENT_MAX_BYTES", "0"), 10, 64)
	if err != nil || maxAtt <= 0 {
		maxAtt = attachment.DefaultMaxBytes
	}
	fs.Int64Var(&c.AttachmentMaxBytes, "attachment-max-bytes", maxAtt, "largest file a customer or agent may attach, in bytes")
	// Agent liveness.
	fs.DurationVar(&c.Grace, "disconnect-grace", c.envDuration("STARPOST_DISCONNECT_GRACE", router.DefaultGracePeriod),
		"how long an agent whose connection is lost keeps their conversations before they return to the queue")
	fs.DurationVar(&c.Heartbeat, "heartbeat", c.envDuration("STARPOST_HEARTBEAT", 0),
		fmt.Sprintf("how often each node re-announces the agents it serves; an agent unheard for %d intervals counts as disconnected (default: disconnect-grace/3)", router.MissedBeats))

	// Surge limits (back-pressure).
	d := http.DefaultLimits()
	fs.IntVar(&c.MaxWaiting, "max-waiting", d.MaxWaiting, "surge limit: refuse new widget chats (503 + leave a message) while this many wait for an agent in a workspace; -1 for no limit")
	fs.IntVar(&c.MaxInflightWrites, "max-inflight-writes", d.MaxInflightWrites, "surge limit: refuse new widget chats while this many API writes wait for the store on this node; -1 for no limit")
	fs.IntVar(&c.MaxSockets, "max-sockets", d.MaxSockets, "surge limit: refuse visitors' WebSockets while this many WebSockets are open on this node (agents are never refused); -1 for no limit")
	fs.Float64Var(&c.VisitorRate, "visitor-rate", float64(time.Second)/float64(d.VisitorRate.Every), "requests and messages per second one widget visitor may send (429 beyond; bursts of "+strconv.Itoa(d.VisitorRate.Burst)+")")

	// Workforce management.
	fs.DurationVar(&c.WFMClaimLead, "wfm-claim-lead", c.envDuration("STARPOST_WFM_CLAIM_LEAD", 0),
		"how long before an open slot or an overtime/time-off offer starts its claim window closes (0: at the start)")
}

// limits returns the API limits the flags set.
func (c *config) limits() http.Limits {
	l := http.Limits{MaxWaiting: c.MaxWaiting, MaxInflightWrites: c.MaxInflightWrites, MaxSockets: c.MaxSockets}
	if c.VisitorRate > 0 {
		l.VisitorRate = http.Rate{Burst: http.DefaultLimits().VisitorRate.Burst, Every: time.Duration(float64(time.Second) / c.VisitorRate)}
	}
	return l

}

// envDuration reads a duration from the environment, remembering a value
// that does not parse for liveness to report.
func (c *config) envDuration(key string, def time.Duration) time.Duration {
	v := env(key, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		c.envErr = fmt.Errorf("%s: %w", key, err)
		return def
	}
	return d
}

// liveness returns the disconnect grace period and the heartbeat interval,
// checked.
func (c *config) liveness() (grace, heartbeat time.Duration, err error) {
	if c.envErr != nil {
		return 0, 0, c.envErr
	}
	grace, heartbeat = c.Grace, c.Heartbeat
	if grace == 0 {
		grace = router.DefaultGracePeriod
	}
	if grace < 0 {
		return 0, 0, fmt.Errorf("--disconnect-grace must be positive, got %s", grace)
	}
	if heartbeat == 0 {
		heartbeat = grace / 3
	}
	if heartbeat < 10*time.Millisecond {
		return 0, 0, fmt.Errorf("--heartbeat must be at least 10ms, got %s", heartbeat)
	}
	return grace, heartbeat, nil
}

// dsn returns the database to open.
func (c *config) dsn() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.Data, "starpost.db")
}

// logger returns a JSON slog logger at the configured level.
func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// secret returns the signing key: the flag's value, or DATA/secret, which
// is created with 32 random bytes when missing.
func (c *config) secret() ([]byte, error) {
	if c.Secret != "" {
		if len(c.Secret) < 32 {
			return nil, fmt.Errorf("--secret must be at least 32 characters")
		}
		return []byte(c.Secret), nil
	}
	path := filepath.Join(c.Data, "secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make secret: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	return b, nil
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return strings.TrimSpace(v)
	}
	return def
}
