package draft_test

import (
	"strings"
	"testing"

	"github.com/starpost/starpost/draft"
)

// FuzzCite feeds arbitrary model output: every citation left in the text
// names a given source, and every cited source appears in the text.
func FuzzCite(f *testing.F) {
	f.Add("refund in 3 days [1][2] see [3] [999] [abc] [")
	f.Add("[0][01][1]")
	srcs := []draft.Source{{N: 1, ID: "a"}, {N: 2, ID: "b"}}
	f.Fuzz(func(t *testing.T, in string) {
		out, cited := draft.Cite(in, srcs)
		for _, c := range cited {
			if !strings.Contains(out, "["+string(rune('0'+c.N))+"]") {
				t.Fatalf("cited %d but %q does not cite it", c.N, out)
			}
		}
		if len(cited) > len(srcs) {
			t.Fatalf("%d citations of %d sources", len(cited), len(srcs))
		}
	})
}
