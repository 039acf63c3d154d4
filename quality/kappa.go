package quality

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Kappa is Cohen's kappa between two raters who labelled the same items.
type Kappa struct {
	N int `json:"n"`
	// Observed is the share of items both raters labelled alike (p_o).
	Observed float64 `json:"observed"`
	// Expected is the agreement expected by chance from each rater's
	// label frequencies (p_e).
	Expected float64 `json:"expected"`
	// Value is (p_o - p_e) / (1 - p_e); nil when undefined: no items, or
	// both raters used one and the same label for every item (p_e = 1).
	Value *float64 `json:"kappa"`
}

// CohenKappa returns Cohen's kappa for labels a[i] and b[i] given to item i
// by two raters. It panics when a and b differ in length.
func CohenKappa(a, b []string) Kappa {
	if len(a) != len(b) {
		panic(fmt.Sprintf("quality: CohenKappa of %d and %d labels", len(a), len(b)))
	}
	k := Kappa{N: len(a)}
	if k.N == 0 {
		return k
	}
	ca, cb := map[string]int{}, map[string]int{}
	agree := 0
	for i := range a {
		ca[a[i]]++
		cb[b[i]]++
		if a[i] == b[i] {
			agree++
		}
	}
	n := float64(k.N)
	k.Observed = float64(agree) / n
	for label, x := range ca {
		k.Expected += float64(x) / n * float64(cb[label]) / n
	}
	if k.Expected >= 1 {
		return k
	}
	v := (k.Observed - k.Expected) / (1 - k.Expected)
	k.Value = &v
	return k
}

// ItemAgreement is the agreement between the automatic and the human
// result of one scorecard item over reviewed conversations.
type ItemAgreement struct {
	Rule string `json:"rule"`
	Kappa
	// Changed counts the reviews where the human result differs.
	Changed int `json:"changed"`
}

// Labels of an item result in agreement statistics.
const (
	labelPass = "pass"
	labelFail = "fail"
	labelNA   = "n/a"
)

func label(it ItemResult) string {
	switch {
	case !it.Applicable:
		return labelNA
	case it.Passed:
		return labelPass
	}
	return labelFail
}

// AgreementOf computes per-item agreement over reviewed scorecards (those
// with ReviewVersion > 0 and their overrides loaded): the automatic label
// of each item (pass, fail, n/a) against the human one. An item the
// reviewer left alone counts as accepted (human = automatic); an item that
// did not apply and was not overridden on either side is left out.
func AgreementOf(cards []*Scorecard) []ItemAgreement {
	auto, human := map[string][]string{}, map[string][]string{}
	var order []string
	for _, c := range cards {
		if c.ReviewVersion == 0 {
			continue
		}
		final := applyOverrides(c.Auto, c.Overrides)
		for i, it := range c.Auto {
			a, h := label(it), label(final[i])
			if a == labelNA && h == labelNA {
				continue
			}
			if _, ok := auto[it.Rule]; !ok {
				order = append(order, it.Rule)
			}
			auto[it.Rule], human[it.Rule] = append(auto[it.Rule], a), append(human[it.Rule], h)
		}
	}
	rank := map[string]int{}
	for i, r := range Rules() {
		rank[r] = i
	}
	slices.SortStableFunc(order, func(a, b string) int { return rank[a] - rank[b] })
	out := make([]ItemAgreement, 0, len(order))
	for _, r := range order {
		ag := ItemAgreement{Rule: r, Kappa: CohenKappa(auto[r], human[r])}
		for i := range auto[r] {
			if auto[r][i] != human[r][i] {
				ag.Changed++
			}
		}
		out = append(out, ag)
	}
	return out
}

// MaxAgreementCards bounds the reviewed scorecards one Agreement reads.
const MaxAgreementCards = 5000

// Agreement returns per-item agreement between automatic and human results
// over the workspace's scorecards reviewed and resolved in [from, to)
// (zero times do not bound).
func (s *Store) Agreement(ctx context.Context, ws string, from, to time.Time) ([]ItemAgreement, int, error) {
	reviewed := true
	f := ScorecardFilter{WorkspaceID: ws, From: from, To: to, Reviewed: &reviewed}
	where, args := f.where()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+cardColumns+` FROM qa_scorecards WHERE `+where+
		` ORDER BY resolved_at DESC LIMIT ?`), append(args, MaxAgreementCards)...)
	if err != nil {
		return nil, 0, fmt.Errorf("quality: agreement: %w", err)
	}
	var cards []*Scorecard
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("quality: agreement: %w", err)
		}
		cards = append(cards, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("quality: agreement: %w", err)
	}
	// Overrides exist only where people reviewed: read the workspace's
	// at once rather than one query per card.
	type key struct {
		conv string
		seq  int64
	}
	byCard := map[key][]Override{}
	orows, err := s.db.QueryContext(ctx, s.q(`SELECT conversation_id, resolved_seq, rule, passed FROM qa_overrides WHERE workspace_id = ?`), ws)
	if err != nil {
		return nil, 0, fmt.Errorf("quality: agreement: %w", err)
	}
	defer orows.Close()
	for orows.Next() {
		var k key
		var o Override
		var passed int
		if err := orows.Scan(&k.conv, &k.seq, &o.Rule, &passed); err != nil {
			return nil, 0, fmt.Errorf("quality: agreement: %w", err)
		}
		o.Passed = passed != 0
		byCard[k] = append(byCard[k], o)
	}
	if err := orows.Err(); err != nil {
		return nil, 0, fmt.Errorf("quality: agreement: %w", err)
	}
	for _, c := range cards {
		c.Overrides = byCard[key{c.ConversationID, c.ResolvedSeq}]
	}
	return AgreementOf(cards), len(cards), nil
}
