package demo

import (
	"context"
	"fmt"

	"github.com/starpost/starpost/kb"
)

// Knowledge is the knowledge base the demo shop starts with: what its
// help centre shows, what agents are suggested, and what a bot can answer.
type Knowledge struct {
	Articles []kb.Article
	FAQs     []kb.FAQ
	Synonyms [][]string
}

// ShopKnowledge returns the demo shop's articles and FAQs, in zh and en.
func ShopKnowledge() Knowledge {
	pub := kb.StatusPublished
	return Knowledge{
		Articles: []kb.Article{
			{Title: "Returns and refunds", Lang: kb.LangEN, Category: "Orders", Status: pub, Body: "" +
				"You can return most items within **7 days** of delivery, no reason needed.\n\n" +
				"## How to return\n\n1. Open *My orders* and choose the order.\n2. Tap **Return or refund** and pick the items.\n" +
				"3. Print the label, or book a free courier pickup.\n\n" +
				"Refunds go back to the original payment method within 3 working days after we receive the parcel."},
			{Title: "Tracking your parcel", Lang: kb.LangEN, Category: "Shipping", Status: pub, Body: "" +
				"Every order gets a tracking number as soon as it ships. Open *My orders*, then **Track**.\n\n" +
				"During shopping festivals (11.11, 618) parcels can take 2–3 extra days. If tracking has not moved for 3 days, chat with us."},
			{Title: "Changing the delivery address", Lang: kb.LangEN, Category: "Shipping", Status: pub, Body: "" +
				"You can change the address until the order ships: *My orders* → **Change address**. After it ships, ask us in the chat and we contact the courier."},
			{Title: "Singles' Day (11.11) pre-sale rules", Lang: kb.LangEN, Category: "Promotions", Status: pub, Body: "" +
				"Pay a **deposit** during the pre-sale and the balance on 11 November.\n\n- The deposit is refunded only if the shop cancels.\n" +
				"- Coupons apply to the balance.\n- Price protection: if the price drops within 15 days, we refund the difference."},
			{Title: "Invoices (fapiao)", Lang: kb.LangEN, Category: "Account", Status: pub, Body: "" +
				"Request an electronic invoice in *My orders* → **Invoice** within 90 days of delivery. It arrives by email within 24 hours."},
			{Title: "退货和退款", Lang: kb.LangZH, Category: "订单", Status: pub, Body: "" +
				"大部分商品签收后 **7 天内** 支持无理由退货。\n\n## 如何退货\n\n1. 打开“我的订单”，选择订单。\n2. 点击 **退货/退款**，选择商品。\n" +
				"3. 打印面单，或预约免费上门取件。\n\n仓库收到包裹后 3 个工作日内原路退款。"},
			{Title: "查询物流", Lang: kb.LangZH, Category: "物流", Status: pub, Body: "" +
				"订单发货后即有物流单号。打开“我的订单”，点击 **查看物流**。\n\n双十一、618 期间配送可能延迟 2–3 天；物流 3 天未更新请联系在线客服。"},
			{Title: "修改收货地址", Lang: kb.LangZH, Category: "物流", Status: pub, Body: "" +
				"发货前可在“我的订单” → **修改地址** 自行修改；已发货的订单请联系客服，我们会联系快递改派。"},
			{Title: "双十一预售规则", Lang: kb.LangZH, Category: "活动", Status: pub, Body: "" +
				"预售期间支付 **定金**，11 月 11 日支付尾款。\n\n- 定金仅在商家取消订单时退还。\n- 优惠券可用于尾款。\n- 价格保护：15 天内降价退差价。"},
			{Title: "发票", Lang: kb.LangZH, Category: "账户", Status: pub, Body: "" +
				"签收后 90 天内可在“我的订单” → **申请发票** 开具电子发票，24 小时内发送到您的邮箱。"},
		},
		FAQs: []kb.FAQ{
			{Lang: kb.LangEN, Category: "Orders", Status: pub, Questions: []string{"How do I return an item?", "I want to send it back", "return my order"},
				Answer: "Open My orders, choose the order and tap Return or refund. You have 7 days from delivery, and the courier pickup is free."},
			{Lang: kb.LangEN, Category: "Orders", Status: pub, Questions: []string{"When will I get my refund?", "refund not received", "how long does a refund take"},
				Answer: "Refunds go back to your original payment method within 3 working days after we receive the returned parcel."},
			{Lang: kb.LangEN, Category: "Shipping", Status: pub, Questions: []string{"Where is my parcel?", "track my order", "my package has not arrived"},
				Answer: "Open My orders and tap Track to see where your parcel is. During 11.11 deliveries can take 2–3 extra days."},
			{Lang: kb.LangEN, Category: "Account", Status: pub, Questions: []string{"How do I get an invoice?", "I need a fapiao", "request invoice"},
				Answer: "In My orders, open the order and tap Invoice. The electronic invoice arrives by email within 24 hours."},
			{Lang: kb.LangZH, Category: "订单", Status: pub, Questions: []string{"怎么退货", "我要退货", "商品不想要了怎么办"},
				Answer: "打开“我的订单”，选择订单并点击“退货/退款”即可。签收 7 天内支持无理由退货，上门取件免费。"},
			{Lang: kb.LangZH, Category: "订单", Status: pub, Questions: []string{"退款什么时候到账", "退款还没收到", "退款要多久"},
				Answer: "仓库收到退货后 3 个工作日内原路退款，请留意支付账户。"},
			{Lang: kb.LangZH, Category: "物流", Status: pub, Questions: []string{"我的快递到哪了", "怎么查物流", "包裹还没到"},
				Answer: "在“我的订单”中点击“查看物流”即可查看包裹位置。双十一期间配送可能延迟 2–3 天。"},
			{Lang: kb.LangZH, Category: "账户", Status: pub, Questions: []string{"怎么开发票", "我要发票", "申请发票"},
				Answer: "在“我的订单”中打开订单，点击“申请发票”，电子发票 24 小时内发送到您的邮箱。"},
		},
		Synonyms: [][]string{{"parcel", "package", "delivery"}, {"refund", "money back"}, {"快递", "包裹", "物流"}, {"发票", "fapiao", "invoice"}},
	}
}

// SeedKnowledge fills workspace ws's knowledge base with ShopKnowledge,
// edited by user by.
func SeedKnowledge(ctx context.Context, k *kb.KB, ws, by string) error {
	know := ShopKnowledge()
	for i := range know.Articles {
		if err := k.CreateArticle(ctx, ws, by, &know.Articles[i]); err != nil {
			return fmt.Errorf("demo article %q: %w", know.Articles[i].Title, err)
		}
	}
	for i := range know.FAQs {
		if err := k.CreateFAQ(ctx, ws, &know.FAQs[i]); err != nil {
			return fmt.Errorf("demo FAQ %q: %w", know.FAQs[i].Questions[0], err)
		}
	}
	if err := k.SetSynonyms(ctx, ws, know.Synonyms); err != nil {
		return fmt.Errorf("demo synonyms: %w", err)
	}
	return nil
}
