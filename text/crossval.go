package text

import (
	"context"
	"math"
)

// CrossValidate trains the linear model of cfg on all but one of folds
// stratified folds of (xs, ys) in turn and returns, for every example, the
// decision values of the model that did not see it (out-of-fold scores),
// the fold each example was held out in, and the out-of-fold accuracy.
// Out-of-fold scores are what a calibration (FitTemperature) or an
// out-of-scope threshold must be fitted on: scores of the examples a model
// was trained on are overconfident.
func CrossValidate(ctx context.Context, xs []SparseVector, ys []int, classes, dim int, cfg LinearConfig, folds int, seed uint64) (scores [][]float64, fold []int, acc float64, err error) {
	acc, scores, err = crossValidate(ctx, xs, ys, classes, dim, cfg, folds, seed)
	if err != nil {
		return nil, nil, 0, err
	}
	return scores, stratifiedFolds(ys, classes, folds, seed), acc, nil
}

// ExpectedCalibrationError returns the weighted mean gap between confidence
// and accuracy over bins equal-width confidence bins: conf[i] is the
// confidence of prediction i and correct[i] whether it was right.
func ExpectedCalibrationError(conf []float64, correct []bool, bins int) float64 {
	if len(conf) == 0 || bins < 1 {
		return 0
	}
	cnt := make([]int, bins)
	acc := make([]float64, bins)
	sum := make([]float64, bins)
	for i, c := range conf {
		b := min(max(int(c*float64(bins)), 0), bins-1)
		cnt[b]++
		sum[b] += c
		if correct[i] {
			acc[b]++
		}
	}
	var e float64
	for b := range bins {
		if cnt[b] > 0 {
			e += float64(cnt[b]) / float64(len(conf)) * math.Abs(acc[b]/float64(cnt[b])-sum[b]/float64(cnt[b]))
		}
	}
	return e
}

// ReadLabelledCSV reads a CSV file of text,label rows (a header row
// "text,..." is skipped), as BANKING77 ships it.
func ReadLabelledCSV(path string) (texts, labels []string, err error) {
	return readLabelledCSV(path)
}
