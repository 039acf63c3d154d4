package bot_test

import (
	"context"
	"fmt"

	"github.com/starpost/starpost/bot"
	"github.com/starpost/starpost/text"
)

// Train a workspace's intent model on FAQ question variants (zh and en),
// then let the bot's policy decide what to do with customer messages.
func Example() {
	tok, err := text.NewTokenizer(bot.TokenizerOptions())
	if err != nil {
		panic(err)
	}
	faqs := map[string][]string{
		"refund":   {"怎么退款", "退款多久到账", "申请退款", "how do I get a refund", "when will my refund arrive", "refund my order"},
		"delivery": {"快递到哪了", "包裹什么时候到", "还没收到货", "where is my package", "track my order", "my parcel has not arrived"},
		"password": {"忘记密码", "怎么重置密码", "登录密码错误", "I forgot my password", "reset my password", "change my password"},
	}
	var examples []bot.Example
	for id, qs := range faqs {
		for _, q := range qs {
			examples = append(examples, bot.Example{Text: q, Intent: id})
		}
	}
	m, err := bot.Train(context.Background(), tok, examples, nil, bot.TrainOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	for _, msg := range []string{"退款一般几天到账？", "Where is my parcel?", "我要转人工", "asdfgh qwerty"} {
		p := m.Predict(msg)
		t := bot.Policy{}.Decide(bot.Input{Text: msg, Pred: &p, MaxFailedTurns: 2})
		switch t.Action {
		case bot.ActAnswer:
			fmt.Printf("%s → answer %s\n", msg, t.Intent)
		case bot.ActHandoff:
			fmt.Printf("%s → hand over (%s)\n", msg, t.Reason)
		default:
			fmt.Printf("%s → %s\n", msg, t.Action)
		}
	}
	// Output:
	// 退款一般几天到账？ → answer refund
	// Where is my parcel? → answer delivery
	// 我要转人工 → hand over (requested)
	// asdfgh qwerty → hand over (low_confidence)
}
