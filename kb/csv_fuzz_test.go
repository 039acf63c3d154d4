package kb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
)

// FuzzImportFAQs feeds arbitrary CSV to ImportFAQs: it never panics, a
// refused import writes nothing and reports rows that exist in the input,
// and an accepted one creates exactly the FAQs it reports.
func FuzzImportFAQs(f *testing.F) {
	for _, s := range []string{
		"questions,answer,lang\n\"怎么退款\n如何退钱\",退款3天内原路退回。,zh\n",
		"questions,answer,lang\nq,,zh\n\"a\nb\",x,fr\n",
		"id,questions,answer\nkf_x,q,a\nkf_x,q,a\n",
		"questions,answer\n\"q,a\n",
		"\ufeffQuestions , Answer ,status\nq,a,draft\n",
	} {
		f.Add(s)
	}
	db := openDB(f)
	k := openKB(f, db)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, in string) {
		before, err := k.ListFAQs(ctx, "ws_fuzz", kb.ArticleFilter{})
		check(t, err)
		rep, err := k.ImportFAQs(ctx, "ws_fuzz", strings.NewReader(in))
		after, lerr := k.ListFAQs(ctx, "ws_fuzz", kb.ArticleFilter{})
		check(t, lerr)
		if err != nil {
			if c := starpost.ErrorCode(err); c != starpost.EINVALID {
				t.Fatalf("import error %v has code %s, want invalid", err, c)
			}
			if len(after) != len(before) || rep.Created != 0 || rep.Updated != 0 {
				t.Fatalf("a refused import wrote: %d -> %d FAQs, report %+v", len(before), len(after), rep)
			}
			lines := strings.Count(in, "\n") + 1
			for _, e := range rep.Errors {
				if e.Row < 2 || e.Line < 2 || e.Line > lines || e.Field == "" || e.Message == "" {
					t.Fatalf("refused row %+v out of the input (%d lines)", e, lines)
				}
			}
			return
		}
		if len(rep.Errors) != 0 || len(after) != len(before)+rep.Created {
			t.Fatalf("accepted import: report %+v, %d -> %d FAQs", rep, len(before), len(after))
		}
	})
}
