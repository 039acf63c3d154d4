package emotion

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/starpost/starpost"
)

// Event kinds the emotion engine writes. The bodies are EmotionBody,
// CoachingBody and AlertBody; a repeated-abuse policy also writes an
// ordinary system message (starpost.MessageBody) and a state change
// (starpost.StateBody, closed) through the normal event path.
const (
	KindEmotion  starpost.EventKind = "emotion"
	KindCoaching starpost.EventKind = "coaching"
	KindAlert    starpost.EventKind = "alert"
)

// EngineName is the name of the emotion engine: its checkpoint, its system
// actor's id and the prefix of its idempotency keys.
const EngineName = "emotion"

// EmotionBody is the analysis of one customer message.
type EmotionBody struct {
	// MessageSeq is the seq of the analysed message.
	MessageSeq int64   `json:"message_seq"`
	Lang       string  `json:"lang"`
	Sentiment  float64 `json:"sentiment"`
	Emotion    string  `json:"emotion"`
	// Emotions holds the probability of each emotion label.
	Emotions map[string]float64 `json:"emotions"`
	Abuse    float64            `json:"abuse"`
	Anger    float64            `json:"anger"`
	// Abusive is Abuse at or above the policy threshold.
	Abusive bool      `json:"abusive"`
	Cues    []CueHit  `json:"cues,omitempty"`
	Trend   TrendBody `json:"trend"`
	// AbusiveMessages counts the abusive customer messages of the
	// conversation so far, this one included.
	AbusiveMessages int `json:"abusive_messages"`
}

// CueHit is a lexicon cue found in a message, with its byte offsets (for
// masking abusive words for the agent).
type CueHit struct {
	Cue   string `json:"cue"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// TrendBody is the conversation's emotional trend after a message.
type TrendBody struct {
	Direction  string  `json:"direction"` // steady, escalating or calming
	Anger      float64 `json:"anger"`
	Negativity float64 `json:"negativity"`
	Delta      float64 `json:"delta"`
	Messages   int     `json:"messages"`
}

// CoachingBody is a short prompt for the agent on how to handle the
// customer, in Chinese and English.
type CoachingBody struct {
	MessageSeq int64  `json:"message_seq"`
	AgentID    string `json:"agent_id,omitempty"`
	// Reason is "escalating" or "abuse".
	Reason string `json:"reason"`
	// Issue names the customer's problem the agent should apologise for
	// (a topic such as "delivery", or the conversation subject).
	Issue string       `json:"issue,omitempty"`
	ZH    CoachingText `json:"zh"`
	EN    CoachingText `json:"en"`
}

// CoachingText is one language's coaching prompt.
type CoachingText struct {
	Acknowledge string `json:"acknowledge"`
	Apologise   string `json:"apologise"`
	NextStep    string `json:"next_step"`
	Avoid       string `json:"avoid"`
}

// AlertBody alerts supervisors to an abusive customer.
type AlertBody struct {
	MessageSeq int64  `json:"message_seq"`
	AgentID    string `json:"agent_id,omitempty"`
	// Reason is "abuse", "abuse_warned" or "abuse_ended".
	Reason          string  `json:"reason"`
	Abuse           float64 `json:"abuse"`
	AbusiveMessages int     `json:"abusive_messages"`
	// Excerpt is the start of the message with abusive words masked.
	Excerpt string `json:"excerpt"`
}

// AbusePolicy is a workspace's policy for repeated abuse: warn the customer
// after WarnAfter abusive messages, end the conversation after EndAfter.
type AbusePolicy struct {
	// Threshold is the abuse probability from which a message counts as
	// abusive (0 means 0.5).
	Threshold float64
	// WarnAfter and EndAfter count abusive messages; 0 disables the step.
	WarnAfter, EndAfter int
	// WarnZH, WarnEN, EndZH and EndEN are the system messages sent to the
	// customer, chosen by the language of the abusive message.
	WarnZH, WarnEN, EndZH, EndEN string
}

// DefaultAbusePolicy returns the default policy: warn after 2 abusive
// messages, end after 4.
func DefaultAbusePolicy() AbusePolicy {
	return AbusePolicy{
		Threshold: 0.5, WarnAfter: 2, EndAfter: 4,
		WarnZH: "温馨提示：我们理解您的心情，也会尽力帮您解决问题。请文明沟通，如继续使用侮辱性语言，本次会话将被结束。",
		WarnEN: "We understand you are upset and we want to help. Please keep the conversation respectful; further abusive language will end this chat.",
		EndZH:  "由于多次出现侮辱性语言，本次会话已结束。您可以稍后重新联系我们，我们仍然愿意为您解决问题。",
		EndEN:  "This chat has been ended because of repeated abusive language. You are welcome to contact us again later; we still want to solve your problem.",
	}
}

// Validate checks the policy.
func (p AbusePolicy) Validate() error {
	if p.Threshold < 0 || p.Threshold > 1 {
		return starpost.FieldError("threshold", "must be between 0 and 1")
	}
	if p.WarnAfter < 0 || p.EndAfter < 0 {
		return starpost.FieldError("warn_after", "must not be negative")
	}
	if p.WarnAfter > 0 && p.EndAfter > 0 && p.EndAfter <= p.WarnAfter {
		return starpost.FieldError("end_after", "must be after warn_after")
	}
	if p.WarnAfter > 0 && (p.WarnZH == "" || p.WarnEN == "") {
		return starpost.FieldError("warn", "warning texts required")
	}
	if p.EndAfter > 0 && (p.EndZH == "" || p.EndEN == "") {
		return starpost.FieldError("end", "end texts required")
	}
	return nil
}

// EngineConfig configures the emotion engine. The zero value gives the
// defaults.
type EngineConfig struct {
	Trend TrendOptions
	// CoachAnger is the anger level (the trend's fast average) from which an
	// escalating conversation earns a coaching prompt (0 means 0.35).
	CoachAnger float64
	// Policy applies to workspaces without an entry in Policies; a zero
	// Policy means DefaultAbusePolicy. A policy with a Threshold and zero
	// WarnAfter and EndAfter only alerts (no warning, no ending).
	Policy   AbusePolicy
	Policies map[string]AbusePolicy
	// MaxTracked bounds the conversations whose trend is kept in memory
	// (0 means 10000); others are rebuilt from the store when needed.
	MaxTracked int
}

// Engine is the emotion engine, an engine.Handler: it analyses every
// customer message and writes emotion, coaching and alert events.
type Engine struct {
	a     *Analyzer
	store starpost.ConversationService
	cfg   EngineConfig
	convs map[convKey]*convState
}

type convKey struct{ ws, id string }

// convState is what the engine knows of one conversation.
type convState struct {
	cursor  int64 // cursor of the last event applied
	agentID string
	subject string
	trend   *Trend
	prevDir Direction
	abusive int
	issue   string
}

// NewEngine returns the emotion engine over analyzer a, reading
// conversation history from store when it must rebuild a conversation.
func NewEngine(a *Analyzer, store starpost.ConversationService, cfg EngineConfig) (*Engine, error) {
	if a == nil || store == nil {
		return nil, fmt.Errorf("emotion: engine needs an analyzer and a store")
	}
	if cfg.CoachAnger <= 0 {
		cfg.CoachAnger = 0.35
	}
	if cfg.MaxTracked <= 0 {
		cfg.MaxTracked = 10000
	}
	if cfg.Policy == (AbusePolicy{}) {
		cfg.Policy = DefaultAbusePolicy()
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("emotion: policy: %w", err)
	}
	for ws, p := range cfg.Policies {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("emotion: policy of %s: %w", ws, err)
		}
	}
	return &Engine{a: a, store: store, cfg: cfg, convs: make(map[convKey]*convState)}, nil
}

// Name returns EngineName.
func (e *Engine) Name() string { return EngineName }

func (e *Engine) policy(ws string) AbusePolicy {
	if p, ok := e.cfg.Policies[ws]; ok {
		if p.Threshold == 0 {
			p.Threshold = 0.5
		}
		return p
	}
	p := e.cfg.Policy
	if p.Threshold == 0 {
		p.Threshold = 0.5
	}
	return p
}

// customer reports whether role is a customer's (real or simulated).
func customer(r starpost.ParticipantRole) bool {
	return r == starpost.RoleCustomer || r == starpost.RoleSimulatedCustomer
}

// Handle implements engine.Handler.
func (e *Engine) Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	if ev.ConversationID == "" || ev.Actor.ID == EngineName && ev.Actor.Role == starpost.RoleSystem {
		return nil, nil
	}
	k := convKey{ev.WorkspaceID, ev.ConversationID}
	st := e.convs[k]
	if st == nil || ev.Cursor <= st.cursor {
		// Not known, or a replay: rebuild from the events before ev.
		var err error
		if st, err = e.rebuild(ctx, ev); err != nil {
			return nil, err
		}
		if len(e.convs) >= e.cfg.MaxTracked {
			clear(e.convs)
		}
		e.convs[k] = st
	}
	out := e.apply(st, ev)
	if ev.Kind == starpost.KindState {
		var b starpost.StateBody
		if ev.DecodeBody(&b) == nil && b.State == starpost.StateClosed {
			delete(e.convs, k)
		}
	}
	return out, nil
}

// rebuild reads the conversation's events before ev and replays them.
func (e *Engine) rebuild(ctx context.Context, ev *starpost.Event) (*convState, error) {
	st := &convState{trend: NewTrend(e.cfg.Trend)}
	var after int64
	for {
		evs, err := e.store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ev.WorkspaceID, ConversationID: ev.ConversationID, AfterCursor: after})
		if err != nil {
			return nil, fmt.Errorf("emotion: rebuild %s: %w", ev.ConversationID, err)
		}
		for _, x := range evs {
			if x.Cursor >= ev.Cursor {
				return st, nil
			}
			e.apply(st, x)
			after = x.Cursor
		}
		if len(evs) < starpost.MaxEventPage {
			return st, nil
		}
	}
}

// apply updates st with ev and returns the engine's output for ev.
func (e *Engine) apply(st *convState, ev *starpost.Event) []*starpost.Event {
	st.cursor = ev.Cursor
	switch ev.Kind {
	case starpost.KindCreated:
		var b starpost.CreatedBody
		if ev.DecodeBody(&b) == nil {
			st.subject = b.Subject
		}
	case starpost.KindAssigned:
		var b starpost.AssignedBody
		if ev.DecodeBody(&b) == nil {
			st.agentID = b.AgentID
		}
	case starpost.KindTransferred:
		var b starpost.TransferBody
		if ev.DecodeBody(&b) == nil {
			st.agentID = b.ToAgentID
		}
	case starpost.KindUnassigned:
		st.agentID = ""
	case starpost.KindMessage:
		if customer(ev.Actor.Role) {
			var b starpost.MessageBody
			if ev.DecodeBody(&b) == nil && strings.TrimSpace(b.Text) != "" {
				return e.analyse(st, ev, b.Text)
			}
		}
	}
	return nil
}

// analyse scores a customer message and decides the engine's output.
func (e *Engine) analyse(st *convState, ev *starpost.Event, text string) []*starpost.Event {
	r := e.a.Analyze(text)
	ts := st.trend.Observe(r)
	pol := e.policy(ev.WorkspaceID)
	abusive := r.Abuse >= pol.Threshold
	if abusive {
		st.abusive++
	}
	if is := issueOf(text); is != "" {
		st.issue = is
	}
	body := EmotionBody{
		MessageSeq: ev.Seq, Lang: r.Lang, Sentiment: round(r.Sentiment), Emotion: r.Emotion,
		Emotions: make(map[string]float64, len(emotionLabels6)), Abuse: round(r.Abuse), Anger: round(r.Anger),
		Abusive: abusive, AbusiveMessages: st.abusive,
		Trend: TrendBody{Direction: ts.Direction.String(), Anger: round(ts.Anger), Negativity: round(ts.Negativity),
			Delta: round(ts.Delta), Messages: ts.Messages},
	}
	for i, l := range emotionLabels6 {
		body.Emotions[l] = round(r.Emotions[i])
	}
	for _, c := range r.Cues {
		body.Cues = append(body.Cues, CueHit{Cue: c.Cue.String(), Start: c.Start, End: c.End})
	}
	key := func(part string) string {
		return fmt.Sprintf("%s:%s:%s:%d", EngineName, part, ev.ConversationID, ev.Seq)
	}
	out := []*starpost.Event{{ConversationID: ev.ConversationID, Kind: KindEmotion, Body: starpost.MustBody(body), IdempotencyKey: key("emotion")}}

	escalates := ts.Direction == Escalating && st.prevDir != Escalating && ts.Anger >= e.cfg.CoachAnger
	st.prevDir = ts.Direction
	issue := st.issue
	if issue == "" {
		issue = st.subject
	}
	switch {
	case abusive:
		out = append(out, &starpost.Event{ConversationID: ev.ConversationID, Kind: KindCoaching, IdempotencyKey: key("coaching"),
			Body: starpost.MustBody(Coach("abuse", issue, ev.Seq, st.agentID))})
	case escalates:
		out = append(out, &starpost.Event{ConversationID: ev.ConversationID, Kind: KindCoaching, IdempotencyKey: key("coaching"),
			Body: starpost.MustBody(Coach("escalating", issue, ev.Seq, st.agentID))})
	}
	if !abusive {
		return out
	}
	reason := "abuse"
	var policy []*starpost.Event
	zh := r.Lang == "zh"
	switch {
	case pol.EndAfter > 0 && st.abusive == pol.EndAfter:
		reason = "abuse_ended"
		policy = append(policy,
			&starpost.Event{ConversationID: ev.ConversationID, Kind: starpost.KindMessage, IdempotencyKey: key("end.message"),
				Body: starpost.MustBody(starpost.MessageBody{Text: pick(zh, pol.EndZH, pol.EndEN)})},
			&starpost.Event{ConversationID: ev.ConversationID, Kind: starpost.KindState, IdempotencyKey: key("end.state"),
				Body: starpost.MustBody(starpost.StateBody{State: starpost.StateClosed, Reason: "abuse"})})
	case pol.WarnAfter > 0 && st.abusive == pol.WarnAfter:
		reason = "abuse_warned"
		policy = append(policy, &starpost.Event{ConversationID: ev.ConversationID, Kind: starpost.KindMessage, IdempotencyKey: key("warn.message"),
			Body: starpost.MustBody(starpost.MessageBody{Text: pick(zh, pol.WarnZH, pol.WarnEN)})})
	}
	out = append(out, &starpost.Event{ConversationID: ev.ConversationID, Kind: KindAlert, IdempotencyKey: key("alert"),
		Body: starpost.MustBody(AlertBody{MessageSeq: ev.Seq, AgentID: st.agentID, Reason: reason, Abuse: round(r.Abuse),
			AbusiveMessages: st.abusive, Excerpt: excerpt(Mask(text, r.Cues), 80)})})
	return append(out, policy...)
}

func pick(zh bool, a, b string) string {
	if zh {
		return a
	}
	return b
}

// round keeps three decimals, enough for display and stable JSON.
func round(x float64) float64 {
	if x < 0 {
		return -float64(int64(-x*1000+0.5)) / 1000
	}
	return float64(int64(x*1000+0.5)) / 1000
}

// Mask replaces the insults and profanity among cues in text with
// asterisks, one per character.
func Mask(text string, cues []Match) string {
	b := []byte(text)
	var out strings.Builder
	last := 0
	for _, c := range cues {
		if c.Cue != CueInsult && c.Cue != CueProfanity || c.Start < last || c.End > len(b) {
			continue
		}
		out.Write(b[last:c.Start])
		out.WriteString(strings.Repeat("*", utf8.RuneCount(b[c.Start:c.End])))
		last = c.End
	}
	out.Write(b[last:])
	return out.String()
}

func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// issues maps topic words of customer messages to an issue name and how to
// name it in the coaching prompt.
var issues = []struct {
	name, zh, en string
	words        []string
}{
	{"delivery", "发货/物流延误", "the delivery delay", []string{"发货", "物流", "快递", "没收到", "还没到", "deliver", "shipping", "shipment", "package", "parcel", "arrive"}},
	{"refund", "退款问题", "the refund", []string{"退款", "退钱", "退货", "refund", "money back", "return"}},
	{"waiting", "让您久等", "the long wait", []string{"等了", "多久", "半天", "没人理", "waiting", "waited", "so long", "no one"}},
	{"payment", "扣款/支付问题", "the payment problem", []string{"扣款", "扣费", "支付", "付款", "charged", "payment", "billing", "bill"}},
	{"account", "账户/登录问题", "the account problem", []string{"登录", "账号", "账户", "密码", "login", "log in", "account", "password"}},
	{"quality", "商品质量问题", "the problem with the product", []string{"质量", "坏了", "破损", "有问题", "broken", "damaged", "defective", "doesn't work"}},
}

// issueOf returns the issue a customer message is about, or "".
func issueOf(text string) string {
	t := strings.ToLower(text)
	for _, is := range issues {
		for _, w := range is.words {
			if strings.Contains(t, w) {
				return is.name
			}
		}
	}
	return ""
}

// Coach returns the coaching prompt for reason ("escalating" or "abuse")
// about issue (an issue name such as "delivery", a conversation subject or
// "") after the customer message at seq, for agent agentID.
func Coach(reason, issue string, seq int64, agentID string) CoachingBody {
	zhIssue, enIssue := "给您带来的不便", "the trouble this has caused"
	for _, is := range issues {
		if is.name == issue {
			zhIssue, enIssue = is.zh, is.en
		}
	}
	if issue != "" && zhIssue == "给您带来的不便" {
		zhIssue, enIssue = "“"+issue+"”这个问题", "the problem with “"+issue+"”"
	}
	b := CoachingBody{MessageSeq: seq, AgentID: agentID, Reason: reason, Issue: issue}
	if reason == "abuse" {
		b.ZH = CoachingText{
			Acknowledge: "保持冷静，不针对个人：先说“我能理解您现在非常生气”。",
			Apologise:   "为" + zhIssue + "道歉，只为问题本身道歉，不为辱骂道歉。",
			NextStep:    "给出一个明确的下一步和时间点；如辱骂继续，平静提醒文明沟通，必要时请主管接手。",
			Avoid:       "不要反驳、讽刺或以牙还牙，不要说“请您冷静”“这不是我们的问题”。",
		}
		b.EN = CoachingText{
			Acknowledge: "Stay calm and don't take it personally: start with \"I can see you're really angry.\"",
			Apologise:   "Apologise for " + enIssue + " — for the problem, not for the insults.",
			NextStep:    "Give one concrete next step with a time; if the abuse continues, calmly ask for respect and bring in a supervisor if needed.",
			Avoid:       "Don't argue, be sarcastic or hit back; avoid \"calm down\" and \"that's not our fault\".",
		}
		return b
	}
	b.ZH = CoachingText{
		Acknowledge: "客户情绪在上升：先复述对方的问题，表示理解（“您等了这么久确实着急”）。",
		Apologise:   "为" + zhIssue + "真诚道歉。",
		NextStep:    "马上给出具体的处理步骤和预计完成时间，并说明您会跟进到底。",
		Avoid:       "不要说“这是规定”“我也没办法”“您别激动”，不要让客户重复描述问题。",
	}
	b.EN = CoachingText{
		Acknowledge: "The customer is getting angrier: restate their problem and show you understand (\"I know you've been waiting too long\").",
		Apologise:   "Apologise sincerely for " + enIssue + ".",
		NextStep:    "Give the concrete next step and when it will be done, and say you will follow it through.",
		Avoid:       "Avoid \"it's our policy\", \"there's nothing I can do\" and \"calm down\"; don't make them repeat the problem.",
	}
	return b
}
