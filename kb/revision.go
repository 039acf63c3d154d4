package kb

import (
	"context"

	"github.com/starpost/starpost/text"
)

// Revision returns workspace ws's knowledge-base revision: a counter bumped
// by every edit (0 before the first). Engines that learn from the knowledge
// base (the bot's intent classifier) compare it with the revision they
// learnt from to know when to learn again; it is one primary-key read.
func (k *KB) Revision(ctx context.Context, ws string) (int64, error) {
	return k.revision(ctx, ws)
}

// Tokenizer returns the tokenizer the knowledge base was opened with, for
// engines that learn from it and should tokenise alike (one segmenter
// dictionary per process).
func (k *KB) Tokenizer() *text.Tokenizer { return k.tok }
