package quality_test

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/starpost/starpost/quality"
)

// evalData returns the shared evaluation data folder (STARPOST_DATA or
// /work/shared/data), as package text's evaluations do.
func evalData() string {
	if d := os.Getenv("STARPOST_DATA"); d != "" {
		return d
	}
	return "/work/shared/data"
}

type afqmcPair struct {
	a, b string
	same bool
}

func readAFQMC(t *testing.T, name string) []afqmcPair {
	t.Helper()
	f, err := os.Open(filepath.Join(evalData(), "afqmc", name))
	if err != nil {
		t.Skipf("AFQMC not available: %v", err)
	}
	defer f.Close()
	var out []afqmcPair
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 {
			continue
		}
		out = append(out, afqmcPair{parts[0], parts[1], parts[2] == "1"})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// relevanceSet scores on-topic pairs (AFQMC label 1: the same question
// asked twice) and off-topic ones (each of those questions against the
// second question of a random other pair), and the AFQMC label-0 pairs
// (related, different questions) apart.
func relevanceSet(pairs []afqmcPair, seed uint64) (on, off, related []float64) {
	r := rand.New(rand.NewPCG(seed, seed))
	for _, p := range pairs {
		if p.same {
			on = append(on, quality.LexicalRelevance(p.a, p.b))
			other := pairs[r.IntN(len(pairs))]
			off = append(off, quality.LexicalRelevance(p.a, other.b))
		} else {
			related = append(related, quality.LexicalRelevance(p.a, p.b))
		}
	}
	return on, off, related
}

func below(xs []float64, thr float64) int {
	n := 0
	for _, x := range xs {
		if x < thr {
			n++
		}
	}
	return n
}

// TestRelevanceAFQMC measures the off_topic rule's similarity on AFQMC:
// thresholds are chosen on train (best accuracy, on-topic vs off-topic; and
// the highest that flags at most 1 % of on-topic pairs), and the figures
// are reported on dev; the test split is never read.
// Run: go test -run TestRelevanceAFQMC -v ./quality/
func TestRelevanceAFQMC(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluation on public data")
	}
	train, dev := readAFQMC(t, "train.txt"), readAFQMC(t, "dev.txt")
	on, off, _ := relevanceSet(train, 1)
	cands := append(append([]float64{}, on...), off...)
	sort.Float64s(cands)
	best, bestAcc := 0.0, 0.0
	for i := 0; i < len(cands); i += max(1, len(cands)/2000) {
		thr := cands[i]
		acc := float64(len(on)-below(on, thr)+below(off, thr)) / float64(len(on)+len(off))
		if acc > bestAcc {
			best, bestAcc = thr, acc
		}
	}
	// The conservative point: the highest threshold that flags at most
	// 1 % of the on-topic train pairs (false alarms cost agents' trust).
	sorted := append([]float64{}, on...)
	sort.Float64s(sorted)
	safe := sorted[len(sorted)/100]
	t.Logf("train: %d on-topic, %d off-topic pairs; best-accuracy threshold %.3f (accuracy %.3f); ≤1 %% false-alarm threshold %.3f",
		len(on), len(off), best, bestAcc, safe)
	report := func(name string, thr float64) {
		on, off, related := relevanceSet(dev, 2)
		tp := below(off, thr) // off-topic flagged
		fp := below(on, thr)  // on-topic flagged
		fn := len(off) - tp
		prec := float64(tp) / float64(max(1, tp+fp))
		rec := float64(tp) / float64(max(1, len(off)))
		f1 := 2 * prec * rec / max(1e-9, prec+rec)
		acc := float64(tp+len(on)-fp) / float64(len(on)+len(off))
		t.Logf("dev (%s %.3f): accuracy %.3f, off-topic precision %.3f recall %.3f F1 %.3f; on-topic flagged %.1f %%; related (label 0) flagged %.1f %% (%d/%d/%d, fn %d)",
			name, thr, acc, prec, rec, f1, 100*float64(fp)/float64(len(on)), 100*float64(below(related, thr))/float64(len(related)),
			len(on), len(off), len(related), fn)
		if acc < 0.5 {
			t.Errorf("%s: accuracy %.3f is no better than chance", name, acc)
		}
	}
	report("best accuracy on train", best)
	report("≤1 % false alarms on train", safe)
	report("default", quality.DefaultConfig().OffTopicBelow)
}

// FuzzLexicalRelevance: any two texts (customer and agent messages are
// outside input) give a relevance in [0, 1], the same both ways, and 1 for
// a text with content against itself.
func FuzzLexicalRelevance(f *testing.F) {
	for _, s := range [][2]string{{"退款什么时候到账？", "退款三天内到账"}, {"When will my refund arrive?", "Refunds take 3 days"},
		{"", "x"}, {"\xff\xfe", "花呗"}, {"ｒｅｆｕｎｄ  全角", "refund"}, {"a b c", "a b c"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		r := quality.LexicalRelevance(a, b)
		if r < 0 || r > 1+1e-9 || r != r {
			t.Fatalf("relevance %v of %q and %q", r, a, b)
		}
		if back := quality.LexicalRelevance(b, a); math.Abs(back-r) > 1e-9 {
			t.Fatalf("not symmetric: %v vs %v for %q, %q", r, back, a, b)
		}
		if self := quality.LexicalRelevance(a, a); self != 0 && math.Abs(self-1) > 1e-9 {
			t.Fatalf("self relevance %v of %q", self, a)
		}
	})
}
