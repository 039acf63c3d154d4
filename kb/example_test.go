package kb_test

import (
	"context"
	"fmt"
	"log"

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
