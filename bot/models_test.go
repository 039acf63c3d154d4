package bot

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/starpost/starpost/kb"
)

// countingSource counts how often the training data is read.
type countingSource struct {
	Source
	reads atomic.Int64
}

func (s *countingSource) TrainingData(ctx context.Context, ws string) ([]Example, map[string]Intent, error) {
	s.reads.Add(1)
	return s.Source.TrainingData(ctx, ws)
}

// Versions: the first use trains version 1; a restart loads it without
// reading the training data; a FAQ edit makes the old model answer while
// version 2 trains in the background; an edit that leaves the training
// data alone (an answer) makes no new version.
func TestModelVersionsAndReload(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	ws := w.ws.ID
	m1, err := w.models.Current(ctx, ws)
	check(t, err)
	if m1 == nil || m1.Version != 1 || m1.Fingerprint == "" || m1.KBRevision == 0 {
		t.Fatalf("first model %+v", m1)
	}

	src := &countingSource{Source: KBSource{KB: w.kb}}
	restarted, err := OpenModels(ctx, ModelsOptions{SQL: w.db.SQL(), Driver: w.db.Driver(), Tokenizer: testTokenizer(t), Source: src, Train: TrainOptions{Seed: 1}})
	check(t, err)
	defer restarted.Close()
	r1, err := restarted.Current(ctx, ws)
	check(t, err)
	if r1.Version != 1 || !r1.TrainedAt.Equal(m1.TrainedAt) || r1.Metrics != m1.Metrics || src.reads.Load() != 0 {
		t.Fatalf("after a restart: version %d trained %s (want %s), %d reads of the training data", r1.Version, r1.TrainedAt, m1.TrainedAt, src.reads.Load())
	}
	if p, q := r1.Predict("退款多久到账"), m1.Predict("退款多久到账"); p.Intent != q.Intent || p.Confidence != q.Confidence {
		t.Fatalf("the loaded model predicts %+v, the trained one %+v", p, q)
	}

	// A new question for the refund FAQ: retrain in the background.
	qs := append(append([]string(nil), faqSet["refund"]...), "退货退款要多久")
	_, err = w.kb.UpdateFAQ(ctx, ws, w.faqs["refund"], kb.FAQPatch{Questions: &qs})
	check(t, err)
	stale, err := restarted.Current(ctx, ws)
	check(t, err)
	if stale.Version != 1 {
		t.Fatalf("the old model is not kept while training: version %d", stale.Version)
	}
	check(t, restarted.Wait(ctx, ws))
	m2, err := restarted.Current(ctx, ws)
	check(t, err)
	if m2.Version != 2 || m2.Fingerprint == m1.Fingerprint || m2.Metrics.Examples != m1.Metrics.Examples+1 {
		t.Fatalf("after the edit: %+v", m2)
	}

	// An answer edit bumps the revision but not the training data.
	answer := "new answer"
	_, err = w.kb.UpdateFAQ(ctx, ws, w.faqs["refund"], kb.FAQPatch{Answer: &answer})
	check(t, err)
	_, err = restarted.Current(ctx, ws)
	check(t, err)
	check(t, restarted.Wait(ctx, ws))
	m3, err := restarted.Current(ctx, ws)
	check(t, err)
	rev, err := w.kb.Revision(ctx, ws)
	check(t, err)
	if m3.Version != 2 || m3.KBRevision != rev {
		t.Fatalf("after an answer edit: version %d at revision %d (kb %d)", m3.Version, m3.KBRevision, rev)
	}
	vs, err := restarted.Versions(ctx, ws)
	check(t, err)
	if len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || vs[0].KBRevision != rev || vs[0].Metrics.Examples != m2.Metrics.Examples {
		t.Fatalf("versions %+v", vs)
	}
}

// A workspace with fewer than two FAQs has no model; the bot hands over.
func TestNoModel(t *testing.T) {
	w := newWorld(t)
	ws := "ws_empty"
	m, err := w.models.Current(w.ctx, ws)
	check(t, err)
	if m != nil {
		t.Fatalf("model %+v for a workspace without FAQs", m)
	}
	f := &kb.FAQ{Questions: []string{"怎么退款"}, Answer: "x", Lang: "zh"}
	check(t, w.kb.CreateFAQ(w.ctx, ws, f))
	if m, err = w.models.Current(w.ctx, ws); err != nil || m != nil {
		t.Fatalf("one FAQ: model %v err %v", m, err)
	}
	f2 := &kb.FAQ{Questions: []string{"快递到哪了"}, Answer: "y", Lang: "zh"}
	check(t, w.kb.CreateFAQ(w.ctx, ws, f2))
	if m, err = w.models.Current(w.ctx, ws); err != nil || m == nil || m.Version != 1 {
		t.Fatalf("two FAQs: model %v err %v", m, err)
	}
}
