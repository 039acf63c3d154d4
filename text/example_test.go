package text_test

import (
	"context"
	"fmt"
	"log"

	"github.com/starpost/starpost/text"
)

func Example() {
	tok, err := text.NewTokenizer(text.TokenizerOptions{UserWords: []string{"花呗"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Terms("花呗还款失败, my payments were declined"))

	texts := []string{"my card has not arrived", "where is my new card", "reset my pin", "forgot pin code", "转人工", "我要人工客服"}
	labels := []string{"card", "card", "pin", "pin", "human", "human"}
	clf, err := text.TrainClassifier(context.Background(), tok, texts, labels, text.ClassifierOptions{Folds: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(clf.Classify("the card never arrived").Label)

	idx := text.NewIndex(tok, text.IndexOptions{})
	idx.Put(text.Document{ID: "a1", Title: "花呗还款", Body: "花呗可以在账单日后还款。"})
	idx.Put(text.Document{ID: "a2", Title: "Card delivery", Body: "Cards arrive within 5 working days."})
	for _, h := range idx.Search("when will my card arrive", 3) {
		fmt.Println(h.ID)
	}
	// Output:
	// [花呗 还款 失败 my payment were declin]
	// card
	// a2
}

// ExampleNeighbours finds, per class, the most similar training vector.
func ExampleNeighbours() {
	xs := []text.SparseVector{
		{Idx: []int32{0}, Val: []float32{1}},
		{Idx: []int32{1}, Val: []float32{1}},
	}
	nb := text.NewNeighbours(xs, []int{0, 1}, 2)
	fmt.Println(nb.Nearest(text.SparseVector{Idx: []int32{0, 1}, Val: []float32{0.8, 0.6}}))
	// Output: [0.800000011920929 0.6000000238418579]
}

// ExampleLearnWordVectors learns from sentences that 还款 and 还钱 are used
// alike.
func ExampleLearnWordVectors() {
	var sents [][]string
	for range 3 {
		sents = append(sents, []string{"花呗", "怎么", "还款"}, []string{"花呗", "怎么", "还钱"}, []string{"提高", "额度", "怎么"})
	}
	wv := text.LearnWordVectors(sents, 2, 32, 1)
	syn, _ := wv.Similarity("还款", "还钱")
	other, _ := wv.Similarity("还款", "额度")
	fmt.Println(syn > other)
	// Output: true
}
