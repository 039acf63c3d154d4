package http

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/auth"
)

// Cookie and header names of the session and its CSRF protection.
const (
	SessionCookie = "starpost_session"
	CSRFCookie    = "starpost_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// Prefixes that tell the kinds of bearer credential apart.
const (
	apiTokenPrefix = "spt_"
	visitorPrefix  = "spv."
)

// sessionClaims are signed into the session cookie.
type sessionClaims struct {
	UserID      string `json:"u"`
	WorkspaceID string `json:"w"`
	CSRF        string `json:"c"`
}

// visitorClaims are signed into a widget visitor token.
type visitorClaims struct {
	WorkspaceID string `json:"w"`
	VisitorID   string `json:"v"`
	ContactID   string `json:"ct"`
}

type visitorKey struct{}

func visitorFromContext(ctx context.Context) *visitorClaims {
	v, _ := ctx.Value(visitorKey{}).(*visitorClaims)
	return v
}

// authenticate checks the credentials a route needs and returns the request
// carrying the principal (or the visitor).
func (s *Server) authenticate(r *http.Request, rt Route) (*http.Request, error) {
	switch rt.Access {
	case AccessPublic:
		return r, nil
	case AccessVisitor:
		v, err := s.visitorFromRequest(r)
		if err != nil {
			return r, err
		}
		return r.WithContext(context.WithValue(r.Context(), visitorKey{}, v)), nil
	}
	p, err := s.principalFromRequest(r)
	if err != nil {
		return r, err
	}
	if !p.Role.AtLeast(starpost.Role(rt.Access)) {
		return r, starpost.Errorf(starpost.EFORBIDDEN, "this needs the %s role", rt.Access)
	}
	return r.WithContext(starpost.NewContextWithPrincipal(r.Context(), p)), nil
}

// principalFromRequest authenticates an API token (Authorization: Bearer) or
// a session cookie; unsafe methods with a cookie need the CSRF header.
func (s *Server) principalFromRequest(r *http.Request) (*starpost.Principal, error) {
	ctx := r.Context()
	if secret, ok := bearer(r); ok {
		if !strings.HasPrefix(secret, apiTokenPrefix) {
			return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "invalid API token")
		}
		t, err := s.Store.FindAPITokenBySecretHash(ctx, auth.HashSecret(secret))
		if starpost.ErrorCode(err) == starpost.ENOTFOUND {
			return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "invalid API token")
		} else if err != nil {
			return nil, err
		}
		return &starpost.Principal{WorkspaceID: t.WorkspaceID, TokenID: t.ID, Role: t.Role}, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "sign in first")
	}
	var sc sessionClaims
	if err := s.sessions.Verify(c.Value, s.Clock.Now(), &sc); err != nil {
		return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "session expired; sign in again")
	}
	if !safeMethod(r.Method) && !auth.Equal(r.Header.Get(CSRFHeader), sc.CSRF) {
		return nil, starpost.Errorf(starpost.EFORBIDDEN, "missing or wrong %s header", CSRFHeader)
	}
	u, err := s.Store.FindUser(ctx, sc.WorkspaceID, sc.UserID)
	if starpost.ErrorCode(err) == starpost.ENOTFOUND {
		return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "session expired; sign in again")
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "account disabled")
	}
	return &starpost.Principal{WorkspaceID: u.WorkspaceID, UserID: u.ID, Role: u.Role}, nil
}

// visitorFromRequest authenticates a widget visitor token, from the
// Authorization header or, for WebSocket handshakes that cannot set headers,
// the token query parameter.
func (s *Server) visitorFromRequest(r *http.Request) (*visitorClaims, error) {
	tok, ok := bearer(r)
	if !ok && r.Method == http.MethodGet {
		tok = r.URL.Query().Get("token")
	}
	raw, found := strings.CutPrefix(tok, visitorPrefix)
	if !found {
		return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "a visitor token is required")
	}
	var v visitorClaims
	if err := s.visitors.Verify(raw, s.Clock.Now(), &v); err != nil {
		return nil, starpost.Errorf(starpost.EUNAUTHORIZED, "visitor token invalid or expired")
	}
	return &v, nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// clientIP is the address the request came from. Proxies' forwarding
// headers are not trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// principal returns the request's principal; routes with a user role always
// have one.
func principal(r *http.Request) *starpost.Principal {
	return starpost.PrincipalFromContext(r.Context())
}

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginResponse is returned by a successful sign-in. CSRFToken must be sent
// in the X-CSRF-Token header of every unsafe request made with the cookie;
// it is also in the readable starpost_csrf cookie.
type LoginResponse struct {
	User      *starpost.User `json:"user"`
	CSRFToken string         `json:"csrf_token"`
	ExpiresAt time.Time      `json:"expires_at"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if email == "" {
		return starpost.FieldError("email", "required")
	}
	if req.Password == "" {
		return starpost.FieldError("password", "required")
	}
	now := s.Clock.Now()
	if ok, wait := s.loginIP.allow(clientIP(r), now); !ok {
		return tooMany(wait, "too many sign-in attempts from this address")
	}
	if ok, wait := s.loginMail.allow(email, now); !ok {
		return tooMany(wait, "too many sign-in attempts for this account")
	}
	u, hash, err := s.Store.FindUserByEmail(r.Context(), email)
	if starpost.ErrorCode(err) == starpost.ENOTFOUND {
		auth.ComparePassword("", req.Password)
		return starpost.Errorf(starpost.EUNAUTHORIZED, "wrong email or password")
	} else if err != nil {
		return err
	}
	if !auth.ComparePassword(hash, req.Password) || u.Disabled {
		return starpost.Errorf(starpost.EUNAUTHORIZED, "wrong email or password")
	}
	s.loginIP.refund(clientIP(r), now)
	s.loginMail.refund(email, now)
	csrf, err := auth.NewSecret("")
	if err != nil {
		return err
	}
	exp := now.Add(s.limits.SessionTTL)
	tok, err := s.sessions.Sign(sessionClaims{UserID: u.ID, WorkspaceID: u.WorkspaceID, CSRF: csrf}, exp)
	if err != nil {
		return err
	}
	secure := r.TLS != nil
	maxAge := int(s.limits.SessionTTL / time.Second)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", Expires: exp, MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: exp, MaxAge: maxAge,
		Secure: secure, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, LoginResponse{User: u, CSRFToken: csrf, ExpiresAt: exp})
	return nil
}

// handleLogout clears the session cookies. Sessions are stateless, so the
// cookie is what ends; it is refused once its expiry passes in any case.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		var sc sessionClaims
		if s.sessions.Verify(c.Value, s.Clock.Now(), &sc) == nil && !auth.Equal(r.Header.Get(CSRFHeader), sc.CSRF) {
			return starpost.Errorf(starpost.EFORBIDDEN, "missing or wrong %s header", CSRFHeader)
		}
	}
	secure := r.TLS != nil
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == SessionCookie, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MeResponse describes the caller.
type MeResponse struct {
	WorkspaceID string         `json:"workspace_id"`
	Role        starpost.Role  `json:"role"`
	User        *starpost.User `json:"user,omitempty"`
	TokenID     string         `json:"token_id,omitempty"`
	// Presence is the signed-in user's presence (absent: never set, offline).
	Presence *starpost.AgentPresence `json:"presence,omitempty"`
	// Cursor is the workspace's newest event cursor now: a client that has
	// loaded its state over REST opens the stream after it instead of
	// replaying history.
	Cursor int64 `json:"cursor"`
	// Features lists optional capabilities this server offers, e.g.
	// "draft" (reply drafting).
	Features []string `json:"features"`
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	resp := MeResponse{WorkspaceID: p.WorkspaceID, Role: p.Role, TokenID: p.TokenID, Features: s.features()}
	if p.UserID != "" {
		u, err := s.Store.FindUser(r.Context(), p.WorkspaceID, p.UserID)
		if err != nil {
			return err
		}
		resp.User = u
		ps, err := s.Store.Presence(r.Context(), p.WorkspaceID)
		if err != nil {
			return err
		}
		for i := range ps {
			if ps[i].AgentID == p.UserID {
				resp.Presence = &ps[i]
			}
		}
	}
	cursor, err := s.Store.LastCursor(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	resp.Cursor = cursor
	writeJSON(w, http.StatusOK, resp)
	return nil
}
