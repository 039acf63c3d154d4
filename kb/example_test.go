package kb_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
)

func Example() {
	ctx := context.Background()
	db, err := store.Open(ctx, ":memory:", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// One Tokenizer per process: loading the dictionary takes a second.
	tok, err := text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
	if err != nil {
		log.Fatal(err)
	}
	k, err := kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok})
	if err != nil {
		log.Fatal(err)
	}
	faq := &kb.FAQ{Questions: []string{"怎么退款", "退款多久到账"}, Answer: "审核通过后3个工作日内原路退回。", Lang: "zh"}
	if err := k.CreateFAQ(ctx, "ws_1", faq); err != nil {
		log.Fatal(err)
	}
	art := &kb.Article{Title: "Reset your password", Body: "Open Settings, then Security, then Reset password.", Lang: "en", Status: kb.StatusPublished}
	if err := k.CreateArticle(ctx, "ws_1", "us_admin", art); err != nil {
		log.Fatal(err)
	}
	// Synonyms let an English question find the Chinese answer.
	if err := k.SetSynonyms(ctx, "ws_1", [][]string{{"退款", "refund"}}); err != nil {
		log.Fatal(err)
	}
	for _, q := range []string{"退款几天到账？", "I forgot my password", "refund"} {
		rs, err := k.Search(ctx, "ws_1", q, 3)
		if err != nil {
			log.Fatal(err)
		}
		r := rs[0]
		fmt.Printf("%s → %s %q", q, r.Type, r.Title)
		for _, h := range r.Highlights {
			if h.Field == "title" {
				fmt.Printf(" [%s]", r.Title[h.Start:h.End])
			}
		}
		fmt.Println()
	}
	// Output:
	// 退款几天到账？ → faq "怎么退款" [退款]
	// I forgot my password → article "Reset your password" [password]
	// refund → faq "怎么退款" [退款]
}

// A refused import writes nothing and lists every bad row with the line of
// the file it starts on (a cell of question variants spans lines).
func ExampleKB_ImportFAQs() {
	ctx := context.Background()
	db, err := store.Open(ctx, ":memory:", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	tok, err := text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
	if err != nil {
		log.Fatal(err)
	}
	k, err := kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok})
	if err != nil {
		log.Fatal(err)
	}
	csv := "questions,answer,lang\n" +
		"\"怎么退款\n如何退钱\",审核通过后3个工作日内原路退回。,zh\n" +
		"Where is my parcel?,,en\n" +
		"How do I cancel?,From the Orders page.,fr\n"
	rep, err := k.ImportFAQs(ctx, "ws_1", strings.NewReader(csv))
	fmt.Println(starpost.ErrorMessage(err))
	for _, e := range rep.Errors {
		fmt.Printf("line %d (row %d): %s: %s\n", e.Line, e.Row, e.Field, e.Message)
	}
	rep, err = k.ImportFAQs(ctx, "ws_1", strings.NewReader("questions,answer,lang\n\"怎么退款\n如何退钱\",审核通过后3个工作日内原路退回。,zh\n"))
	fmt.Println(rep.Created, err)
	// Output:
	// row 3: answer: required (and 1 more)
	// line 4 (row 3): answer: required
	// line 5 (row 4): lang: must be zh or en
	// 1 <nil>
}
