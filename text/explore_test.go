package text

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestExploreIntentCV prints cross-validated accuracy on the BANKING77 train
// split for a few feature sets (used to choose intentOptions; never the test
// split). Run with STARPOST_EXPLORE=1.
func TestExploreIntentCV(t *testing.T) {
	if os.Getenv("STARPOST_EXPLORE") == "" {
		t.Skip("set STARPOST_EXPLORE=1")
	}
	dir := filepath.Join(dataRoot(), "banking77")
	trX, trY, err := readLabelledCSV(filepath.Join(dir, "train.csv"))
	if err != nil {
		t.Skip(err)
	}
	tok, err := NewTokenizer(TokenizerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, fc := range []FeatureConfig{
		{WordNGrams: 1, CharMin: 2, CharMax: 5},
		{WordNGrams: 2, CharMin: 1, CharMax: 5},
		{WordNGrams: 2, CharMin: 2, CharMax: 5},
		{WordNGrams: 3, CharMin: 2, CharMax: 6},
		{WordNGrams: 2, CharMin: 1, CharMax: 5, CharWeight: 1.5},
		{WordNGrams: 2, CharMin: 1, CharMax: 5, CharWeight: 0.7},
	} {
		for _, c := range []float64{0.3, 1, 2} {
			st := time.Now()
			clf, err := TrainClassifier(context.Background(), tok, trX, trY, ClassifierOptions{Features: fc, Linear: LinearConfig{C: c}, Folds: 3, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v C=%g cv=%.4f dim=%d T=%.3f %s", fc, c, clf.CVAccuracy, clf.Vec.Dim(), clf.Model.Temperature, time.Since(st))
		}
	}
}
