// Package client is a Go client for Starpost's REST and WebSocket API, for
// server-to-server integrations, the demo simulation and load generators.
// It speaks as a signed-in user (session cookie + CSRF token), as an API
// token, or as a widget visitor.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// Client calls one Starpost server. Its methods are safe for concurrent use
// once the client has signed in.
type Client struct {
	base   string
	http   *http.Client
	csrf   string
	bearer string // API token or visitor token
}

// New returns a client for the server at base (e.g. "http://localhost:8080").
// A nil hc uses a client with a 30 s timeout and its own cookie jar.
func New(base string, hc *http.Client) *Client {
	if hc == nil {
		jar, _ := cookiejar.New(nil) // never fails without options
		hc = &http.Client{Timeout: 30 * time.Second, Jar: jar}
	}
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// WithToken returns a copy of c that authenticates with an API token or a
// visitor token instead of a session.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.bearer = token
	return &cp
}

// Error is an API error response.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	// RetryAfter is the response's Retry-After (429, 503); zero when absent.
	RetryAfter time.Duration
	// Busy is set when a surge limit refused a new conversation.
	Busy *sphttp.Busy
}

// Error implements error.
func (e *Error) Error() string {
	s := fmt.Sprintf("starpost API %d %s: %s", e.Status, e.Code, e.Message)
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	return s
}

// Do sends a JSON request and decodes a JSON response into out (when not
// nil). Non-2xx responses return *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req.Header)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error sphttp.ErrorBody `json:"error"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = json.Unmarshal(raw, &eb)
		e := &Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field, Busy: eb.Error.Busy}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
		return e
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) authorize(h http.Header) {
	if c.bearer != "" {
		h.Set("Authorization", "Bearer "+c.bearer)
	} else if c.csrf != "" {
		h.Set(sphttp.CSRFHeader, c.csrf)
	}
}

// Login signs in with a password and keeps the session for later calls.
func (c *Client) Login(ctx context.Context, email, password string) (*starpost.User, error) {
	var resp sphttp.LoginResponse
	if err := c.Do(ctx, "POST", "/api/v1/login", sphttp.LoginRequest{Email: email, Password: password}, &resp); err != nil {
		return nil, err
	}
	c.csrf = resp.CSRFToken
	return resp.User, nil
}

// SetPresence changes the signed-in agent's presence.
func (c *Client) SetPresence(ctx context.Context, p starpost.Presence) error {
	return c.Do(ctx, "PUT", "/api/v1/me/presence", sphttp.PresenceRequest{Presence: p}, nil)
}

// CreateUser creates a user (admin only).
func (c *Client) CreateUser(ctx context.Context, req sphttp.CreateUserRequest) (*starpost.User, error) {
	var u starpost.User
	if err := c.Do(ctx, "POST", "/api/v1/users", req, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListQueues lists the workspace's queues.
func (c *Client) ListQueues(ctx context.Context) ([]*starpost.Queue, error) {
	var out sphttp.ListResponse[*starpost.Queue]
	return out.Items, c.Do(ctx, "GET", "/api/v1/queues", nil, &out)
}

// Accept accepts the offer of a conversation.
func (c *Client) Accept(ctx context.Context, conversationID string) error {
	return c.Do(ctx, "POST", "/api/v1/conversations/"+url.PathEscape(conversationID)+"/accept", struct{}{}, nil)
}

// Resolve marks a conversation resolved.
func (c *Client) Resolve(ctx context.Context, conversationID string) error {
	return c.Do(ctx, "POST", "/api/v1/conversations/"+url.PathEscape(conversationID)+"/resolve", sphttp.ReasonRequest{}, nil)
}

// PostMessage sends a message as the signed-in agent. A retry with the same
// key returns the original event.
func (c *Client) PostMessage(ctx context.Context, conversationID, text, key string) (*starpost.Event, error) {
	var e starpost.Event
	err := c.Do(ctx, "POST", "/api/v1/conversations/"+url.PathEscape(conversationID)+"/messages",
		sphttp.MessageRequest{Text: text, IdempotencyKey: key}, &e)
	return &e, err
}

// ListConversations lists conversations; query is a URL query such as
// "state=queued".
func (c *Client) ListConversations(ctx context.Context, query string) ([]*starpost.Conversation, error) {
	var out sphttp.ListResponse[*starpost.Conversation]
	p := "/api/v1/conversations"
	if query != "" {
		p += "?" + query
	}
	return out.Items, c.Do(ctx, "GET", p, nil, &out)
}

// Visitor is a widget visitor: a client that holds a visitor token.
type Visitor struct {
	*Client
	Session sphttp.WidgetSessionResponse
}

// NewVisitor starts an anonymous widget session in the workspace.
func (c *Client) NewVisitor(ctx context.Context, workspaceID, name string) (*Visitor, error) {
	var s sphttp.WidgetSessionResponse
	if err := c.Do(ctx, "POST", "/api/v1/widget/"+url.PathEscape(workspaceID)+"/session", sphttp.WidgetSessionRequest{Name: name}, &s); err != nil {
		return nil, err
	}
	return &Visitor{Client: c.WithToken(s.Token), Session: s}, nil
}

// Start opens a conversation (and sends its first message when req.Text is
// set).
func (v *Visitor) Start(ctx context.Context, req sphttp.WidgetStartRequest) (*sphttp.ConversationResponse, error) {
	var out sphttp.ConversationResponse
	if err := v.Do(ctx, "POST", "/api/v1/widget/conversations", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RequestCallback leaves a message with contact details when a surge limit
// refused a new conversation; it is stored as a conversation.
func (v *Visitor) RequestCallback(ctx context.Context, req sphttp.CallbackRequest) (*sphttp.ConversationResponse, error) {
	var out sphttp.ConversationResponse
	if err := v.Do(ctx, "POST", sphttp.CallbackPath, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Send posts a message in one of the visitor's conversations.
func (v *Visitor) Send(ctx context.Context, conversationID, text, key string) (*starpost.Event, error) {
	var e starpost.Event
	err := v.Do(ctx, "POST", "/api/v1/widget/conversations/"+url.PathEscape(conversationID)+"/messages",
		sphttp.MessageRequest{Text: text, IdempotencyKey: key}, &e)
	return &e, err
}

// Socket is an open realtime stream.
type Socket struct {
	conn *websocket.Conn
}

// Stream opens the signed-in user's realtime stream after cursor.
func (c *Client) Stream(ctx context.Context, cursor int64) (*Socket, error) {
	return c.dial(ctx, "/api/v1/stream", cursor)
}

// Stream opens the visitor's realtime stream after cursor.
func (v *Visitor) Stream(ctx context.Context, cursor int64) (*Socket, error) {
	return v.dial(ctx, "/api/v1/widget/stream", cursor)
}

func (c *Client) dial(ctx context.Context, path string, cursor int64) (*Socket, error) {
	u := "ws" + strings.TrimPrefix(c.base, "http") + path + "?cursor=" + strconv.FormatInt(cursor, 10)
	h := http.Header{}
	c.authorize(h)
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: h})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	conn.SetReadLimit(1 << 20)
	return &Socket{conn: conn}, nil
}

// Read returns the next frame from the server.
func (s *Socket) Read(ctx context.Context) (*sphttp.Frame, error) {
	_, b, err := s.conn.Read(ctx)
	if err != nil {
		return nil, err
	}
	var f sphttp.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode frame: %w", err)
	}
	return &f, nil
}

// Write sends a frame to the server.
func (s *Socket) Write(ctx context.Context, f *sphttp.Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	return s.conn.Write(ctx, websocket.MessageText, b)
}

// Close closes the stream.
func (s *Socket) Close() error { return s.conn.Close(websocket.StatusNormalClosure, "") }
