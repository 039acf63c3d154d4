package text

// isZhStopWord reports whether w is a common Chinese function word. English
// stop words come from the Snowball English list.
func isZhStopWord(w string) bool {
	switch w {
	case "的", "了", "是", "在", "我", "有", "和", "就", "不", "人", "都", "一", "一个", "上", "也", "很", "到", "说", "要", "去", "你", "会", "着", "没有", "看", "好", "自己", "这", "那", "吗", "吧", "呢", "啊", "呀", "哦", "嗯", "么", "我们", "你们", "他", "她", "它", "他们", "请问", "请", "把", "被", "让", "给", "从", "对", "与", "及", "或", "而", "还", "又", "之", "其", "这个", "那个", "什么", "怎么", "为", "以", "所以", "因为", "但是", "可以", "能":
		return true
	}
	return false
}
