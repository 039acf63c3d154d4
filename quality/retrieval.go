package quality

import (
	"context"
	"slices"
)

// SearchFunc returns the ids of the knowledge-base entries that best match
// query in a workspace, best first (at most k).
type SearchFunc func(ctx context.Context, workspaceID, query string, k int) ([]string, error)

// RetrievalRelevance returns a RelevanceFunc for one workspace that uses the
// knowledge base as well as the words: a reply counts as fully relevant (1)
// when the question's best entry is among the reply's k best (both speak
// of the same article or FAQ, as "how do I reset my password" and "click
// Forgot on the sign-in page" do), and otherwise has its LexicalRelevance.
// A failed search falls back to the lexical relevance.
func RetrievalRelevance(ctx context.Context, workspaceID string, search SearchFunc, k int) RelevanceFunc {
	tops := map[string][]string{} // the searches of one inspection, by text
	find := func(text string, n int) []string {
		if ids, ok := tops[text]; ok {
			return ids
		}
		ids, err := search(ctx, workspaceID, text, n)
		if err != nil {
			ids = nil
		}
		tops[text] = ids
		return ids
	}
	return func(question, answer string) float64 {
		if q := find(question, k); len(q) > 0 && slices.Contains(find(answer, k), q[0]) {
			return 1
		}
		return LexicalRelevance(question, answer)
	}
}
