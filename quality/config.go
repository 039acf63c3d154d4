package quality

import (
	"regexp"
	"strings"
	"time"

	"github.com/starpost/starpost"
)

// Rule names: the Rule of a Finding and of a ScoreItem.
const (
	RuleFirstResponse   = "first_response"   // time to the agent's first reply
	RuleSlowReply       = "slow_reply"       // a customer waited longer than SlowReply
	RuleIgnoredCustomer = "ignored_customer" // a customer waited IgnoredAfter or got no reply at all
	RuleAgentVanished   = "agent_vanished"   // the agent disconnected or went silent before resolution
	RuleGreeting        = "greeting"         // the agent greeted the customer
	RuleClosing         = "closing"          // the agent closed politely
	RuleForbidden       = "forbidden_phrase" // the agent said something forbidden
	RuleEmpathy         = "empathy"          // the agent showed empathy to an angry customer
	RuleOffTopic        = "off_topic"        // the agent's answer does not address the customer's question
	RuleDisclosure      = "disclosure"       // a required disclosure was said
	RuleResolution      = "resolution"       // the resolution was confirmed with the customer
	RuleCSAT            = "csat"             // the customer's satisfaction rating
)

// Rules lists every rule name, in report order.
func Rules() []string {
	return []string{RuleFirstResponse, RuleSlowReply, RuleIgnoredCustomer, RuleAgentVanished,
		RuleGreeting, RuleClosing, RuleForbidden, RuleEmpathy, RuleOffTopic, RuleDisclosure, RuleResolution, RuleCSAT}
}

// PhraseRule forbids a phrase (case-insensitive substring) or a regular
// expression in agent messages.
type PhraseRule struct {
	// Name explains the rule in reports ("blames the customer").
	Name   string `json:"name"`
	Phrase string `json:"phrase,omitempty"`
	Regex  string `json:"regex,omitempty"`
}

// Disclosure is a statement the agent must make in every conversation
// ("this chat is recorded", "本次对话将被录音"): any one of its phrases counts.
type Disclosure struct {
	Name    string   `json:"name"`
	Phrases []string `json:"phrases"`
}

// RelevanceFunc scores from 0 to 1 how well answer addresses question.
type RelevanceFunc func(question, answer string) float64

// ScoreItem is one line of a scorecard.
type ScoreItem struct {
	Rule string `json:"rule"`
	// Weight is the item's share of the score (any positive scale).
	Weight float64 `json:"weight"`
	// AutoFail makes a failed item set the whole score to 0.
	AutoFail bool `json:"auto_fail,omitempty"`
}

// Config holds a workspace's QA rules and scorecard. Start from
// DefaultConfig and change what differs; Validate before use.
type Config struct {
	// FirstResponse is the first-response SLA: the first customer message
	// must be answered within it.
	FirstResponse time.Duration
	// SlowReply is the longest a customer should wait for a later reply.
	SlowReply time.Duration
	// IgnoredAfter is the wait from which a customer counts as ignored
	// (a customer who never got a reply before resolution is ignored too).
	IgnoredAfter time.Duration
	// VanishedAfter is the agent silence, while the customer waits, after
	// which a resolution by someone else counts as the agent vanishing.
	VanishedAfter time.Duration
	// Phrases with Latin letters match whole words ("hi" is not in
	// "this"); a trailing "*" makes the last word a prefix ("apolog*").
	// Greetings must appear in one of the first GreetingWithin agent
	// messages, Closings in one of the last ClosingWithin.
	Greetings      []string
	GreetingWithin int
	Closings       []string
	ClosingWithin  int
	// Forbidden phrases and patterns in agent messages.
	Forbidden []PhraseRule
	// Empathy phrases must appear in one of the EmpathyWithin agent
	// messages that follow a customer message whose emotion event has
	// anger at least AngerThreshold (or is abusive).
	Empathy        []string
	EmpathyWithin  int
	AngerThreshold float64
	// Disclosures the agent must make in every conversation (none by
	// default: they are the workspace's own).
	Disclosures []Disclosure
	// OffTopicBelow is the relevance (see Relevance) under which the
	// agent's replies to a customer question count as answering beside it;
	// 0 turns the rule off. Questions with fewer than MinQuestionTerms
	// content terms ("ok?") are not judged.
	OffTopicBelow    float64
	MinQuestionTerms int
	// Relevance scores a question against the agent's reply; nil means
	// LexicalRelevance.
	Relevance RelevanceFunc
	// Resolution is confirmed when, among the last ResolutionWithin
	// messages, the customer says one of Confirmations or the agent asks
	// one of ResolutionChecks and the customer does not answer with one of
	// Denials.
	ResolutionChecks []string
	Confirmations    []string
	Denials          []string
	ResolutionWithin int
	// CSATPass is the lowest satisfaction score (1 to 5, csat events) that
	// passes the csat item.
	CSATPass int
	// MaxFindings bounds the findings of one conversation (0 means 100).
	MaxFindings int
	Scorecard   []ScoreItem

	forbidden []*regexp.Regexp // compiled by Validate, parallel to Forbidden
}

// DefaultConfig returns sensible defaults with Chinese and English phrases.
func DefaultConfig() Config {
	return Config{
		FirstResponse:  60 * time.Second,
		SlowReply:      2 * time.Minute,
		IgnoredAfter:   5 * time.Minute,
		VanishedAfter:  5 * time.Minute,
		GreetingWithin: 2,
		ClosingWithin:  2,
		EmpathyWithin:  2,
		AngerThreshold: 0.6,
		MaxFindings:    100,
		// Below the thresholds chosen on AFQMC train pairs (0.313 best
		// accuracy, 0.286 at most 1 % false alarms), because answers carry
		// content their questions lack (see relevance.go).
		OffTopicBelow:    0.2,
		MinQuestionTerms: 3,
		ResolutionWithin: 4,
		CSATPass:         4,
		ResolutionChecks: []string{"解决了吗", "解决您的问题", "还有其他", "还有什么", "清楚了吗", "明白了吗", "可以了吗",
			"did that solve", "does that help", "did that help", "does that answer", "anything else", "is that ok", "resolved your"},
		Confirmations: []string{"解决了", "好了", "可以了", "明白了", "清楚了", "知道了", "收到", "谢谢", "感谢", "没有了", "没问题",
			"thanks", "thank you", "that works", "it works", "solved", "got it", "perfect", "great", "no that's all", "all good"},
		Denials: []string{"没解决", "还是不行", "不行", "没用", "不对", "还没", "没有用",
			"not solved", "still not", "doesn't work", "does not work", "didn't work", "not working", "no it"},
		Greetings: []string{"您好", "你好", "欢迎", "很高兴为您服务", "有什么可以帮", "早上好", "下午好", "晚上好",
			"hello", "hi", "hey", "good morning", "good afternoon", "good evening", "welcome", "how can i help", "thanks for contacting"},
		Closings: []string{"还有其他", "还有什么", "祝您", "感谢您的", "谢谢您", "再见", "欢迎再次", "满意",
			"anything else", "have a nice", "have a great", "thank you for", "thanks for", "goodbye", "bye", "take care"},
		Empathy: []string{"理解", "抱歉", "对不起", "不好意思", "给您带来", "让您久等", "非常抱歉", "体谅", "着急",
			"sorry", "apolog*", "understand", "i hear you", "frustrat*", "inconvenience", "i can see"},
		Forbidden: []PhraseRule{
			{Name: "blames the customer", Phrase: "你自己"},
			{Name: "refuses help", Phrase: "我也没办法"},
			{Name: "refuses help", Phrase: "不归我管"},
			{Name: "dismissive", Phrase: "爱买不买"},
			{Name: "dismissive", Phrase: "随便你"},
			{Name: "insult", Regex: `(傻|蠢|笨)(逼|蛋|货)`},
			{Name: "blames the customer", Phrase: "your own fault"},
			{Name: "refuses help", Phrase: "not my problem"},
			{Name: "refuses help", Phrase: "nothing i can do"},
			{Name: "dismissive", Phrase: "calm down"},
			{Name: "insult", Regex: `(?i)\b(stupid|idiot|dumb)\b`},
		},
		Scorecard: []ScoreItem{
			{Rule: RuleFirstResponse, Weight: 15},
			{Rule: RuleSlowReply, Weight: 15},
			{Rule: RuleIgnoredCustomer, Weight: 20, AutoFail: true},
			{Rule: RuleAgentVanished, Weight: 15, AutoFail: true},
			{Rule: RuleGreeting, Weight: 5},
			{Rule: RuleClosing, Weight: 5},
			{Rule: RuleForbidden, Weight: 15, AutoFail: true},
			{Rule: RuleEmpathy, Weight: 10},
			{Rule: RuleOffTopic, Weight: 10},
			{Rule: RuleDisclosure, Weight: 5, AutoFail: true},
			{Rule: RuleResolution, Weight: 5},
			{Rule: RuleCSAT, Weight: 10},
		},
	}
}

// Validate checks c and compiles its patterns. Inspect calls it on a copy
// when it has not been called.
func (c *Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"first_response", c.FirstResponse}, {"slow_reply", c.SlowReply}, {"ignored_after", c.IgnoredAfter}, {"vanished_after", c.VanishedAfter}} {
		if d.v <= 0 {
			return starpost.FieldError(d.name, "must be positive")
		}
	}
	if c.IgnoredAfter < c.SlowReply {
		return starpost.FieldError("ignored_after", "must not be shorter than slow_reply")
	}
	if c.GreetingWithin <= 0 || c.ClosingWithin <= 0 || c.EmpathyWithin <= 0 || c.ResolutionWithin <= 0 {
		return starpost.FieldError("within", "greeting, closing, empathy and resolution windows must be positive")
	}
	if c.OffTopicBelow < 0 || c.OffTopicBelow >= 1 {
		return starpost.FieldError("off_topic_below", "must be in [0, 1)")
	}
	if c.MinQuestionTerms < 0 {
		return starpost.FieldError("min_question_terms", "must not be negative")
	}
	if c.CSATPass < 1 || c.CSATPass > 5 {
		return starpost.FieldError("csat_pass", "must be 1 to 5")
	}
	for i, d := range c.Disclosures {
		if strings.TrimSpace(d.Name) == "" || len(d.Phrases) == 0 {
			return starpost.FieldError("disclosures", "disclosure %d: needs a name and at least one phrase", i)
		}
		for _, p := range d.Phrases {
			if strings.TrimSpace(p) == "" {
				return starpost.FieldError("disclosures", "disclosure %d: empty phrase", i)
			}
		}
	}
	if c.AngerThreshold <= 0 || c.AngerThreshold > 1 {
		return starpost.FieldError("anger_threshold", "must be in (0, 1]")
	}
	if c.MaxFindings < 0 {
		return starpost.FieldError("max_findings", "must not be negative")
	}
	for name, list := range map[string][]string{"greetings": c.Greetings, "closings": c.Closings, "empathy": c.Empathy,
		"resolution_checks": c.ResolutionChecks, "confirmations": c.Confirmations, "denials": c.Denials} {
		for _, p := range list {
			if strings.TrimSpace(p) == "" {
				return starpost.FieldError(name, "empty phrase")
			}
		}
	}
	c.forbidden = make([]*regexp.Regexp, len(c.Forbidden))
	for i, f := range c.Forbidden {
		if (f.Phrase == "") == (f.Regex == "") {
			return starpost.FieldError("forbidden", "rule %d: give exactly one of phrase and regex", i)
		}
		if f.Regex != "" {
			re, err := regexp.Compile(f.Regex)
			if err != nil {
				return starpost.FieldError("forbidden", "rule %d: %v", i, err)
			}
			c.forbidden[i] = re
		}
	}
	if len(c.Scorecard) == 0 {
		return starpost.FieldError("scorecard", "required")
	}
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r] = true
	}
	seen := map[string]bool{}
	total := 0.0
	for _, it := range c.Scorecard {
		if !known[it.Rule] {
			return starpost.FieldError("scorecard", "unknown rule %q", it.Rule)
		}
		if seen[it.Rule] {
			return starpost.FieldError("scorecard", "rule %q twice", it.Rule)
		}
		seen[it.Rule] = true
		if it.Weight < 0 {
			return starpost.FieldError("scorecard", "negative weight for %q", it.Rule)
		}
		total += it.Weight
	}
	if total <= 0 {
		return starpost.FieldError("scorecard", "weights must add up to more than 0")
	}
	return nil
}

func (c *Config) validated() bool { return c.forbidden != nil && len(c.forbidden) == len(c.Forbidden) }
