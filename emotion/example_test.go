package emotion_test

import (
	"fmt"
	"log"

	"github.com/starpost/starpost/emotion"
)

func Example() {
	a, err := emotion.LoadEmbedded()
	if err != nil {
		log.Fatal(err)
	}
	r := a.Analyze("你们客服都是废物！")
	fmt.Println(r.Lang, "abusive:", r.Abuse > 0.5, "angry:", r.Anger > 0.5)
	r = a.Analyze("谢谢，问题解决了")
	fmt.Println(r.Lang, "positive:", r.Sentiment > 0, "abusive:", r.Abuse > 0.5)

	// The customer's side of a conversation that escalates.
	trend := emotion.NewTrend(emotion.TrendOptions{})
	var st emotion.TrendState
	for _, msg := range []string{
		"你好，请问我的订单什么时候发货？",
		"已经等了三天了，怎么还没发货",
		"你们到底在干什么？？？气死我了！！！",
		"垃圾客服，都是废物！",
	} {
		st = trend.Observe(a.Analyze(msg))
	}
	fmt.Println(st.Messages, st.Direction)
	// Output:
	// zh abusive: true angry: true
	// zh positive: true abusive: false
	// 4 escalating
}
