package bot

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"time"

	"github.com/starpost/starpost/text"
)

// EvalReport holds what EvalBANKING77 measured. Everything is trained on
// the train split only; the thresholds are the package defaults (Policy,
// TrainOptions) and fitted on train folds, never on the test split.
type EvalReport struct {
	Train, Test, Intents int
	// Accuracy of the top intent on the test split.
	Accuracy  float64
	TrainTime time.Duration
	ModelSize int // bytes of MarshalBinary
	// CVAccuracy is the out-of-fold accuracy on train.
	CVAccuracy  float64
	Temperature float64
	// ECERaw and ECECalibrated are the test split's expected calibration
	// errors (10 bins) of the softmax at temperature 1 and at the fitted
	// temperature.
	ECERaw, ECECalibrated float64
	// What the bot's policy does with the test questions: answer (and how
	// often that answer is right), clarify (and how often the right intent
	// is one of the two options), or not answer (rephrase or hand over).
	AnswerRate, AnswerAccuracy float64
	ClarifyRate, ClarifyHit    float64
	NoAnswerRate               float64
	LatencyP50, LatencyP99     time.Duration

	// Out-of-scope: OOSIntents intents held out of training entirely; their
	// test questions are out of scope for a model trained on the others.
	OOSIntents int
	OOSTest    int // out-of-scope test questions
	InTest     int // in-scope test questions
	// AUROC of confidence and of similarity at telling in-scope from
	// out-of-scope questions (1 = perfect, 0.5 = chance).
	AUROCConfidence, AUROCSimilarity float64
	// With the default policy: share of out-of-scope questions the bot
	// does not answer (it asks to rephrase or hands over), share of
	// in-scope questions it answers, and how often those answers are right.
	OOSNotAnswered, InAnswered, InAnswerAccuracy float64
	InAccuracy                                   float64 // top-intent accuracy on the in-scope test questions
	// Sweep shows the same three figures at other answer thresholds
	// (Policy.AnswerAt), for reading the trade-off; the default is not
	// chosen from it.
	Sweep []SweepPoint
}

// SweepPoint is the out-of-scope trade-off at one answer threshold.
type SweepPoint struct {
	AnswerAt                                     float64
	OOSNotAnswered, InAnswered, InAnswerAccuracy float64
}

// EvalBANKING77 trains the bot's intent model on dataDir/train.csv
// (BANKING77: CSV text,category) and measures it on dataDir/test.csv:
// accuracy, calibration before and after temperature scaling, what the
// bot's default policy would do, and out-of-scope detection with 10 intents
// held out of training. It writes a summary to w.
func EvalBANKING77(ctx context.Context, dataDir string, w io.Writer) (*EvalReport, error) {
	trX, trY, teX, teY, tok, err := readEvalData(dataDir)
	if err != nil {
		return nil, err
	}
	rep := &EvalReport{Train: len(trX), Test: len(teX)}
	opts := TrainOptions{Seed: 1}
	policy := Policy{}.withDefaults()

	// 1. All intents.
	start := time.Now()
	m, err := Train(ctx, tok, examples(trX, trY, nil), nil, opts)
	if err != nil {
		return nil, err
	}
	rep.TrainTime = time.Since(start)
	blob, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	rep.ModelSize, rep.Intents = len(blob), m.Metrics.Intents
	rep.CVAccuracy, rep.Temperature = m.Metrics.CVAccuracy, m.Metrics.Temperature
	labels := map[string]int{}
	for i, l := range m.clf.Labels {
		labels[l] = i
	}
	var scores [][]float64
	var ys []int
	lat := make([]time.Duration, 0, len(teX))
	var correct, answered, answeredRight, clarified, clarifyHit, none int
	for i, s := range teX {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		t0 := time.Now()
		p := m.Predict(s)
		lat = append(lat, time.Since(t0))
		sc, _ := m.clf.Score(m.clf.Vec.Transform(s))
		scores = append(scores, sc)
		ys = append(ys, labels[teY[i]])
		if p.Intent == teY[i] {
			correct++
		}
		switch t := policy.Decide(Input{Text: s, Pred: &p, MaxFailedTurns: 2}); t.Action {
		case ActAnswer:
			answered++
			if t.Intent == teY[i] {
				answeredRight++
			}
		case ActClarify:
			clarified++
			if t.Options[0] == teY[i] || t.Options[1] == teY[i] {
				clarifyHit++
			}
		default:
			none++
		}
	}
	n := float64(len(teX))
	rep.Accuracy = float64(correct) / n
	rep.ECERaw, rep.ECECalibrated = ece(scores, ys, 1), ece(scores, ys, m.Metrics.Temperature)
	rep.AnswerRate, rep.AnswerAccuracy = float64(answered)/n, ratio(answeredRight, answered)
	rep.ClarifyRate, rep.ClarifyHit = float64(clarified)/n, ratio(clarifyHit, clarified)
	rep.NoAnswerRate = float64(none) / n
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rep.LatencyP50, rep.LatencyP99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]

	// 2. Out of scope: hold 10 intents out of training.
	names := append([]string(nil), m.clf.Labels...)
	sort.Strings(names)
	rng := rand.New(rand.NewPCG(7, 77))
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	held := map[string]bool{}
	for _, l := range names[:10] {
		held[l] = true
	}
	rep.OOSIntents = len(held)
	mi, err := Train(ctx, tok, examples(trX, trY, held), nil, opts)
	if err != nil {
		return nil, err
	}
	var confIn, confOut, simIn, simOut []float64
	var oosNot, inAns, inAnsRight, inRight int
	sweep := []float64{0.3, 0.5, 0.7, 0.9}
	swOOS, swIn, swRight := make([]int, len(sweep)), make([]int, len(sweep)), make([]int, len(sweep))
	for i, s := range teX {
		p := mi.Predict(s)
		t := policy.Decide(Input{Text: s, Pred: &p, MaxFailedTurns: 2})
		for k, a := range sweep {
			pk := policy
			pk.AnswerAt = a
			tk := pk.Decide(Input{Text: s, Pred: &p, MaxFailedTurns: 2})
			switch {
			case held[teY[i]] && tk.Action != ActAnswer:
				swOOS[k]++
			case !held[teY[i]] && tk.Action == ActAnswer:
				swIn[k]++
				if tk.Intent == teY[i] {
					swRight[k]++
				}
			}
		}
		if held[teY[i]] {
			confOut, simOut = append(confOut, p.Confidence), append(simOut, p.Similarity)
			if t.Action != ActAnswer {
				oosNot++
			}
			continue
		}
		confIn, simIn = append(confIn, p.Confidence), append(simIn, p.Similarity)
		if p.Intent == teY[i] {
			inRight++
		}
		if t.Action == ActAnswer {
			inAns++
			if t.Intent == teY[i] {
				inAnsRight++
			}
		}
	}
	rep.OOSTest, rep.InTest = len(confOut), len(confIn)
	rep.AUROCConfidence, rep.AUROCSimilarity = auroc(confIn, confOut), auroc(simIn, simOut)
	rep.OOSNotAnswered = ratio(oosNot, len(confOut))
	rep.InAnswered, rep.InAnswerAccuracy, rep.InAccuracy = ratio(inAns, len(confIn)), ratio(inAnsRight, inAns), ratio(inRight, len(confIn))
	for k, a := range sweep {
		rep.Sweep = append(rep.Sweep, SweepPoint{AnswerAt: a, OOSNotAnswered: ratio(swOOS[k], len(confOut)),
			InAnswered: ratio(swIn[k], len(confIn)), InAnswerAccuracy: ratio(swRight[k], swIn[k])})
	}

	if w != nil {
		fmt.Fprintf(w, "bot: BANKING77 train %d, test %d, %d intents; training %.1f s (3-fold calibration included), model %.1f MiB\n",
			rep.Train, rep.Test, rep.Intents, rep.TrainTime.Seconds(), float64(rep.ModelSize)/(1<<20))
		fmt.Fprintf(w, "bot: test accuracy %.2f %% (cv on train %.2f %%); ECE before calibration %.3f, after %.3f (temperature %.3g fitted out-of-fold on train)\n",
			100*rep.Accuracy, 100*rep.CVAccuracy, rep.ECERaw, rep.ECECalibrated, rep.Temperature)
		fmt.Fprintf(w, "bot: default policy on test: answers %.1f %% (%.2f %% of them right), clarifies %.1f %% (right intent among the two %.1f %%), does not answer %.1f %%; latency p50 %s p99 %s\n",
			100*rep.AnswerRate, 100*rep.AnswerAccuracy, 100*rep.ClarifyRate, 100*rep.ClarifyHit, 100*rep.NoAnswerRate, rep.LatencyP50, rep.LatencyP99)
		fmt.Fprintf(w, "bot: out of scope (%d intents held out of training): %d out-of-scope and %d in-scope test questions; AUROC confidence %.3f, similarity %.3f\n",
			rep.OOSIntents, rep.OOSTest, rep.InTest, rep.AUROCConfidence, rep.AUROCSimilarity)
		fmt.Fprintf(w, "bot: default policy: does not answer %.1f %% of out-of-scope questions; answers %.1f %% of in-scope ones, %.2f %% of those right (in-scope top-intent accuracy %.2f %%)\n",
			100*rep.OOSNotAnswered, 100*rep.InAnswered, 100*rep.InAnswerAccuracy, 100*rep.InAccuracy)
		for _, sp := range rep.Sweep {
			fmt.Fprintf(w, "bot:   answer threshold %.1f: does not answer %.1f %% out of scope; answers %.1f %% in scope, %.2f %% right\n",
				sp.AnswerAt, 100*sp.OOSNotAnswered, 100*sp.InAnswered, 100*sp.InAnswerAccuracy)
		}
	}
	return rep, nil
}

// readEvalData reads a labelled train and test split (CSV text,category:
// dataDir/train.csv and test.csv) and makes the tokenizer the server's bot
// uses.
func readEvalData(dataDir string) (trX, trY, teX, teY []string, tok *text.Tokenizer, err error) {
	if trX, trY, err = text.ReadLabelledCSV(filepath.Join(dataDir, "train.csv")); err != nil {
		return
	}
	if teX, teY, err = text.ReadLabelledCSV(filepath.Join(dataDir, "test.csv")); err != nil {
		return
	}
	tok, err = text.NewTokenizer(TokenizerOptions())
	return
}

// examples pairs texts with labels, leaving out the labels in skip.
func examples(texts, labels []string, skip map[string]bool) []Example {
	out := make([]Example, 0, len(texts))
	for i, t := range texts {
		if !skip[labels[i]] {
			out = append(out, Example{Text: t, Intent: labels[i]})
		}
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// auroc is the probability that a random in-scope score is higher than a
// random out-of-scope one (ties count half): the area under the ROC curve.
func auroc(in, out []float64) float64 {
	if len(in) == 0 || len(out) == 0 {
		return 0
	}
	type pt struct {
		v  float64
		in bool
	}
	all := make([]pt, 0, len(in)+len(out))
	for _, v := range in {
		all = append(all, pt{v, true})
	}
	for _, v := range out {
		all = append(all, pt{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	// Mann-Whitney U with average ranks for ties.
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		r := float64(i+j+1) / 2 // ranks i+1 .. j, averaged
		for k := i; k < j; k++ {
			if all[k].in {
				rankSum += r
			}
		}
		i = j
	}
	nIn, nOut := float64(len(in)), float64(len(out))
	return (rankSum - nIn*(nIn+1)/2) / (nIn * nOut)
}
