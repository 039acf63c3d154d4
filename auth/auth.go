// Package auth holds the credential primitives of Starpost: password hashing
// with bcrypt, random secrets for API tokens and visitor ids, and HMAC-signed
// tokens for session cookies and widget visitors.
//
// The package does no I/O beyond reading crypto/rand; the http package uses it
// to sign people in, and cmd/starpost uses HashPassword to create the demo
// administrator.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password length limits. bcrypt reads at most 72 bytes, so longer passwords
// are refused rather than silently truncated.
const (
	MinPasswordLen   = 8
	MaxPasswordBytes = 72
)

// ErrInvalidPassword is returned by HashPassword for a password that is too
// short or too long.
var ErrInvalidPassword = errors.New("auth: password must be 8 to 72 bytes")

// ErrInvalidToken is returned by Signer.Verify for a token that is malformed,
// forged, signed for another purpose or expired.
var ErrInvalidToken = errors.New("auth: invalid or expired token")

// HashPassword returns the bcrypt hash of pw, for DirectoryService.CreateUser.
func HashPassword(pw string) (string, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// CheckPasswordPolicy reports whether pw is acceptable as a new password.
func CheckPasswordPolicy(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen || len(pw) > MaxPasswordBytes {
		return ErrInvalidPassword
	}
	return nil
}

// dummyHash is compared against when a user does not exist, so that a login
// for an unknown email takes as long as one with a wrong password.
const dummyHash = "$2a$10$/rwg0KDON5usNJHEokESaOHyEFWV16g9D4V09Gv0MkEmNAr2NlnAO"

// ComparePassword reports whether pw matches the bcrypt hash. An empty hash
// (a user without password login) or a password longer than bcrypt reads
// never matches, but still costs one bcrypt comparison.
func ComparePassword(hash, pw string) bool {
	if hash == "" || len(pw) > MaxPasswordBytes {
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// NewSecret returns prefix followed by 32 random bytes, base64url encoded:
// an API token secret, a CSRF token or a visitor id.
func NewSecret(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: random secret: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashSecret returns the hex SHA-256 of a high-entropy secret, the form in
// which API token secrets are stored.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Equal compares two strings in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Signer signs and verifies small JSON claims with HMAC-SHA256. Each Signer
// derives its own key from the server secret and a purpose, so a session
// cookie can never be replayed as a visitor token or the other way round.
type Signer struct {
	key     []byte
	purpose string
}

// NewSigner returns a Signer for one purpose, keyed by secret.
func NewSigner(secret []byte, purpose string) *Signer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("starpost signer v1\x00" + purpose))
	return &Signer{key: m.Sum(nil), purpose: purpose}
}

// envelope wraps the claims with their expiry.
type envelope struct {
	Exp    int64           `json:"exp"`
	Claims json.RawMessage `json:"c"`
}

// Sign returns a token "payload.signature" carrying claims until exp.
func (s *Signer) Sign(claims any, exp time.Time) (string, error) {
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("auth: encode claims: %w", err)
	}
	p, err := json.Marshal(envelope{Exp: exp.Unix(), Claims: c})
	if err != nil {
		return "", fmt.Errorf("auth: encode envelope: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(p)
	return payload + "." + s.mac(payload), nil
}

// Verify checks the token's signature and expiry at now and decodes its
// claims into v. Any failure returns ErrInvalidToken.
func (s *Signer) Verify(token string, now time.Time, v any) error {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || payload == "" || len(token) > 4096 {
		return ErrInvalidToken
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(payload))) {
		return ErrInvalidToken
	}
	p, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ErrInvalidToken
	}
	var e envelope
	if err := json.Unmarshal(p, &e); err != nil {
		return ErrInvalidToken
	}
	if now.Unix() >= e.Exp {
		return ErrInvalidToken
	}
	if err := json.Unmarshal(e.Claims, v); err != nil {
		return ErrInvalidToken
	}
	return nil
}

func (s *Signer) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// HMACHex returns the hex HMAC-SHA256 of msg under key: how a business's
// server signs an identified widget visitor's user id.
func HMACHex(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyHex reports, in constant time, whether mac is HMACHex(key, msg).
// Upper-case hex is accepted.
func VerifyHex(key []byte, msg, mac string) bool {
	got, err := hex.DecodeString(mac)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hmac.Equal(got, m.Sum(nil))
}
