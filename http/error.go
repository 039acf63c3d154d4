package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost"
)

// ErrorStatus maps a root error code to its HTTP status. It is the one place
// where codes become statuses.
func ErrorStatus(code string) int {
	switch code {
	case starpost.EINVALID:
		return http.StatusBadRequest
	case starpost.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case starpost.EFORBIDDEN:
		return http.StatusForbidden
	case starpost.ENOTFOUND:
		return http.StatusNotFound
	case starpost.ECONFLICT:
		return http.StatusConflict
	case starpost.ETOOMANY:
		return http.StatusTooManyRequests
	case starpost.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ErrorResponse is the body of every error response.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody describes what went wrong, in terms safe to show a client.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Busy is set when a surge limit refused the request (503): how busy
	// the service is and what the customer can do instead.
	Busy *Busy `json:"busy,omitempty"`
}

// httpError refines a domain error with an HTTP-only detail: a status other
// than the code's (413) or a Retry-After.
type httpError struct {
	err        *starpost.Error
	status     int
	retryAfter time.Duration
	busy       *Busy
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// tooMany returns a 429 error telling the client when to retry.
func tooMany(after time.Duration, format string, args ...any) error {
	return &httpError{err: starpost.Errorf(starpost.ETOOMANY, format, args...), retryAfter: after}
}

// writeError writes err as a JSON error response. Internal errors are logged
// with their details and shown as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := starpost.ErrorCode(err)
	status := ErrorStatus(code)
	var retry time.Duration
	var busy *Busy
	var he *httpError
	if errors.As(err, &he) {
		if he.status != 0 {
			status = he.status
		}
		retry, busy = he.retryAfter, he.busy
	}
	if code == starpost.EUNAVAILABLE && retry == 0 {
		retry = s.limits.RetryAfter
	}
	if retry > 0 {
		secs := int((retry + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	// A deliberate refusal (a surge limit, with Retry-After) is no error of
	// the server's: it is counted in metrics, not logged.
	if code == starpost.EINTERNAL || code == starpost.EUNAVAILABLE && (he == nil || he.retryAfter == 0) {
		s.Logger.ErrorContext(r.Context(), "http error", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("code", code), slog.Any("err", err))
	}
	if code == starpost.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="starpost"`)
	}
	writeJSON(w, status, ErrorResponse{Error: ErrorBody{
		Code:    code,
		Message: starpost.ErrorMessage(err),
		Field:   starpost.ErrorField(err),
		Busy:    busy,
	}})
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client may have gone; nothing to do
}

// decode reads one JSON object from the request body into v, strictly: the
// body is size-limited, unknown fields are refused and trailing data is an
// error. Every failure is a client error that names the field.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := strings.Cut(ct, ";")
		if mt = strings.TrimSpace(strings.ToLower(mt)); mt != "application/json" {
			return &httpError{err: starpost.FieldError("body", "Content-Type must be application/json"),
				status: http.StatusUnsupportedMediaType}
		}
	}
	body := http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return starpost.FieldError("body", "must hold exactly one JSON object")
	}
	return nil
}

// decodeOptional is decode for endpoints whose body may be empty.
func (s *Server) decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
		return nil
	}
	err := s.decode(w, r, v)
	if starpost.ErrorField(err) == "body" && starpost.ErrorMessage(err) == "required" {
		return nil
	}
	return err
}

func decodeError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return starpost.FieldError("body", "required")
	case errors.As(err, &mbe):
		return &httpError{err: starpost.FieldError("body", "larger than %d bytes", mbe.Limit),
			status: http.StatusRequestEntityTooLarge}
	case errors.As(err, &syn):
		return starpost.FieldError("body", "malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return starpost.FieldError("body", "malformed JSON: unexpected end")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return starpost.FieldError(field, "must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return starpost.FieldError(name, "unknown field")
	}
	return starpost.FieldError("body", "invalid JSON: %v", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return fmt.Sprintf("of type %s", kind)
}
