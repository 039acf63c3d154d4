package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/engine"
)

// Event kinds the bot writes besides its messages.
const (
	// KindTurn records the bot's decision on one customer message (internal:
	// agents and supervisors see it, the customer does not); body: TurnBody.
	KindTurn starpost.EventKind = "bot.turn"
	// KindHandoff hands the conversation to a human; body: HandoffBody. A
	// state change bot → queued follows it, so the router assigns it.
	KindHandoff starpost.EventKind = "bot.handoff"
)

// EngineName is the bot engine's name: its checkpoint and the prefix of its
// idempotency keys.
const EngineName = "bot"

// Participant is the actor of the bot's messages: a bot participant of the
// conversation.
var Participant = starpost.Actor{Role: starpost.RoleBot, ID: "bot"}

// Option is an intent offered by a clarifying question.
type Option struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// TurnBody is the bot's decision on the customer message at MessageSeq.
type TurnBody struct {
	MessageSeq  int64    `json:"message_seq"`
	Action      Action   `json:"action"`
	Intent      string   `json:"intent,omitempty"`
	IntentTitle string   `json:"intent_title,omitempty"`
	Confidence  float64  `json:"confidence"`
	Similarity  float64  `json:"similarity"`
	Options     []Option `json:"options,omitempty"`
	FailedTurns int      `json:"failed_turns"`
	// ModelVersion is the intent model version that decided (0: none).
	ModelVersion int64 `json:"model_version"`
}

// HandoffBody hands the conversation over: why, what the bot understood
// and a short transcript for the agent.
type HandoffBody struct {
	// TriggerSeq is the seq of the event that made the bot hand over (a
	// customer message, or the emotion event that found anger).
	TriggerSeq  int64   `json:"trigger_seq"`
	Reason      Reason  `json:"reason"`
	Intent      string  `json:"intent,omitempty"`
	IntentTitle string  `json:"intent_title,omitempty"`
	Confidence  float64 `json:"confidence"`
	// Turns counts the customer messages the bot handled.
	Turns       int              `json:"turns"`
	FailedTurns int              `json:"failed_turns"`
	Transcript  []TranscriptLine `json:"transcript"`
	// Summary is the transcript as one short text.
	Summary      string `json:"summary"`
	ModelVersion int64  `json:"model_version"`
}

// TranscriptLine is one message of the bot conversation.
type TranscriptLine struct {
	Role starpost.ParticipantRole `json:"role"`
	Text string                   `json:"text"`
}

// Config configures the bot engine.
type Config struct {
	Policy Policy
	// TranscriptLines bounds the handoff transcript (0 means 8).
	TranscriptLines int
}

// Engine is the bot, an engine.Handler: in every conversation that is in
// state bot it answers each customer message from the knowledge base when
// its intent model is confident, asks one clarifying question when two
// intents are close, and hands the conversation over to the queue's agents
// (bot.handoff, then state queued) when the customer asks for a person, is
// angry (the emotion engine's events), is out of scope, or after the
// queue's number of failed turns.
type Engine struct {
	models *Models
	src    Source
	store  starpost.Store
	cfg    Config
	humans humanConversations
}

// humanConversations remembers conversations known to be out of state bot.
// A conversation is in state bot only from its creation until the bot hands
// it over, and never returns to it, so once seen outside it, its customer
// messages need no store read: the conversations agents handle, nearly all
// traffic, cost the bot one map lookup. It is bounded: it forgets
// everything when full, which costs one read per conversation again.
type humanConversations struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

// maxHumanConversations bounds humanConversations (about 100 bytes each).
const maxHumanConversations = 100_000

func (h *humanConversations) has(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.ids[id]
	return ok
}

func (h *humanConversations) add(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ids == nil || len(h.ids) >= maxHumanConversations {
		h.ids = map[string]struct{}{}
	}
	h.ids[id] = struct{}{}
}

// NewEngine returns the bot engine.
func NewEngine(models *Models, store starpost.Store, cfg Config) (*Engine, error) {
	if models == nil || store == nil {
		return nil, errors.New("bot: engine needs models and a store")
	}
	if cfg.TranscriptLines <= 0 {
		cfg.TranscriptLines = 8
	}
	cfg.Policy = cfg.Policy.withDefaults()
	return &Engine{models: models, src: models.opts.Source, store: store, cfg: cfg}, nil
}

// Name returns EngineName.
func (e *Engine) Name() string { return EngineName }

// emotionBody is the part of the emotion engine's event body the bot reads.
type emotionBody struct {
	MessageSeq int64   `json:"message_seq"`
	Anger      float64 `json:"anger"`
	Abusive    bool    `json:"abusive"`
	Trend      struct {
		Direction string  `json:"direction"`
		Anger     float64 `json:"anger"`
	} `json:"trend"`
}

func (e *Engine) angry(b emotionBody) bool {
	at := e.cfg.Policy.AngerAt
	return b.Abusive || b.Anger >= at || b.Trend.Direction == "escalating" && b.Trend.Anger >= at*2/3
}

func customer(r starpost.ParticipantRole) bool {
	return r == starpost.RoleCustomer || r == starpost.RoleSimulatedCustomer
}

// Handle implements engine.Handler.
func (e *Engine) Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	if ev.ConversationID == "" {
		return nil, nil
	}
	var emo emotionBody
	switch {
	case ev.Kind == starpost.KindCreated:
		var b starpost.CreatedBody
		if ev.DecodeBody(&b) != nil {
			return nil, nil
		}
		if b.State != starpost.StateBot {
			e.humans.add(ev.ConversationID)
			return nil, nil
		}
		return []*starpost.Event{{ConversationID: ev.ConversationID, Kind: starpost.KindJoined, Actor: Participant,
			Body: starpost.MustBody(starpost.JoinedBody{Role: Participant.Role, ID: Participant.ID})}}, nil
	case ev.Kind == starpost.KindMessage && customer(ev.Actor.Role):
	case ev.Kind == "emotion":
		if ev.DecodeBody(&emo) != nil || !e.angry(emo) {
			return nil, nil
		}
	default:
		return nil, nil
	}
	if e.humans.has(ev.ConversationID) {
		return nil, nil
	}
	conv, err := e.store.FindConversation(ctx, ev.WorkspaceID, ev.ConversationID)
	if err != nil {
		return nil, err
	}
	if conv.State != starpost.StateBot {
		e.humans.add(ev.ConversationID)
		return nil, nil
	}
	h, err := e.history(ctx, ev)
	if err != nil {
		return nil, err
	}
	if h.done {
		return nil, nil // a replay: this event was answered already
	}
	if ev.Kind == "emotion" {
		return e.handoff(ev, h, Turn{Action: ActHandoff, Reason: ReasonAngry, Intent: h.lastIntent, Confidence: h.lastConfidence,
			FailedTurns: h.mem.FailedTurns}, 0, ""), nil
	}
	var msg starpost.MessageBody
	if ev.DecodeBody(&msg) != nil || strings.TrimSpace(msg.Text) == "" {
		return nil, nil // an attachment alone: leave it to a person later
	}
	q, err := e.store.FindQueue(ctx, ev.WorkspaceID, conv.QueueID)
	if err != nil && starpost.ErrorCode(err) != starpost.ENOTFOUND {
		return nil, err
	}
	maxFailed := starpost.DefaultBotMaxFailedTurns
	if q != nil && q.BotMaxFailedTurns > 0 {
		maxFailed = q.BotMaxFailedTurns
	}
	model, err := e.models.Current(ctx, ev.WorkspaceID)
	if err != nil {
		return nil, err
	}
	in := Input{Text: msg.Text, Angry: h.angry, Mem: h.mem, MaxFailedTurns: maxFailed}
	var version int64
	var pred Prediction
	if model != nil {
		pred = model.Predict(msg.Text)
		in.Pred, version = &pred, model.Version
	}
	var t Turn
	if q != nil && !q.Bot { // the queue's bot was switched off meanwhile
		t = Turn{Intent: pred.Intent, Confidence: pred.Confidence, FailedTurns: h.mem.FailedTurns}.handoff(ReasonDisabled)
	} else {
		t = e.cfg.Policy.Decide(in)
	}
	zh := IsChinese(msg.Text)
	title := func(id string) string {
		if model != nil {
			if in, ok := model.Intents[id]; ok {
				return in.Title
			}
		}
		return ""
	}
	turn := TurnBody{MessageSeq: ev.Seq, Action: t.Action, Intent: t.Intent, IntentTitle: title(t.Intent), Confidence: round3(t.Confidence),
		Similarity: round3(pred.Similarity), FailedTurns: t.FailedTurns, ModelVersion: version}
	var reply string
	switch t.Action {
	case ActHandoff:
		h.transcript = append(h.transcript, TranscriptLine{Role: starpost.RoleCustomer, Text: cutRunes(msg.Text, 200)})
		h.turns++
		return e.handoff(ev, h, t, version, title(t.Intent)), nil
	case ActAnswer:
		answer, err := e.src.Answer(ctx, ev.WorkspaceID, t.Intent)
		if starpost.ErrorCode(err) == starpost.ENOTFOUND {
			// Deleted since the model was trained: the model is retraining.
			t = t.failed(maxFailed)
			turn.Action, turn.FailedTurns = t.Action, t.FailedTurns
			if t.Action == ActHandoff {
				return e.handoff(ev, h, t, version, title(t.Intent)), nil
			}
			reply = pick(zh, rephraseZH, rephraseEN)
		} else if err != nil {
			return nil, fmt.Errorf("bot: answer %s: %w", t.Intent, err)
		} else {
			reply = answer
		}
	case ActClarify:
		for _, id := range t.Options {
			turn.Options = append(turn.Options, Option{ID: id, Title: title(id)})
		}
		if zh {
			reply = fmt.Sprintf("请问您想问的是：1.「%s」还是 2.「%s」？请回复 1 或 2。", turn.Options[0].Title, turn.Options[1].Title)
		} else {
			reply = fmt.Sprintf("Do you mean 1. “%s” or 2. “%s”? Reply 1 or 2.", turn.Options[0].Title, turn.Options[1].Title)
		}
	case ActRephrase:
		reply = pick(zh, rephraseZH, rephraseEN)
	case ActGreet:
		reply = pick(zh, "您好！我是智能助理，请问有什么可以帮您？需要人工服务请回复“人工”。", "Hello! I'm the assistant. What can I help you with? Type “agent” at any time to talk to a person.")
	}
	return []*starpost.Event{
		{ConversationID: ev.ConversationID, Kind: starpost.KindMessage, Actor: Participant,
			Body: starpost.MustBody(starpost.MessageBody{Text: cutMessage(reply, starpost.MaxMessageLen)}), IdempotencyKey: engine.Key(EngineName, "reply", ev.ConversationID, ev.Seq)},
		{ConversationID: ev.ConversationID, Kind: KindTurn, Actor: Participant, Body: starpost.MustBody(turn),
			IdempotencyKey: engine.Key(EngineName, "turn", ev.ConversationID, ev.Seq)},
	}, nil
}

const (
	rephraseZH = "抱歉，我没有完全理解您的问题，能换个说法再描述一下吗？也可以回复“人工”联系客服。"
	rephraseEN = "Sorry, I didn't quite get that. Could you say it another way? You can also type “agent” to talk to a person."
)

// handoff returns the bot's goodbye, the bot.handoff event and the state
// change that queues the conversation for the router.
func (e *Engine) handoff(ev *starpost.Event, h *history, t Turn, version int64, title string) []*starpost.Event {
	if version == 0 {
		version = h.lastVersion
	}
	if title == "" && t.Intent == h.lastIntent {
		title = h.lastTitle
	}
	lines := h.transcript
	if n := e.cfg.TranscriptLines; len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var sum strings.Builder
	for _, l := range lines {
		who := "Customer"
		if l.Role == starpost.RoleBot {
			who = "Bot"
		}
		fmt.Fprintf(&sum, "%s: %s\n", who, cutRunes(l.Text, 80))
	}
	body := HandoffBody{TriggerSeq: ev.Seq, Reason: t.Reason, Intent: t.Intent, IntentTitle: title, Confidence: round3(t.Confidence),
		Turns: h.turns, FailedTurns: t.FailedTurns, Transcript: lines, Summary: strings.TrimSpace(sum.String()), ModelVersion: version}
	if body.Transcript == nil {
		body.Transcript = []TranscriptLine{}
	}
	zh := IsChinese(h.lastCustomer)
	return []*starpost.Event{
		{ConversationID: ev.ConversationID, Kind: starpost.KindMessage, Actor: Participant,
			Body:           starpost.MustBody(starpost.MessageBody{Text: pick(zh, "好的，正在为您转接人工客服，请稍候。", "I'm connecting you with a person now — please hold on a moment.")}),
			IdempotencyKey: engine.Key(EngineName, "reply", ev.ConversationID, ev.Seq)},
		{ConversationID: ev.ConversationID, Kind: KindHandoff, Actor: Participant, Body: starpost.MustBody(body),
			IdempotencyKey: engine.Key(EngineName, "handoff", ev.ConversationID, ev.Seq)},
		{ConversationID: ev.ConversationID, Kind: starpost.KindState, Actor: Participant,
			Body:           starpost.MustBody(starpost.StateBody{State: starpost.StateQueued, Reason: "bot_handoff"}),
			IdempotencyKey: engine.Key(EngineName, "state", ev.ConversationID, ev.Seq)},
	}
}

// history is what the bot reads from the conversation's events before the
// one it handles.
type history struct {
	mem            Memory
	angry          bool
	done           bool // the bot already answered the event (a replay)
	turns          int
	transcript     []TranscriptLine
	lastCustomer   string
	lastIntent     string
	lastTitle      string
	lastConfidence float64
	lastVersion    int64
}

func (e *Engine) history(ctx context.Context, ev *starpost.Event) (*history, error) {
	h := &history{}
	var after int64
	for {
		evs, err := e.store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ev.WorkspaceID, ConversationID: ev.ConversationID, AfterCursor: after})
		if err != nil {
			return nil, fmt.Errorf("bot: history of %s: %w", ev.ConversationID, err)
		}
		for _, x := range evs {
			after = x.Cursor
			if x.Seq >= ev.Seq {
				if x.Actor == Participant && (x.Kind == KindTurn || x.Kind == KindHandoff) && answers(x, ev.Seq) {
					h.done = true
				}
				if ev.Kind == starpost.KindMessage {
					continue // a message is decided on what came before it
				}
			}
			h.observe(e, x) // an emotion handoff reports everything so far
		}
		if len(evs) < starpost.MaxEventPage {
			break
		}
	}
	if ev.Kind == starpost.KindMessage {
		var b starpost.MessageBody
		if ev.DecodeBody(&b) == nil {
			h.lastCustomer = b.Text
		}
	}
	return h, nil
}

// answers reports whether the bot event x answered the event at seq.
func answers(x *starpost.Event, seq int64) bool {
	var b struct {
		MessageSeq int64 `json:"message_seq"`
		TriggerSeq int64 `json:"trigger_seq"`
	}
	return x.DecodeBody(&b) == nil && (b.MessageSeq == seq || b.TriggerSeq == seq)
}

func (h *history) observe(e *Engine, x *starpost.Event) {
	switch {
	case x.Kind == starpost.KindMessage:
		var b starpost.MessageBody
		if x.DecodeBody(&b) != nil || strings.TrimSpace(b.Text) == "" {
			return
		}
		if customer(x.Actor.Role) {
			h.turns++
			h.lastCustomer = b.Text
			h.transcript = append(h.transcript, TranscriptLine{Role: starpost.RoleCustomer, Text: cutRunes(b.Text, 200)})
		} else if x.Actor == Participant {
			h.transcript = append(h.transcript, TranscriptLine{Role: starpost.RoleBot, Text: cutRunes(b.Text, 200)})
		}
	case x.Kind == KindTurn && x.Actor == Participant:
		var b TurnBody
		if x.DecodeBody(&b) != nil {
			return
		}
		h.mem = Memory{LastAction: b.Action, FailedTurns: b.FailedTurns}
		if b.Action == ActClarify && len(b.Options) == 2 {
			h.mem.Options = []string{b.Options[0].ID, b.Options[1].ID}
		}
		h.lastIntent, h.lastTitle, h.lastConfidence, h.lastVersion = b.Intent, b.IntentTitle, b.Confidence, b.ModelVersion
	case x.Kind == "emotion":
		var b emotionBody
		if x.DecodeBody(&b) == nil && e.angry(b) {
			h.angry = true
		}
	}
}

func pick(zh bool, a, b string) string {
	if zh {
		return a
	}
	return b
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// cutRunes shortens s to n runes, marking the cut with an ellipsis.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// cutMessage shortens s to at most n runes (a message's limit).
func cutMessage(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
