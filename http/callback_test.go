package http_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sphttp "github.com/starpost/starpost/http"
)

// FuzzCallbackRequest feeds arbitrary JSON to the callback request's
// validation: it never panics, and what it accepts has a message, an email
// or phone, and trimmed, valid text.
func FuzzCallbackRequest(f *testing.F) {
	for _, s := range []string{
		`{"email":"zx@example.com","text":"call me"}`,
		`{"phone":"+86 (138) 0000-0000","text":"请回电","name":"周"}`,
		`{"email":"a@b","phone":"1","text":" "}`,
		`{"email":"\"a b\"@example.com","text":"x\u0000y"}`,
		`{}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var req sphttp.CallbackRequest
		if json.Unmarshal([]byte(s), &req) != nil {
			return
		}
		if req.Validate() != nil {
			return
		}
		if req.Text == "" || req.Email == "" && req.Phone == "" || !utf8.ValidString(req.Text) ||
			req.Text != strings.TrimSpace(req.Text) || len(req.Phone) > 32 || len(req.Email) > 254 {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// ExampleLimits sets the surge limits of an API server: past 2,000 chats
// waiting in a workspace, or 1,000 writes waiting for the store, a new
// widget chat gets 503 with Retry-After and an estimated wait, and the
// widget offers to leave a message; each visitor may send 2 requests a
// second in bursts of 10.
func ExampleLimits() {
	l := sphttp.Limits{
		MaxWaiting:        2000,
		MaxInflightWrites: 1000,
		MaxSockets:        50_000,
		VisitorRate:       sphttp.Rate{Burst: 10, Every: 500 * time.Millisecond},
	}
	srv := &sphttp.Server{Limits: l}
	fmt.Println(srv.Limits.MaxWaiting, sphttp.CallbackPath)
	// Output: 2000 /api/v1/widget/callbacks
}
