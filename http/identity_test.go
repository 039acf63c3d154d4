package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/starpost/starpost/auth"
	sphttp "github.com/starpost/starpost/http"
)

// TestWidgetIdentifiedVisitor: a visitor whose page passes the business's
// user id and its HMAC under the workspace's identity secret gets the same
// contact on every session (so the same history); a wrong or missing hash
// is refused, and another workspace's secret does not work.
func TestWidgetIdentifiedVisitor(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	other := e.newTenant("other")
	var id sphttp.WidgetIdentityResponse
	e.login(tn.admin).mustJSON("GET", "/api/v1/widget-identity", nil, 200, &id)
	if len(id.Secret) != 64 {
		t.Fatalf("secret %q", id.Secret)
	}
	var otherID sphttp.WidgetIdentityResponse
	e.login(other.admin).mustJSON("GET", "/api/v1/widget-identity", nil, 200, &otherID)
	if otherID.Secret == id.Secret {
		t.Fatal("two workspaces share an identity secret")
	}
	if r := e.login(tn.agent).do("GET", "/api/v1/widget-identity", nil); r.status != 403 {
		t.Fatalf("agent reads the identity secret: %d", r.status)
	}

	hash := auth.HMACHex([]byte(id.Secret), "user-42")
	session := func(body map[string]string) (int, sphttp.WidgetSessionResponse, string) {
		var out sphttp.WidgetSessionResponse
		r := e.anon().do("POST", "/api/v1/widget/"+tn.ws.ID+"/session", body)
		if r.status == 201 {
			must(t, json.Unmarshal(r.body, &out))
			return r.status, out, ""
		}
		return r.status, out, r.errorBody(t).Field
	}
	st, first, _ := session(map[string]string{"name": "Li Lei", "user_id": "user-42", "user_hash": hash})
	if st != 201 {
		t.Fatalf("identified session: %d", st)
	}
	st, second, _ := session(map[string]string{"user_id": "user-42", "user_hash": strings.ToUpper(hash)})
	if st != 201 || second.ContactID != first.ContactID || second.VisitorID != "user:user-42" {
		t.Fatalf("second device: %d contact %q visitor %q, want contact %q", st, second.ContactID, second.VisitorID, first.ContactID)
	}
	_, anon, _ := session(map[string]string{"name": "Anonymous"})
	if anon.ContactID == first.ContactID {
		t.Fatal("an anonymous visitor got the identified user's contact")
	}
	for _, tt := range []struct {
		name   string
		body   map[string]string
		status int
		field  string
	}{
		{"wrong hash", map[string]string{"user_id": "user-42", "user_hash": auth.HMACHex([]byte(id.Secret), "user-43")}, 403, ""},
		{"other workspace's secret", map[string]string{"user_id": "user-42", "user_hash": auth.HMACHex([]byte(otherID.Secret), "user-42")}, 403, ""},
		{"not hex", map[string]string{"user_id": "user-42", "user_hash": "zz"}, 403, ""},
		{"hash without id", map[string]string{"user_hash": hash}, 400, "user_id"},
		{"id without hash", map[string]string{"user_id": "user-42"}, 400, "user_hash"},
		{"id too long", map[string]string{"user_id": strings.Repeat("x", sphttp.MaxUserIDLen+1), "user_hash": hash}, 400, "user_id"},
		{"id with spaces", map[string]string{"user_id": " user-42", "user_hash": hash}, 400, "user_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, _, field := session(tt.body)
			if st != tt.status || field != tt.field {
				t.Fatalf("status %d field %q, want %d %q", st, field, tt.status, tt.field)
			}
		})
	}
}
