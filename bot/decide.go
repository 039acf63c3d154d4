package bot

import (
	"regexp"
	"strings"
	"unicode"
)

// Action is what the bot does with a customer message.
type Action string

// Actions.
const (
	ActAnswer   Action = "answer"   // reply with the intent's FAQ answer
	ActClarify  Action = "clarify"  // ask which of the two closest intents is meant
	ActRephrase Action = "rephrase" // a failed turn: ask the customer to say it another way
	ActGreet    Action = "greet"    // a greeting: ask what the customer needs
	ActHandoff  Action = "handoff"  // hand the conversation to the queue's agents
)

// Reason says why the bot handed over.
type Reason string

// Handover reasons.
const (
	ReasonRequested     Reason = "requested"      // the customer asked for a person
	ReasonAngry         Reason = "angry"          // the emotion engine found the customer angry or abusive
	ReasonLowConfidence Reason = "low_confidence" // out of scope, or too unsure to try
	ReasonFailedTurns   Reason = "failed_turns"   // the customer's messages went unanswered too often
	ReasonNoModel       Reason = "no_model"       // the workspace has too few FAQs for a classifier
	ReasonDisabled      Reason = "disabled"       // the queue's bot was switched off meanwhile
)

// Policy holds the thresholds of the bot's decisions. The zero value gives
// the defaults.
type Policy struct {
	// AnswerAt is the calibrated confidence from which the bot answers
	// (0 means 0.5).
	AnswerAt float64
	// ClarifyMargin: when the two best intents are closer than this, the bot
	// asks which one is meant instead of answering (0 means 0.3).
	ClarifyMargin float64
	// ClarifyMin is the least probability of the runner-up worth offering,
	// and the two together must reach AnswerAt (0 means 0.15).
	ClarifyMin float64
	// LowConfidence: below it the bot hands over at once rather than ask
	// the customer to rephrase (0 means 0.2).
	LowConfidence float64
	// AngerAt is the emotion engine's anger probability from which the
	// customer counts as angry (0 means 0.6); an abusive message, or an
	// escalating trend at AngerAt*2/3, counts too.
	AngerAt float64
}

func (p Policy) withDefaults() Policy {
	def := func(x *float64, v float64) {
		if *x == 0 {
			*x = v
		}
	}
	def(&p.AnswerAt, 0.5)
	def(&p.ClarifyMargin, 0.3)
	def(&p.ClarifyMin, 0.15)
	def(&p.LowConfidence, 0.2)
	def(&p.AngerAt, 0.6)
	return p
}

// Memory is what the bot remembers of the conversation: what its last turn
// was and how many turns failed (rebuilt from its bot.turn events).
type Memory struct {
	LastAction  Action
	FailedTurns int
	// Options are the two intents of a pending clarifying question.
	Options []string
}

// Input is everything one decision depends on.
type Input struct {
	Text string
	// Pred is the model's prediction; nil when the workspace has no model.
	Pred *Prediction
	// Angry reports the emotion engine's verdict on the customer.
	Angry bool
	Mem   Memory
	// MaxFailedTurns is the queue's limit (at least 1).
	MaxFailedTurns int
}

// Turn is the bot's decision.
type Turn struct {
	Action     Action
	Reason     Reason // for ActHandoff
	Intent     string // the intent answered, or the best guess
	Confidence float64
	// Options are the two intents a clarifying question offers.
	Options     []string
	FailedTurns int
}

// Decide returns the bot's turn for in. It is pure: the decision table of
// the bot.
func (p Policy) Decide(in Input) Turn {
	p = p.withDefaults()
	t := Turn{FailedTurns: in.Mem.FailedTurns}
	if in.Pred != nil {
		t.Intent, t.Confidence = in.Pred.Intent, in.Pred.Confidence
	}
	switch {
	case WantsHuman(in.Text):
		return t.handoff(ReasonRequested)
	case in.Angry:
		return t.handoff(ReasonAngry)
	case in.Pred == nil:
		return t.handoff(ReasonNoModel)
	}
	pr := in.Pred
	if len(in.Mem.Options) == 2 {
		if id, ok := chooseOption(in.Text, in.Mem.Options, pr); ok {
			t.Action, t.Intent, t.Confidence = ActAnswer, id, pr.Prob(id)
			return t
		}
		if !(pr.Confidence >= p.AnswerAt && !pr.OutOfScope) || Negative(in.Text) {
			return t.failed(in.MaxFailedTurns) // the clarification was not understood
		}
		// A new, clear question instead of an answer: take it.
	}
	if in.Mem.LastAction != "" && Negative(in.Text) {
		return t.failed(in.MaxFailedTurns) // "that did not help", "not what I asked"
	}
	if Greeting(in.Text) && (pr.OutOfScope || pr.Confidence < p.AnswerAt) {
		t.Action = ActGreet
		return t
	}
	if pr.OutOfScope || pr.Confidence < p.LowConfidence {
		return t.handoff(ReasonLowConfidence)
	}
	margin := pr.Confidence - pr.SecondConfidence
	clarify := pr.Second != "" && pr.SecondConfidence >= p.ClarifyMin && margin < p.ClarifyMargin &&
		pr.Confidence+pr.SecondConfidence >= p.AnswerAt && in.Mem.LastAction != ActClarify
	switch {
	case clarify:
		t.Action, t.Options = ActClarify, []string{pr.Intent, pr.Second}
	case pr.Confidence >= p.AnswerAt:
		t.Action = ActAnswer
	default:
		return t.failed(in.MaxFailedTurns)
	}
	return t
}

func (t Turn) handoff(r Reason) Turn {
	t.Action, t.Reason = ActHandoff, r
	return t
}

// failed counts a failed turn: the customer is asked to rephrase, or handed
// over once the queue's limit is reached.
func (t Turn) failed(max int) Turn {
	t.FailedTurns++
	if t.FailedTurns >= max {
		return t.handoff(ReasonFailedTurns)
	}
	t.Action = ActRephrase
	return t
}

var (
	humanZH = []string{"人工", "真人", "客服人员", "找客服", "接客服", "活人", "转接", "坐席", "客服小姐姐", "客服电话"}
	// Words that contain a request word but ask for no person: removed
	// before matching ("人工智能" is AI, a "travel agent" is not ours).
	notHumanZH = strings.NewReplacer("人工智能", " ", "人工费", " ", "人工成本", " ", "转接头", " ")
	notHumanEN = regexp.MustCompile(`(?i)\b((travel|estate|real estate|shipping|customs|insurance|booking|user|secret|free|sales) agents?|agents? (fees?|codes?|numbers?|commissions?)|human (error|resources|rights|hair)|humans? of)\b`)
	humanEN    = regexp.MustCompile(`(?i)\b(agents?|humans?|real (person|people)|live (person|agent|chat)|a person|representative|operator|someone real|speak to someone|talk to someone|customer service rep)\b`)
	// Ordinal replies to "1 or 2?".
	firstRE  = regexp.MustCompile(`(?i)^\s*(1|1\.|#1|a|first|the first( one)?|option 1|the 1st|1st|no\.? ?1)\s*[.!。！]?\s*$`)
	secondRE = regexp.MustCompile(`(?i)^\s*(2|2\.|#2|b|second|the second( one)?|option 2|the 2nd|2nd|no\.? ?2|the latter|latter)\s*[.!。！]?\s*$`)
	firstZH  = []string{"第一个", "第一", "前者", "前面那个"}
	secondZH = []string{"第二个", "第二", "后者", "后面那个"}
	negEN    = regexp.MustCompile(`(?i)^\s*(no|nope|neither|none|not (that|this|it|helpful|what i (asked|meant|want))|that'?s not (it|what i (asked|meant))|didn'?t help|doesn'?t help|useless|wrong)\b`)
	negZH    = []string{"不是", "没用", "不对", "都不是", "没解决", "没有帮助", "答非所问", "不是这个"}
	greetEN  = regexp.MustCompile(`(?i)^\s*(hi|hello|hey|good (morning|afternoon|evening)|anyone there\??|is anyone there\??)\s*[!.?]*\s*$`)
	greetZH  = []string{"你好", "您好", "在吗", "在不在", "有人吗", "哈喽", "嗨"}
)

// WantsHuman reports whether the customer asks for a person (人工, 转人工,
// "agent", "human", "real person" ...).
func WantsHuman(s string) bool {
	s = notHumanEN.ReplaceAllString(notHumanZH.Replace(s), " ")
	for _, w := range humanZH {
		if strings.Contains(s, w) {
			return true
		}
	}
	return humanEN.MatchString(s)
}

// Negative reports whether the message rejects the bot's last answer or
// both options ("no", "not helpful", 没用, 都不是 ...).
func Negative(s string) bool {
	t := strings.TrimSpace(s)
	for _, w := range negZH {
		if strings.HasPrefix(t, w) {
			return true
		}
	}
	return negEN.MatchString(t)
}

// Greeting reports whether the message is only a greeting.
func Greeting(s string) bool {
	t := strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	for _, w := range greetZH {
		if t == w {
			return true
		}
	}
	return greetEN.MatchString(s)
}

// chooseOption reads the answer to "1 or 2?": an ordinal, or a message the
// model leans clearly towards one of the two options for.
func chooseOption(s string, opts []string, pr *Prediction) (string, bool) {
	t := strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	switch {
	case firstRE.MatchString(s) || t == "一" || hasPrefixAny(t, firstZH):
		return opts[0], true
	case secondRE.MatchString(s) || t == "二" || hasPrefixAny(t, secondZH):
		return opts[1], true
	}
	if Negative(s) || pr == nil || pr.OutOfScope {
		return "", false
	}
	a, b := pr.Prob(opts[0]), pr.Prob(opts[1])
	switch {
	case a >= 2*b && a >= 0.1:
		return opts[0], true
	case b >= 2*a && b >= 0.1:
		return opts[1], true
	}
	return "", false
}

func hasPrefixAny(s string, ws []string) bool {
	for _, w := range ws {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

// IsChinese reports whether s is written (mostly) in Chinese: the bot
// replies in the customer's language.
func IsChinese(s string) bool {
	han, latin := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.IsLetter(r):
			latin++
		}
	}
	return han > 0 && han*3 >= latin
}
