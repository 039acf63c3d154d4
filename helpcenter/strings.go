package helpcenter

// strings_ are the words of the help-centre pages in one language.
type strings_ struct {
	LangName, HelpCentre, Home, Search, SearchLabel, SearchPlaceholder, SearchButton string
	Categories, Uncategorised, FAQ, NoArticles, NoResults, ResultsFor, Updated       string
	Breadcrumb, BackHome, SwitchLanguage, SkipToContent, Answer, ContactUs           string
}

var texts = map[string]strings_{
	"en": {
		LangName: "English", HelpCentre: "Help centre", Home: "Help centre", Search: "Search",
		SearchLabel: "Search the help centre", SearchPlaceholder: "Describe your question", SearchButton: "Search",
		Categories: "Browse by topic", Uncategorised: "Other", FAQ: "Frequently asked questions",
		NoArticles: "No articles have been published yet.", NoResults: "Nothing matched. Try other words, or ask us in the chat.",
		ResultsFor: "Results for", Updated: "Updated", Breadcrumb: "Breadcrumb", BackHome: "Help centre home",
		SwitchLanguage: "Language", SkipToContent: "Skip to content", Answer: "Answer",
		ContactUs: "Still need help? Use the chat button to ask a person.",
	},
	"zh": {
		LangName: "中文", HelpCentre: "帮助中心", Home: "帮助中心", Search: "搜索",
		SearchLabel: "搜索帮助中心", SearchPlaceholder: "描述您的问题", SearchButton: "搜索",
		Categories: "按主题浏览", Uncategorised: "其他", FAQ: "常见问题",
		NoArticles: "还没有发布文章。", NoResults: "没有找到相关内容。请换个说法，或在对话中问我们。",
		ResultsFor: "搜索结果：", Updated: "更新于", Breadcrumb: "导航路径", BackHome: "帮助中心首页",
		SwitchLanguage: "语言", SkipToContent: "跳到正文", Answer: "答案",
		ContactUs: "仍需帮助？点击对话按钮咨询人工客服。",
	},
}

var htmlLang = map[string]string{"en": "en", "zh": "zh-CN"}
