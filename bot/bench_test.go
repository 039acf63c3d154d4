package bot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchData is a synthetic workspace: intents FAQs with perIntent question
// variants each, in English and Chinese words drawn from a Zipf vocabulary
// plus two words of the intent's own (as real FAQs have).
func benchData(intents, perIntent int) []Example {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"order", "refund", "card", "account", "password", "delivery", "invoice", "payment", "address", "change",
		"cancel", "return", "price", "coupon", "member", "points", "订单", "退款", "发票", "快递", "地址", "密码", "会员", "积分", "优惠券", "支付"}
	z := rand.NewZipf(r, 1.2, 1, uint64(len(words)-1))
	var ex []Example
	for i := range intents {
		own := []string{fmt.Sprintf("topic%dx", i), fmt.Sprintf("主题%d", i)}
		for range perIntent {
			var b strings.Builder
			for k := range 6 {
				if k == 2 {
					b.WriteString(own[r.IntN(2)] + " ")
				}
				b.WriteString(words[z.Uint64()] + " ")
			}
			ex = append(ex, Example{Text: b.String(), Intent: fmt.Sprintf("faq%d", i)})
		}
	}
	return ex
}

// BenchmarkTrain trains a model for a workspace of 200 FAQs with 8
// questions each (cross-validated calibration included).
func BenchmarkTrain(b *testing.B) {
	tok := testTokenizer(b)
	ex := benchData(200, 8)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Train(context.Background(), tok, ex, nil, TrainOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredict classifies one customer message with that model.
func BenchmarkPredict(b *testing.B) {
	tok := testTokenizer(b)
	m, err := Train(context.Background(), tok, benchData(200, 8), nil, TrainOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	msgs := []string{"how do I get a refund for my order topic17x", "我的快递 主题42 什么时候到", "change my password please", "asdkjh qwe"}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		m.Predict(msgs[i%len(msgs)])
		i++
	}
}
