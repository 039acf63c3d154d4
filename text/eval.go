package text

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// IntentReport holds the figures EvalIntent measured.
type IntentReport struct {
	Train, Test   int
	Classes       int
	Accuracy      float64
	MacroF1       float64
	CVAccuracy    float64 // cross-validated accuracy on train of the chosen configuration
	CVSVMAccuracy float64 // the same of the SVM alone
	Beta          float64 // weight of the nearest-neighbour similarity cross-validation chose (0: SVM alone)
	C             float64 // regularisation chosen by cross-validation on train
	Temperature   float64 // calibration temperature fitted on train folds
	TrainTime     time.Duration
	ModelBytes    int
	LatencyP50    time.Duration
	LatencyP99    time.Duration
	ExpectedCalib float64 // expected calibration error on the test split (10 bins)
}

// intentOptions is the configuration EvalIntent trains with. The feature set
// and C grid were chosen by cross-validation on the BANKING77 train split
// only.
func intentOptions() ClassifierOptions {
	return ClassifierOptions{
		Features: FeatureConfig{WordNGrams: 2, CharMin: 1, CharMax: 5, MinDF: 1},
		Linear:   LinearConfig{C: 1},
		CGrid:    []float64{1, 2, 4},
		Folds:    3,
		Seed:     1,
		// Blending in nearest-neighbour similarity (Blend) scored 90.41 %
		// against the SVM's 90.36 % in nested 3-fold CV on train: within
		// noise, for a model 3.6 times larger (it must keep the training
		// vectors) and slower; left off.
	}
}

// EvalIntent trains an intent classifier on dataDir/train.csv (CSV
// text,category with a header, as in BANKING77) and reports its accuracy,
// macro-F1, training time, model size and per-message classification latency
// on dataDir/test.csv, writing a human-readable summary to w.
func EvalIntent(ctx context.Context, dataDir string, w io.Writer) (*IntentReport, error) {
	trX, trY, err := readLabelledCSV(filepath.Join(dataDir, "train.csv"))
	if err != nil {
		return nil, err
	}
	teX, teY, err := readLabelledCSV(filepath.Join(dataDir, "test.csv"))
	if err != nil {
		return nil, err
	}
	tok, err := NewTokenizer(TokenizerOptions{})
	if err != nil {
		return nil, err
	}
	return evalIntent(ctx, tok, trX, trY, teX, teY, intentOptions(), w)
}

func evalIntent(ctx context.Context, tok *Tokenizer, trX, trY, teX, teY []string, opts ClassifierOptions, w io.Writer) (*IntentReport, error) {
	start := time.Now()
	clf, err := TrainClassifier(ctx, tok, trX, trY, opts)
	if err != nil {
		return nil, fmt.Errorf("text: eval intent: %w", err)
	}
	rep := &IntentReport{Train: len(trX), Test: len(teX), Classes: len(clf.Labels), TrainTime: time.Since(start),
		CVAccuracy: clf.CVAccuracy, Temperature: clf.Model.Temperature}
	if clf.CV != nil {
		rep.CVSVMAccuracy, rep.Beta = clf.CV.SVMAccuracy, clf.CV.Beta
	}
	var buf bytes.Buffer
	if err := clf.Save(&buf); err != nil {
		return nil, err
	}
	rep.ModelBytes = buf.Len()
	// The chosen C is not stored on the model; recover it from the options.
	rep.C = chosenC(opts, clf)
	pred := make([]string, len(teX))
	conf := make([]float64, len(teX))
	lat := make([]time.Duration, len(teX))
	for i, t := range teX {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("text: eval intent: %w", ctx.Err())
		}
		t0 := time.Now()
		p := clf.Classify(t)
		lat[i] = time.Since(t0)
		pred[i], conf[i] = p.Label, p.Confidence
	}
	rep.Accuracy, rep.MacroF1 = accuracyMacroF1(teY, pred)
	rep.ExpectedCalib = expectedCalibrationError(teY, pred, conf, 10)
	rep.LatencyP50, rep.LatencyP99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if w != nil {
		fmt.Fprintf(w, "intent: train %d, test %d, %d classes\n", rep.Train, rep.Test, rep.Classes)
		fmt.Fprintf(w, "intent: accuracy %.2f %%  macro-F1 %.4f  (cv accuracy on train %.2f %%, SVM alone %.2f %%, nearest-neighbour weight %.3g; C %.3g, temperature %.3g, ECE %.3f)\n",
			100*rep.Accuracy, rep.MacroF1, 100*rep.CVAccuracy, 100*rep.CVSVMAccuracy, rep.Beta, rep.C, rep.Temperature, rep.ExpectedCalib)
		fmt.Fprintf(w, "intent: training %.1f s  model %.1f MiB  latency p50 %s p99 %s\n",
			rep.TrainTime.Seconds(), float64(rep.ModelBytes)/(1<<20), rep.LatencyP50, rep.LatencyP99)
	}
	return rep, nil
}

// chosenC reports the C the classifier was trained with (the first grid value
// whose model it is, or the configured C).
func chosenC(opts ClassifierOptions, clf *Classifier) float64 {
	if clf.chosenC > 0 {
		return clf.chosenC
	}
	return opts.Linear.C
}

func readLabelledCSV(path string) (texts, labels []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("text: read %s: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("text: parse %s: %w", path, err)
	}
	for i, rec := range recs {
		if i == 0 && len(rec) >= 2 && rec[0] == "text" {
			continue
		}
		if len(rec) < 2 {
			return nil, nil, fmt.Errorf("text: parse %s: line %d has %d fields", path, i+1, len(rec))
		}
		texts = append(texts, rec[0])
		labels = append(labels, rec[1])
	}
	return texts, labels, nil
}

// accuracyMacroF1 returns accuracy and the unweighted mean F1 over the
// classes present in gold or pred.
func accuracyMacroF1(gold, pred []string) (acc, macroF1 float64) {
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	correct := 0
	for i := range gold {
		if gold[i] == pred[i] {
			correct++
			tp[gold[i]]++
		} else {
			fp[pred[i]]++
			fn[gold[i]]++
		}
	}
	classes := map[string]struct{}{}
	for _, g := range gold {
		classes[g] = struct{}{}
	}
	for _, p := range pred {
		classes[p] = struct{}{}
	}
	for c := range classes {
		macroF1 += f1(tp[c], fp[c], fn[c])
	}
	if len(gold) == 0 {
		return 0, 0
	}
	return float64(correct) / float64(len(gold)), macroF1 / float64(len(classes))
}

func f1(tp, fp, fn int) float64 {
	if tp == 0 {
		return 0
	}
	p := float64(tp) / float64(tp+fp)
	r := float64(tp) / float64(tp+fn)
	return 2 * p * r / (p + r)
}

func expectedCalibrationError(gold, pred []string, conf []float64, bins int) float64 {
	correct := make([]bool, len(gold))
	for i := range gold {
		correct[i] = gold[i] == pred[i]
	}
	return ExpectedCalibrationError(conf, correct, bins)
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(int(q*float64(len(s))), len(s)-1)]
}
