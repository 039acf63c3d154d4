package bot

import (
	"context"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
)

// KBSource makes a knowledge base the bot's Source: every published FAQ is
// an intent, its question variants are the training examples and its
// answer is what the bot replies. With Tags, the customer's words of
// resolved conversations tagged with a published FAQ are examples too.
type KBSource struct {
	KB   *kb.KB
	Tags *Tags // optional
}

// Revision implements Source: the knowledge base's revision plus the
// tags' (both only grow, so the sum does too).
func (s KBSource) Revision(ctx context.Context, ws string) (int64, error) {
	rev, err := s.KB.Revision(ctx, ws)
	if err != nil || s.Tags == nil {
		return rev, err
	}
	tags, err := s.Tags.Revision(ctx, ws)
	return rev + tags, err
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
	if s.Tags != nil {
		tagged, err := s.Tags.Examples(ctx, ws)
		if err != nil {
			return nil, nil, err
		}
		for _, x := range tagged {
			if _, ok := intents[x.Intent]; ok { // a tag of an FAQ since deleted or unpublished does not count
				ex = append(ex, x)
			}
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
