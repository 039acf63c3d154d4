package bot

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
)

// TagCurvePoint is the bot's test accuracy with the FAQ variants and a
// share of the tagged conversations as training data.
type TagCurvePoint struct {
	TagShare float64 // share of the available tagged conversations used
	Tags     int     // tagged examples used
	Accuracy float64 // top-intent accuracy on the test split
}

// TagEvalReport holds what EvalTagLearning measured.
type TagEvalReport struct {
	Intents, FAQVariants, Test int
	Curve                      []TagCurvePoint
}

// EvalTagLearning measures what intent tags of resolved conversations add
// to the bot on BANKING77 (dataDir/train.csv and test.csv): each intent's
// FAQ holds faqVariants questions of the train split (chosen at random with
// a fixed seed), the intent's other train questions play the customers'
// first messages of tagged conversations, and the bot's model is trained
// on the FAQ variants plus 0 %, 10 %, 25 %, 50 % and 100 % of the tags (the
// same random order for every share) and measured on the test split. It
// writes a table to w.
func EvalTagLearning(ctx context.Context, dataDir string, faqVariants int, w io.Writer) (*TagEvalReport, error) {
	if faqVariants < 1 {
		return nil, fmt.Errorf("bot: faq variants %d, want at least 1", faqVariants)
	}
	trX, trY, teX, teY, tok, err := readEvalData(dataDir)
	if err != nil {
		return nil, err
	}
	byIntent := map[string][]string{}
	for i, s := range trX {
		byIntent[trY[i]] = append(byIntent[trY[i]], s)
	}
	names := make([]string, 0, len(byIntent))
	for k := range byIntent {
		names = append(names, k)
	}
	sort.Strings(names)
	rng := rand.New(rand.NewPCG(7, 77))
	var faq, tags []Example
	for _, k := range names {
		qs := byIntent[k]
		rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		n := min(faqVariants, len(qs))
		for _, q := range qs[:n] {
			faq = append(faq, Example{Text: q, Intent: k})
		}
		for _, q := range qs[n:] {
			tags = append(tags, Example{Text: q, Intent: k})
		}
	}
	rng.Shuffle(len(tags), func(i, j int) { tags[i], tags[j] = tags[j], tags[i] })
	rep := &TagEvalReport{Intents: len(names), FAQVariants: faqVariants, Test: len(teX)}
	fmt.Fprintf(w, "BANKING77: %d intents, %d FAQ variants each, %d tagged conversations available, %d test questions\n",
		len(names), faqVariants, len(tags), len(teX))
	fmt.Fprintf(w, "%-10s %8s %9s\n", "tags used", "examples", "accuracy")
	for _, share := range []float64{0, 0.1, 0.25, 0.5, 1} {
		n := int(share * float64(len(tags)))
		ex := append(append([]Example(nil), faq...), tags[:n]...)
		m, err := Train(ctx, tok, ex, nil, TrainOptions{Seed: 1})
		if err != nil {
			return nil, err
		}
		right := 0
		for i, s := range teX {
			if m.Predict(s).Intent == teY[i] {
				right++
			}
		}
		p := TagCurvePoint{TagShare: share, Tags: n, Accuracy: ratio(right, len(teX))}
		rep.Curve = append(rep.Curve, p)
		fmt.Fprintf(w, "%9.0f%% %8d %8.2f%%\n", 100*share, len(ex), 100*p.Accuracy)
	}
	return rep, nil
}
