package auth_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost/auth"
)

func TestPasswords(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"good", "correct horse", true},
		{"too short", "short", false},
		{"eight runes", "密码密码密码密码", true},
		{"too long for bcrypt", strings.Repeat("x", 73), false},
		{"exactly 72 bytes", strings.Repeat("x", 72), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := auth.HashPassword(tt.pw)
			if !tt.ok {
				if !errors.Is(err, auth.ErrInvalidPassword) {
					t.Fatalf("err %v, want ErrInvalidPassword", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !auth.ComparePassword(h, tt.pw) || auth.ComparePassword(h, tt.pw+"x") || auth.ComparePassword("", tt.pw) {
				t.Fatal("compare")
			}
		})
	}
}

func TestSigner(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	secret := []byte("0123456789abcdef0123456789abcdef")
	s := auth.NewSigner(secret, "session")
	type claims struct{ U string }
	tok, err := s.Sign(claims{U: "us_1"}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer *auth.Signer
		token  string
		at     time.Time
		ok     bool
	}{
		{"valid", s, tok, now, true},
		{"expired", s, tok, now.Add(time.Hour), false},
		{"other purpose", auth.NewSigner(secret, "visitor"), tok, now, false},
		{"other secret", auth.NewSigner([]byte("another secret another secret!!!"), "session"), tok, now, false},
		{"tampered payload", s, "x" + tok, now, false},
		{"no signature", s, strings.Split(tok, ".")[0], now, false},
		{"empty", s, "", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c claims
			err := tt.signer.Verify(tt.token, tt.at, &c)
			if tt.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && c.U != "us_1" {
				t.Fatalf("claims %+v", c)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	a, err := auth.NewSecret("spt_")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := auth.NewSecret("spt_")
	if a == b || !strings.HasPrefix(a, "spt_") || len(a) < 40 {
		t.Fatalf("secrets %q %q", a, b)
	}
	if auth.HashSecret(a) == auth.HashSecret(b) || len(auth.HashSecret(a)) != 64 {
		t.Fatal("hash")
	}
}

func ExampleHashPassword() {
	hash, err := auth.HashPassword("demo-password")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(auth.ComparePassword(hash, "demo-password"), auth.ComparePassword(hash, "guess"))
	// Output: true false
}
