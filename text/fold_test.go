package text

import (
	"testing"
	"unicode"
)

// TestFoldMatchesUnicodeTables checks the range fast paths of fold and
// isHan against the unicode tables over every code point.
func TestFoldMatchesUnicodeTables(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := isHan(r), unicode.Is(unicode.Han, r); got != want {
			t.Fatalf("isHan(%U) = %v, want %v", r, got, want)
		}
		f := r
		if r >= 0xFF01 && r <= 0xFF5E {
			f -= 0xFEE0
		} else if r == 0x3000 {
			f = ' '
		}
		if got, want := fold(r), unicode.ToLower(f); got != want {
			t.Fatalf("fold(%U) = %U, want %U", r, got, want)
		}
	}
}
