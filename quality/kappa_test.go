package quality_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/starpost/starpost/quality"
)

// labels expands "p3 f2" into ["p","p","p","f","f"].
func labels(spec string) []string {
	var out []string
	for _, part := range strings.Fields(spec) {
		var n int
		fmt.Sscanf(part[1:], "%d", &n)
		for range n {
			out = append(out, part[:1])
		}
	}
	return out
}

func TestCohenKappa(t *testing.T) {
	tests := []struct {
		name     string
		a, b     []string
		observed float64
		expected float64
		kappa    *float64 // nil: undefined
	}{
		// 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15.
		// p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5 = 0.4.
		{"textbook 2x2", labels("y20 y5 n10 n15"), labels("y20 n5 y10 n15"), 0.7, 0.5, ptr(0.4)},
		// Perfect agreement with both labels used: κ = 1.
		{"perfect", labels("p3 f2"), labels("p3 f2"), 1, 0.52, ptr(1.0)},
		// Complete disagreement, balanced: p_o = 0, p_e = 0.5, κ = -1.
		{"opposite", labels("p2 f2"), labels("f2 p2"), 0, 0.5, ptr(-1.0)},
		// Agreement at chance: a says p on 2 of 4, b on 2 of 4, they agree on
		// 2: p_o = 0.5, p_e = 0.5, κ = 0.
		{"chance", labels("p1 p1 f1 f1"), labels("p1 f1 p1 f1"), 0.5, 0.5, ptr(0.0)},
		// Three categories (pass, fail, n/a): a = p p f n n, b = p f f n p.
		// p_o = 3/5; p_e = (2/5·2/5) + (1/5·2/5) + (2/5·1/5) = 8/25; κ = (15/25-8/25)/(17/25) = 7/17.
		{"three labels", []string{"p", "p", "f", "n", "n"}, []string{"p", "f", "f", "n", "p"}, 0.6, 0.32, ptr(7.0 / 17)},
		// One rater always says pass, the other mostly: p_e = 0.8, p_o = 0.8, κ = 0.
		{"one rater constant", labels("p5"), labels("p4 f1"), 0.8, 0.8, ptr(0.0)},
		// Both always pass: p_e = 1, κ undefined.
		{"both constant", labels("p4"), labels("p4"), 1, 1, nil},
		{"empty", nil, nil, 0, 0, nil},
		{"single item", []string{"p"}, []string{"f"}, 0, 0, ptr(0.0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := quality.CohenKappa(tt.a, tt.b)
			if k.N != len(tt.a) || math.Abs(k.Observed-tt.observed) > 1e-9 || math.Abs(k.Expected-tt.expected) > 1e-9 {
				t.Errorf("n %d p_o %v p_e %v, want %d %v %v", k.N, k.Observed, k.Expected, len(tt.a), tt.observed, tt.expected)
			}
			switch {
			case tt.kappa == nil && k.Value != nil:
				t.Errorf("kappa %v, want undefined", *k.Value)
			case tt.kappa != nil && (k.Value == nil || math.Abs(*k.Value-*tt.kappa) > 1e-9):
				t.Errorf("kappa %v, want %v", k.Value, *tt.kappa)
			}
		})
	}
}

func TestCohenKappaPanicsOnLengths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	quality.CohenKappa([]string{"p"}, nil)
}

func TestAgreementOf(t *testing.T) {
	item := func(rule string, applicable, passed bool) quality.ItemResult {
		return quality.ItemResult{Rule: rule, Weight: 1, Applicable: applicable, Passed: passed}
	}
	card := func(version int64, items []quality.ItemResult, ovs ...quality.Override) *quality.Scorecard {
		return &quality.Scorecard{Auto: items, Overrides: ovs, ReviewVersion: version}
	}
	g, e := quality.RuleGreeting, quality.RuleEmpathy
	cards := []*quality.Scorecard{
		card(1, []quality.ItemResult{item(g, true, true), item(e, false, false)}),                                            // accepted
		card(1, []quality.ItemResult{item(g, true, false), item(e, false, false)}, quality.Override{Rule: g, Passed: true}),  // g fail→pass
		card(2, []quality.ItemResult{item(g, true, false), item(e, false, false)}, quality.Override{Rule: e, Passed: false}), // e n/a→fail
		card(0, []quality.ItemResult{item(g, true, false), item(e, true, true)}, quality.Override{Rule: g, Passed: true}),    // not reviewed
		card(1, []quality.ItemResult{item(g, true, true), item(e, true, true)}),                                              // accepted
	}
	got := quality.AgreementOf(cards)
	if len(got) != 2 || got[0].Rule != g || got[1].Rule != e {
		t.Fatalf("%+v", got)
	}
	// greeting: auto p f f p, human p p f p: p_o 3/4, p_e = 2/4·3/4 + 2/4·1/4 = 1/2, κ = 1/2.
	if a := got[0]; a.N != 4 || a.Changed != 1 || a.Value == nil || math.Abs(*a.Value-0.5) > 1e-9 {
		t.Errorf("greeting %+v", a)
	}
	// empathy: only the cards where it applied on one side: auto n/a, p; human f, p.
	// p_o 1/2, p_e = (1/2·0)+(1/2·1/2)+(0·1/2) = 1/4, κ = (1/4)/(3/4) = 1/3.
	if a := got[1]; a.N != 2 || a.Changed != 1 || a.Value == nil || math.Abs(*a.Value-1.0/3) > 1e-9 {
		t.Errorf("empathy %+v", a)
	}
}
