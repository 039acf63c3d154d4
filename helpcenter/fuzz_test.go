package helpcenter

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/starpost/starpost/kb"
)

// FuzzLanguage feeds arbitrary Accept-Language headers and lang parameters:
// the answer is always zh or en.
func FuzzLanguage(f *testing.F) {
	for _, s := range []string{"zh-CN,zh;q=0.9,en;q=0.8", "en;q=0.5, zh;q=0.51", ";q=", "zh;q=1.5", "*", ""} {
		f.Add(s, "")
	}
	f.Add("", "zh")
	f.Fuzz(func(t *testing.T, header, param string) {
		r := httptest.NewRequest("GET", "/help/ws/", nil)
		r.Header.Set("Accept-Language", header)
		q := r.URL.Query()
		q.Set("lang", param)
		r.URL.RawQuery = q.Encode()
		if l := language(r); l != "zh" && l != "en" {
			t.Fatalf("language %q", l)
		}
	})
}

// FuzzMark feeds arbitrary snippets and highlight ranges: the segments
// always put the snippet back together, valid UTF-8 stays valid.
func FuzzMark(f *testing.F) {
	f.Add("退款政策 refund within 7 days", 0, 6, 13, 19)
	f.Add("abc", 2, 1, -1, 5)
	f.Fuzz(func(t *testing.T, s string, a, b, c, d int) {
		hs := []kb.Highlight{{Field: "snippet", Start: a, End: b}, {Field: "snippet", Start: c, End: d}}
		var sb strings.Builder
		for _, seg := range mark(s, hs) {
			if seg.Text == "" {
				t.Fatalf("empty segment")
			}
			if utf8.ValidString(s) && !utf8.ValidString(seg.Text) {
				t.Fatalf("segment %q cuts a character", seg.Text)
			}
			sb.WriteString(seg.Text)
		}
		if sb.String() != s {
			t.Fatalf("segments make %q, want %q", sb.String(), s)
		}
	})
}
