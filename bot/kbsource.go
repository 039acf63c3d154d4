package bot

import (
	"context"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
)

// KBSource makes a knowledge base the bot's Source: every published FAQ is
// an intent, its question variants are the training examples and its
// answer is what the bot replies.
type KBSource struct{ KB *kb.KB }

// Revision implements Source.
func (s KBSource) Revision(ctx context.Context, ws string) (int64, error) {
	return s.KB.Revision(ctx, ws)
}

// TrainingData implements Source.
func (s KBSource) TrainingData(ctx context.Context, ws string) ([]Example, map[string]Intent, error) {
	faqs, err := s.KB.ListFAQs(ctx, ws, kb.ArticleFilter{Status: kb.StatusPublished})
	if err != nil {
		return nil, nil, err
	}
	var ex []Example
	intents := make(map[string]Intent, len(faqs))
	for _, f := range faqs {
		if len(f.Questions) == 0 {
			continue
		}
		intents[f.ID] = Intent{ID: f.ID, Title: f.Questions[0], Lang: f.Lang}
		for _, q := range f.Questions {
			ex = append(ex, Example{Text: q, Intent: f.ID})
		}
	}
	return ex, intents, nil
}

// Answer implements Source.
func (s KBSource) Answer(ctx context.Context, ws, intent string) (string, error) {
	f, err := s.KB.FAQ(ctx, ws, intent)
	if err != nil {
		return "", err
	}
	if f.Status != kb.StatusPublished {
		return "", starpost.Errorf(starpost.ENOTFOUND, "faq not published")
	}
	return f.Answer, nil
}
