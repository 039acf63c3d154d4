package quality

import (
	"strings"
	"testing"
	"unicode"
)

// TestFastPathsMatchReference checks the table-free shortcuts of the
// inspection against the code they replace.
func TestFastPathsMatchReference(t *testing.T) {
	for _, s := range []string{"", "Hello WORLD", "你好，我的快递还没到？", "ÀÉÎ Straße ΣΑΣ", "Ｈｉ　ＴＨＥＲＥ", "İstanbul", "混合 Text 123！"} {
		if got, want := lowerText(s), strings.ToLower(s); got != want {
			t.Errorf("lowerText(%q) = %q, want %q", s, got, want)
		}
	}
	stop := "的了是在我有和就不人都一也很到说要去你会着看好这那吗吧呢啊呀哦嗯么们他她它请把被让给从对与及或而还又之其为以可能您什怎个下"
	for r := rune(0); r <= 0xFFFF; r++ {
		if got, want := isZhStop(r), strings.ContainsRune(stop, r); got != want {
			t.Fatalf("isZhStop(%U) = %v, want %v", r, got, want)
		}
		if got, want := isHanRune(r), unicode.Is(unicode.Han, r); got != want {
			t.Fatalf("isHanRune(%U) = %v, want %v", r, got, want)
		}
	}
}

// TestBagCounts checks that a bag counts repeated terms once with their
// count and marks bigrams and stop characters.
func TestBagCounts(t *testing.T) {
	b := bag("快递快递的 boxes box")
	var total float64
	grams, stops := 0, 0
	for _, x := range b {
		total += x.w
		if x.gram() {
			grams++
		}
		if x.stop() {
			stops++
		}
	}
	// 快 递 快 递 的 (5 characters), 快递 递快 快递 递的 (4 bigrams), box box.
	if total != 11 || len(b) != 7 || grams != 3 || stops != 1 {
		t.Fatalf("bag: %d terms, total %v, %d bigrams, %d stop: %+v", len(b), total, grams, stops, b)
	}
	if c := cosine(bag("快递到了吗"), bag("您的快递明天到")); c <= 0 || c >= 1 {
		t.Fatalf("cosine = %v", c)
	}
}
