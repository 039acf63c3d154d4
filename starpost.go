// Package starpost holds the domain of the Starpost customer-service platform:
// workspaces (tenants), their people and routing configuration, and the one
// conversation model that every channel and engine shares — conversations,
// participants and an append-only list of events.
//
// The package does no I/O. Storage lives in store/, the event bus in bus/,
// dispatch in router/, the API in http/ and the wiring in cmd/starpost.
// Those packages talk to each other only through the interfaces declared here.
package starpost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Error codes shared by every package. They map to HTTP status codes in one
// place (http/error.go) and are the only error categories a client sees.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	ETOOMANY      = "too_many_requests"
	EINTERNAL     = "internal"
)

// Error is a domain error whose code and message are safe to show to a
// client. Field names the offending input field, when there is one.
type Error struct {
	Code    string
	Message string
	Field   string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("starpost %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("starpost %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error that names the invalid field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of the
// first *Error in its chain, or a generic text for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field named by the first *Error in err's chain.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Clock tells the time. Everything that waits or measures time takes a Clock
// so tests can replay a day of traffic in milliseconds.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// NewID returns a new random 128-bit identifier, hex encoded with a short
// prefix naming the kind of object (for example "cv" for a conversation).
func NewID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("starpost: crypto/rand failed: %v", err)) // never happens on Linux
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}

// Validator is implemented by domain objects that can check their own fields.
type Validator interface {
	Validate() error
}

// Limits on sizes of user-supplied text, enforced by Validate methods.
const (
	MaxNameLen    = 200
	MaxMessageLen = 16 * 1024
	MaxKeyLen     = 128
)

// ctxKey is the type of context keys set by this package.
type ctxKey int

const principalKey ctxKey = iota

// NewContextWithPrincipal returns ctx carrying the authenticated principal.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns the authenticated principal carried by ctx, or
// nil when the request is anonymous.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}
