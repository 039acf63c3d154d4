package bot

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/starpost/starpost/text"
)

// TestExploreTokenizerCV compares, by cross-validation on the BANKING77
// train split only, the server's tokenizer (stop words dropped) with one
// that keeps them. Run with STARPOST_EXPLORE=1.
func TestExploreTokenizerCV(t *testing.T) {
	if os.Getenv("STARPOST_EXPLORE") == "" {
		t.Skip("set STARPOST_EXPLORE=1")
	}
	trX, trY, err := text.ReadLabelledCSV(filepath.Join("/work/shared/data/banking77", "train.csv"))
	if err != nil {
		t.Skip(err)
	}
	for _, o := range []text.TokenizerOptions{{DropStopWords: true}, {}} {
		tok, err := text.NewTokenizer(o)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Train(context.Background(), tok, examples(trX, trY, nil), nil, TrainOptions{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v: %+v", o, m.Metrics)
	}
}
