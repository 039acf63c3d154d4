package emotion

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"
)

// SetReport holds the test-split figures of one data set.
type SetReport struct {
	TaskResult
	// Test is the number of test examples.
	Test int
	// Accuracy and MacroF1 are measured on the test split.
	Accuracy, MacroF1 float64
	// F1 is the test F1 of every class by label.
	F1 map[string]float64
}

// Report holds everything Eval measured.
type Report struct {
	// Sets has one entry per data set found, in a fixed order (abuse,
	// sentiment, emotion, emotion_en).
	Sets []SetReport
	// AnalyzeP50 and AnalyzeP99 are per-message latencies of
	// Analyzer.Analyze (all models) over the Chinese and English test
	// messages.
	AnalyzeP50, AnalyzeP99 time.Duration
	// LoadEmbedded is the time LoadEmbedded took for the shipped models
	// (0 if they are not built).
	LoadEmbedded time.Duration
	// ModelBytes is the total compressed size of the freshly trained models.
	ModelBytes int
	// TrainTime is the wall time of training and model selection.
	TrainTime time.Duration
}

// Set returns the report of the named task ("abuse", "sentiment",
// "emotion", "emotion_en"), or nil.
func (r *Report) Set(task string) *SetReport {
	for i := range r.Sets {
		if r.Sets[i].Task == task {
			return &r.Sets[i]
		}
	}
	return nil
}

// Eval trains every model exactly as Train does (features, C and class
// weights chosen on the development split, offsets and temperature
// calibrated on it, then refitted on train and development) from the
// data sets under dataDir, then reports accuracy, macro-F1 and per-class F1
// on each test split, with the per-message latency of the full Analyzer. It
// writes a human-readable summary to w (nil for none). Data sets that are
// missing are skipped.
func Eval(ctx context.Context, dataDir string, w io.Writer) (*Report, error) {
	if w == nil {
		w = io.Discard
	}
	rep := &Report{}
	t0 := time.Now()
	if _, err := LoadEmbedded(); err == nil {
		rep.LoadEmbedded = time.Since(t0)
	}
	start := time.Now()
	models, results, err := buildModels(ctx, dataDir, nil, io.Discard)
	if err != nil {
		return nil, err
	}
	rep.TrainTime = time.Since(start)
	var sample []string
	for _, res := range results {
		var tk task
		for _, x := range tasks() {
			if x.name == res.Task {
				tk = x
			}
		}
		test, err := tk.read(dataDir, "test")
		if err != nil {
			return nil, err
		}
		m := models[res.Task]
		pred := make([]int, len(test.texts))
		for i, s := range test.texts {
			if i%512 == 0 && ctx.Err() != nil {
				return nil, fmt.Errorf("emotion: eval: %w", ctx.Err())
			}
			_, pred[i] = m.Predict(s)
		}
		acc, mf1, pc := metrics(test.ys, pred, len(m.Labels))
		sr := SetReport{TaskResult: res, Test: len(test.texts), Accuracy: acc, MacroF1: mf1, F1: map[string]float64{}}
		for c, l := range m.Labels {
			sr.F1[l] = pc[c]
		}
		rep.Sets = append(rep.Sets, sr)
		rep.ModelBytes += res.Bytes
		if res.Task == "emotion" || res.Task == "emotion_en" {
			sample = append(sample, test.texts...)
		}
	}
	a := NewAnalyzer(Models{Abuse: models["abuse"], Sentiment: models["sentiment"], Emotion: models["emotion"], EmotionEn: models["emotion_en"]})
	lat := make([]time.Duration, len(sample))
	for i, s := range sample {
		if i%512 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("emotion: eval: %w", ctx.Err())
		}
		t := time.Now()
		a.Analyze(s)
		lat[i] = time.Since(t)
	}
	rep.AnalyzeP50, rep.AnalyzeP99 = percentile(lat, 0.50), percentile(lat, 0.99)
	rep.write(w)
	return rep, nil
}

func (r *Report) write(w io.Writer) {
	fmt.Fprintf(w, "%-20s %7s %6s %6s  %-8s %-9s %-44s %s\n", "data set (test)", "train", "dev", "test", "accuracy", "macro-F1", "chosen on dev", "per-class F1")
	for _, s := range r.Sets {
		labels := make([]string, 0, len(s.F1))
		for l := range s.F1 {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		pc := ""
		for _, l := range labels {
			pc += fmt.Sprintf("%s %.3f  ", l, s.F1[l])
		}
		words := "     "
		if s.Spec.Words {
			words = "words"
		}
		fmt.Fprintf(w, "%-20s %7d %6d %6d  %6.2f %%  %.4f    chars %d-%d %s lex %.1f nb %.1f C %-4g cw %g  %s\n",
			s.Data, s.Train, s.Dev, s.Test, 100*s.Accuracy, s.MacroF1, s.Spec.CharMin, s.Spec.CharMax, words, s.Spec.LexiconWeight, s.Spec.NB, s.C, s.ClassWeight, pc)
	}
	if s := r.Set("emotion"); s != nil {
		fmt.Fprintf(w, "SMP2020-EWECT usual: macro-F1 %.4f, F1 of angry %.4f\n", s.MacroF1, s.F1["angry"])
	}
	fmt.Fprintf(w, "models %.2f MB compressed; training and selection %.1f s; load embedded %s\n",
		float64(r.ModelBytes)/1e6, r.TrainTime.Seconds(), r.LoadEmbedded.Round(time.Microsecond))
	fmt.Fprintf(w, "Analyze latency per message: p50 %s  p99 %s\n", r.AnalyzeP50.Round(time.Microsecond), r.AnalyzeP99.Round(time.Microsecond))
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(int(q*float64(len(s))), len(s)-1)]
}
