package quality

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/text"
)

// Finding is one observation of the QA of a conversation, linked to the
// exact message (or event) it is about.
type Finding struct {
	Rule string `json:"rule"`
	// Pass is true for a finding that shows a standard was met (a greeting,
	// a first response within the SLA, empathy), false for a failure.
	Pass bool `json:"pass"`
	// MessageSeq is the seq of the message or event the finding is about:
	// the customer message that waited, the agent message that said a
	// phrase, the event where the agent left.
	MessageSeq int64 `json:"message_seq"`
	// ReplySeq is the seq of the agent reply that ended a wait (0 when the
	// customer got no reply).
	ReplySeq int64 `json:"reply_seq,omitempty"`
	// At is when the moment began (the time of the MessageSeq event).
	At time.Time `json:"at"`
	// WaitSeconds is how long the customer waited, for timing rules.
	WaitSeconds float64 `json:"wait_seconds,omitempty"`
	AgentID     string  `json:"agent_id,omitempty"`
	// BreachAt is the moment a timing SLA was breached: when the customer
	// had waited the rule's limit (first response, slow reply, ignored).
	BreachAt time.Time `json:"breach_at,omitzero"`
	// Phrase is the phrase found (greeting, closing, empathy, forbidden,
	// disclosure, resolution).
	Phrase string `json:"phrase,omitempty"`
	// Value is the rule's measure where it has one: the relevance of the
	// best reply (off_topic), the rating (csat).
	Value float64 `json:"value,omitempty"`
	// Detail explains the finding in a few words (English).
	Detail string `json:"detail"`
}

// ItemResult is the outcome of one scorecard item.
type ItemResult struct {
	Rule       string  `json:"rule"`
	Weight     float64 `json:"weight"`
	AutoFail   bool    `json:"auto_fail,omitempty"`
	Applicable bool    `json:"applicable"`
	Passed     bool    `json:"passed"`
}

// Report is the QA of one conversation.
type Report struct {
	ConversationID string `json:"conversation_id"`
	// ResolvedSeq is the seq of the resolution that was inspected (0 when
	// the events hold none).
	ResolvedSeq int64 `json:"resolved_seq"`
	// ResolvedAt is the time of that resolution.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// AgentID is the agent who held the conversation last.
	AgentID  string    `json:"agent_id,omitempty"`
	Findings []Finding `json:"findings"`
	// Truncated is true when findings beyond Config.MaxFindings were left out.
	Truncated bool         `json:"truncated,omitempty"`
	Items     []ItemResult `json:"items"`
	// Score is 0 to 100: the weighted share of applicable items passed, or
	// 0 when an auto-fail item failed.
	Score      int      `json:"score"`
	AutoFailed bool     `json:"auto_failed,omitempty"`
	Failed     []string `json:"failed,omitempty"`
	// Waits lists every time the customer waited for an agent, answered
	// or not, in order.
	Waits []Wait `json:"waits,omitempty"`
	// FirstResponseSeconds is the wait for the first agent reply (nil when
	// there was no customer message to answer).
	FirstResponseSeconds *float64 `json:"first_response_seconds,omitempty"`
	// CSAT is the customer's latest satisfaction rating (1 to 5; 0: none).
	CSAT int `json:"csat,omitempty"`
}

// Wait is one customer-waiting gap: from the customer's message (or the
// hand-over from a bot) to the agent's reply, or to the resolution when no
// reply came (ReplySeq 0).
type Wait struct {
	MessageSeq int64     `json:"message_seq"`
	ReplySeq   int64     `json:"reply_seq,omitempty"`
	From       time.Time `json:"from"`
	Seconds    float64   `json:"seconds"`
	// Breach is true when the wait exceeded its limit (the first-response
	// SLA for the first wait, SlowReply after).
	Breach bool `json:"breach,omitempty"`
}

// kindCSAT is the kind of a customer satisfaction rating; body csatSignal.
const kindCSAT starpost.EventKind = "csat"

// csatSignal is the body of a csat event.
type csatSignal struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// emotionSignal is what QA reads from an emotion event (the JSON contract
// of package emotion's EmotionBody).
type emotionSignal struct {
	MessageSeq int64   `json:"message_seq"`
	Anger      float64 `json:"anger"`
	Abusive    bool    `json:"abusive"`
}

// kindEmotion is the kind of the emotion engine's events.
const kindEmotion starpost.EventKind = "emotion"

func isCustomer(r starpost.ParticipantRole) bool {
	return r == starpost.RoleCustomer || r == starpost.RoleSimulatedCustomer
}

// message is a message event with its text.
type message struct {
	ev   *starpost.Event
	text string // lower-cased
	norm string // text.Normalize(text): what bags and isHolding read
	ack  bool   // a customer message that only acknowledges (see acknowledges)
}

// newMessage returns the message of event e with text s.
func newMessage(e *starpost.Event, s string) message {
	low := lowerText(s)
	return message{ev: e, text: low, norm: text.Normalize(low)}
}

// Inspect applies the rules of cfg to the events of one conversation, in
// seq order, up to its resolution (events after the last resolution are
// ignored). It is a pure function: the same events give the same report.
func Inspect(events []*starpost.Event, cfg Config) (Report, error) {
	if !cfg.validated() {
		if err := cfg.Validate(); err != nil {
			return Report{}, fmt.Errorf("quality: config: %w", err)
		}
	}
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b *starpost.Event) int { return int(a.Seq - b.Seq) })
	var rep Report
	if len(evs) > 0 {
		rep.ConversationID = evs[0].ConversationID
	}
	// Cut at the last ending.
	all := evs
	resolved := Ending(evs)
	if resolved != nil {
		rep.ResolvedSeq, rep.ResolvedAt = resolved.Seq, resolved.At
		evs = evs[:slices.Index(evs, resolved)+1]
	}

	in := inspection{cfg: &cfg, rep: &rep, judged: map[string]bool{}}
	in.preparePhrases()
	in.walk(evs, resolved)
	in.phrases()
	in.empathy(evs)
	in.offTopic()
	in.disclosures()
	in.resolution()
	in.csat(all)
	in.score()
	if cfg.MaxFindings > 0 && len(rep.Findings) > cfg.MaxFindings {
		rep.Findings, rep.Truncated = rep.Findings[:cfg.MaxFindings], true
	}
	return rep, nil
}

// Ending returns the event that last ended the conversation among evs (in
// seq order): a state change to resolved, or to closed straight from an
// open state (a conversation ended without resolution, for example by the
// abuse policy). Closing a resolved conversation is not an ending of its
// own. It returns nil when the conversation never ended.
func Ending(evs []*starpost.Event) *starpost.Event {
	var end *starpost.Event
	open := false
	for _, e := range evs {
		switch e.Kind {
		case starpost.KindCreated:
			open = true
		case starpost.KindMessage:
			if isCustomer(e.Actor.Role) && !open && end != nil && stateOf(end) == starpost.StateResolved {
				open = true // the customer wrote again: reopened
			}
		case starpost.KindState:
			switch stateOf(e) {
			case starpost.StateResolved, starpost.StateClosed:
				if open {
					end, open = e, false
				}
			case starpost.StateQueued:
				open = true
			}
		}
	}
	return end
}

func stateOf(e *starpost.Event) starpost.State {
	if e.Kind != starpost.KindState {
		return ""
	}
	var b starpost.StateBody
	if e.DecodeBody(&b) != nil {
		return ""
	}
	return b.State
}

// inspection is the working state of one Inspect call.
type inspection struct {
	cfg      *Config
	rep      *Report
	agentMsg []message
	msgs     []message // customer and agent messages, in order
	bySeq    map[int64]*starpost.Event
	judged   map[string]bool // rules that had something to judge

	// The configured phrase lists, prepared once.
	greetings, closings, empathyPh, checks, confirms, denials []phrase
	forbiddenPh                                               []phrase   // parallel to cfg.Forbidden ("" for a regex)
	disclosurePh                                              [][]phrase // parallel to cfg.Disclosures
}

// preparePhrases lower-cases the configured phrase lists once.
func (in *inspection) preparePhrases() {
	c := in.cfg
	in.greetings, in.closings, in.empathyPh = phrasesOf(c.Greetings), phrasesOf(c.Closings), phrasesOf(c.Empathy)
	in.checks, in.confirms, in.denials = phrasesOf(c.ResolutionChecks), phrasesOf(c.Confirmations), phrasesOf(c.Denials)
	in.forbiddenPh = make([]phrase, len(c.Forbidden))
	for i, r := range c.Forbidden {
		if r.Regex == "" {
			in.forbiddenPh[i] = phrasesOf([]string{r.Phrase})[0]
		}
	}
	in.disclosurePh = make([][]phrase, len(c.Disclosures))
	for i, d := range c.Disclosures {
		in.disclosurePh[i] = phrasesOf(d.Phrases)
	}
}

func (in *inspection) add(f Finding) { in.rep.Findings = append(in.rep.Findings, f) }

func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*10) / 10 }

// walk follows the conversation and reports the timing rules: first
// response, slow replies, ignored customers and vanished agents.
func (in *inspection) walk(evs []*starpost.Event, resolved *starpost.Event) {
	cfg := in.cfg
	in.bySeq = make(map[int64]*starpost.Event, len(evs))
	nmsg := 0
	for _, e := range evs {
		if e.Kind == starpost.KindMessage {
			nmsg++
		}
	}
	in.msgs, in.agentMsg = make([]message, 0, nmsg), make([]message, 0, nmsg)
	var (
		agent     string          // agent holding the conversation
		bot       bool            // a bot is answering: the customer is not waiting for an agent
		pending   *starpost.Event // first customer message not yet answered
		ack       bool            // every pending message only acknowledges ("thanks", "好的")
		waitFrom  time.Time       // when that wait started
		answered  bool            // an agent replied at least once
		lastAgent = map[string]*starpost.Event{}
		heldSince time.Time
	)
	gap := func(reply *starpost.Event) {
		w := reply.At.Sub(waitFrom)
		f := Finding{MessageSeq: pending.Seq, ReplySeq: reply.Seq, At: pending.At, WaitSeconds: seconds(w), AgentID: reply.Actor.ID}
		first := !answered
		limit := cfg.SlowReply
		if first {
			limit = cfg.FirstResponse
			sec := seconds(w)
			in.rep.FirstResponseSeconds = &sec
			ff := f
			ff.Rule, ff.Pass = RuleFirstResponse, w <= cfg.FirstResponse
			ff.Detail = fmt.Sprintf("first response after %s (SLA %s)", w.Round(time.Second), cfg.FirstResponse)
			if !ff.Pass {
				ff.BreachAt = waitFrom.Add(cfg.FirstResponse)
			}
			in.add(ff)
		}
		in.rep.Waits = append(in.rep.Waits, Wait{MessageSeq: pending.Seq, ReplySeq: reply.Seq, From: waitFrom, Seconds: seconds(w), Breach: w > limit})
		switch {
		case w >= cfg.IgnoredAfter:
			f.Rule, f.Detail = RuleIgnoredCustomer, fmt.Sprintf("customer waited %s for a reply", w.Round(time.Second))
			f.BreachAt = waitFrom.Add(cfg.IgnoredAfter)
			in.add(f)
		case !first && w > cfg.SlowReply:
			f.Rule, f.Detail = RuleSlowReply, fmt.Sprintf("reply after %s (limit %s)", w.Round(time.Second), cfg.SlowReply)
			f.BreachAt = waitFrom.Add(cfg.SlowReply)
			in.add(f)
		}
	}
	for _, e := range evs {
		in.bySeq[e.Seq] = e
		switch e.Kind {
		case starpost.KindCreated:
			var b starpost.CreatedBody
			if e.DecodeBody(&b) == nil && b.State == starpost.StateBot {
				bot = true
			}
		case starpost.KindAssigned:
			var b starpost.AssignedBody
			if e.DecodeBody(&b) == nil {
				agent, heldSince, bot = b.AgentID, e.At, false
			}
		case starpost.KindTransferred:
			var b starpost.TransferBody
			if e.DecodeBody(&b) == nil {
				agent, heldSince = b.ToAgentID, e.At
			}
		case starpost.KindUnassigned:
			var b starpost.UnassignedBody
			if e.DecodeBody(&b) == nil {
				switch b.Reason {
				case "disconnected", "offline", "reply_timeout":
					in.add(Finding{Rule: RuleAgentVanished, MessageSeq: e.Seq, At: e.At, AgentID: b.AgentID,
						Detail: "agent left the conversation before resolution (" + b.Reason + ")"})
				}
				agent = ""
			}
		case starpost.KindState:
			switch stateOf(e) {
			case starpost.StateQueued:
				if bot {
					bot = false
					if pending != nil {
						waitFrom = e.At // the wait for an agent starts at the hand-over
					}
				}
			case starpost.StateResolved, starpost.StateClosed:
				if e != resolved && pending != nil {
					// An earlier resolution: what was pending then is
					// judged as ignored at that moment.
					if !ack {
						in.unanswered(pending, waitFrom, e)
					}
					pending = nil
				}
			}
		case starpost.KindMessage:
			var b starpost.MessageBody
			if e.DecodeBody(&b) != nil {
				continue
			}
			switch {
			case isCustomer(e.Actor.Role):
				m := newMessage(e, b.Text)
				m.ack = in.acknowledges(m.text)
				isAck := m.ack
				in.msgs = append(in.msgs, m)
				if pending == nil {
					pending, waitFrom, ack = e, e.At, isAck
				} else {
					ack = ack && isAck
				}
			case e.Actor.Role == starpost.RoleAgentParticipant:
				in.agentMsg = append(in.agentMsg, newMessage(e, b.Text))
				in.msgs = append(in.msgs, in.agentMsg[len(in.agentMsg)-1])
				if pending != nil {
					gap(e)
					pending, answered = nil, true
				} else {
					answered = true // the agent spoke first
				}
				lastAgent[e.Actor.ID] = e
				in.rep.AgentID = e.Actor.ID
			case e.Actor.Role == starpost.RoleBot:
				if bot {
					pending = nil // the bot answered
				}
			}
		}
	}
	if agent != "" {
		in.rep.AgentID = agent
	}
	if resolved == nil {
		return
	}
	if pending != nil && ack && answered {
		pending = nil // the customer only said thanks: nothing to answer
	}
	if pending != nil {
		in.unanswered(pending, waitFrom, resolved)
		if !answered {
			f := Finding{Rule: RuleFirstResponse, MessageSeq: pending.Seq, At: pending.At,
				WaitSeconds: seconds(resolved.At.Sub(waitFrom)), Detail: "the customer never got a reply"}
			if resolved.At.Sub(waitFrom) > cfg.FirstResponse {
				f.BreachAt = waitFrom.Add(cfg.FirstResponse)
			}
			in.add(f)
		}
		// Resolved by someone else after the holding agent went silent.
		if agent != "" && resolved.Actor.ID != agent {
			last := heldSince
			seq := pending.Seq
			if m := lastAgent[agent]; m != nil && m.At.After(last) {
				last, seq = m.At, m.Seq
			}
			if silence := resolved.At.Sub(last); silence >= cfg.VanishedAfter && resolved.At.Sub(waitFrom) >= cfg.VanishedAfter {
				in.add(Finding{Rule: RuleAgentVanished, MessageSeq: seq, At: last, AgentID: agent, WaitSeconds: seconds(silence),
					Detail: fmt.Sprintf("agent silent for %s, then resolved by %s", silence.Round(time.Second), resolved.Actor.ID)})
			}
		}
	}
}

// lowerText lower-cases s like strings.ToLower, skipping the case tables
// for ASCII and common Chinese characters (which have no case).
func lowerText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			return r
		case r >= 0x4E00 && r <= 0x9FFF:
			return r
		}
		return unicode.ToLower(r)
	}, s)
}

// acknowledges reports whether a customer message (lower-cased) only
// acknowledges or thanks ("好的，谢谢", "thanks, that works"): a message that
// needs no reply before the resolution.
func (in *inspection) acknowledges(text string) bool {
	return firstPhrase(text, in.confirms) != "" && firstPhrase(text, in.denials) == "" && !isQuestion(text)
}

// unanswered reports a customer message that got no reply before the
// resolution res.
func (in *inspection) unanswered(pending *starpost.Event, from time.Time, res *starpost.Event) {
	if pending == nil {
		return
	}
	w := res.At.Sub(from)
	in.rep.Waits = append(in.rep.Waits, Wait{MessageSeq: pending.Seq, From: from, Seconds: seconds(w), Breach: true})
	f := Finding{Rule: RuleIgnoredCustomer, MessageSeq: pending.Seq, At: pending.At, WaitSeconds: seconds(w),
		Detail: fmt.Sprintf("no reply before the conversation was resolved (%s later)", w.Round(time.Second))}
	if w >= in.cfg.IgnoredAfter {
		f.BreachAt = from.Add(in.cfg.IgnoredAfter)
	}
	in.add(f)
}

// phrase is a configured phrase prepared for matching: lower-cased once per
// Inspect rather than once per message.
type phrase struct {
	orig   string // as configured: what a Finding reports
	low    string // lower-cased, without the trailing "*"
	prefix bool   // a trailing "*": the last word is a prefix
	latin  bool   // has Latin letters: matches whole words only
}

// phrasesOf prepares a list of configured phrases.
func phrasesOf(list []string) []phrase {
	out := make([]phrase, len(list))
	for i, p := range list {
		low := lowerText(p)
		out[i] = phrase{orig: p, low: strings.TrimSuffix(low, "*"), prefix: strings.HasSuffix(low, "*")}
		out[i].latin = hasLatin(out[i].low)
	}
	return out
}

// firstPhrase returns the first of phrases found in text (lower-cased), as
// configured.
func firstPhrase(text string, phrases []phrase) string {
	for _, p := range phrases {
		if p.in(text) {
			return p.orig
		}
	}
	return ""
}

// in reports whether lower-cased text contains the phrase. A phrase with
// Latin letters matches whole words only ("hi" is not in "this"); a
// trailing "*" makes its last word a prefix ("apolog*" matches
// "apologise"). Other phrases (Chinese) match anywhere.
func (ph phrase) in(text string) bool {
	p := ph.low
	if p == "" {
		return false
	}
	if !ph.latin {
		return strings.Contains(text, p)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], p)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(p)
		if (start == 0 || !wordByte(text[start-1]) || !wordByte(p[0])) &&
			(ph.prefix || end == len(text) || !wordByte(text[end]) || !wordByte(p[len(p)-1])) {
			return true
		}
		i = start + 1
	}
}

func hasLatin(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return true
		}
	}
	return false
}

func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '\''
}

// phrases reports greeting, closing and forbidden phrases.
func (in *inspection) phrases() {
	cfg, msgs := in.cfg, in.agentMsg
	if len(msgs) == 0 {
		return
	}
	check := func(rule string, window []message, phrases []phrase, missing message, what string) {
		for _, m := range window {
			if p := firstPhrase(m.text, phrases); p != "" {
				in.add(Finding{Rule: rule, Pass: true, MessageSeq: m.ev.Seq, At: m.ev.At, AgentID: m.ev.Actor.ID, Phrase: p, Detail: what + " present"})
				return
			}
		}
		in.add(Finding{Rule: rule, MessageSeq: missing.ev.Seq, At: missing.ev.At, AgentID: missing.ev.Actor.ID, Detail: what + " missing"})
	}
	check(RuleGreeting, msgs[:min(cfg.GreetingWithin, len(msgs))], in.greetings, msgs[0], "greeting")
	check(RuleClosing, msgs[max(0, len(msgs)-cfg.ClosingWithin):], in.closings, msgs[len(msgs)-1], "closing")
	for _, m := range msgs {
		for i, r := range cfg.Forbidden {
			var hit string
			if r.Regex != "" {
				hit = cfg.forbidden[i].FindString(m.text)
			} else if in.forbiddenPh[i].in(m.text) {
				hit = r.Phrase
			}
			if hit != "" {
				in.add(Finding{Rule: RuleForbidden, MessageSeq: m.ev.Seq, At: m.ev.At, AgentID: m.ev.Actor.ID, Phrase: hit, Detail: r.Name})
			}
		}
	}
}

// empathy checks that the agent answered each angry customer message
// (according to the emotion events) with empathy within a few messages.
func (in *inspection) empathy(evs []*starpost.Event) {
	cfg := in.cfg
	var angry []int64
	seen := map[int64]bool{}
	for _, e := range evs {
		if e.Kind != kindEmotion {
			continue
		}
		var s emotionSignal
		if e.DecodeBody(&s) != nil || seen[s.MessageSeq] {
			continue
		}
		if s.Anger >= cfg.AngerThreshold || s.Abusive {
			seen[s.MessageSeq] = true
			angry = append(angry, s.MessageSeq)
		}
	}
	slices.Sort(angry)
	checked := map[int64]bool{} // windows already judged, by their first reply
	for _, seq := range angry {
		msg := in.bySeq[seq]
		if msg == nil {
			continue
		}
		i, _ := slices.BinarySearchFunc(in.agentMsg, seq, func(m message, s int64) int { return int(m.ev.Seq - s) })
		window := in.agentMsg[i:min(len(in.agentMsg), i+cfg.EmpathyWithin)]
		if len(window) > 0 {
			if checked[window[0].ev.Seq] {
				continue
			}
			checked[window[0].ev.Seq] = true
		}
		f := Finding{Rule: RuleEmpathy, MessageSeq: seq, At: msg.At, Detail: "no empathy after an angry customer message"}
		for _, m := range window {
			if p := firstPhrase(m.text, in.empathyPh); p != "" {
				f.Pass, f.Phrase, f.ReplySeq, f.AgentID, f.Detail = true, p, m.ev.Seq, m.ev.Actor.ID, "empathy shown to an angry customer"
				break
			}
		}
		if !f.Pass && len(window) > 0 {
			f.ReplySeq, f.AgentID = window[0].ev.Seq, window[0].ev.Actor.ID
		}
		in.add(f)
	}
}

// score fills the scorecard.
func (in *inspection) score() {
	rep := in.rep
	has, failed := map[string]bool{}, map[string]bool{}
	for _, f := range rep.Findings {
		has[f.Rule] = true
		if !f.Pass {
			failed[f.Rule] = true
		}
	}
	for _, it := range in.cfg.Scorecard {
		r := ItemResult{Rule: it.Rule, Weight: it.Weight, AutoFail: it.AutoFail}
		switch it.Rule {
		case RuleFirstResponse, RuleGreeting, RuleClosing, RuleEmpathy, RuleDisclosure, RuleResolution, RuleCSAT:
			r.Applicable = has[it.Rule] // only when there was something to judge
		case RuleOffTopic:
			r.Applicable = in.judged[it.Rule]
		default:
			r.Applicable = true // absence of a failure is a pass
		}
		r.Passed = r.Applicable && !failed[it.Rule]
		rep.Items = append(rep.Items, r)
	}
	rep.Score, rep.AutoFailed, rep.Failed = Score(rep.Items)
}

// Score computes a scorecard's score from its item results: 0 to 100, the
// weighted share of applicable items passed, or 0 when an applicable
// auto-fail item failed (autoFailed); 100 when no item applies. failed
// lists the applicable items that failed.
func Score(items []ItemResult) (score int, autoFailed bool, failed []string) {
	var total, got float64
	for _, r := range items {
		if !r.Applicable {
			continue
		}
		total += r.Weight
		if r.Passed {
			got += r.Weight
			continue
		}
		failed = append(failed, r.Rule)
		if r.AutoFail {
			autoFailed = true
		}
	}
	switch {
	case autoFailed:
		return 0, true, failed
	case total == 0:
		return 100, false, failed
	}
	return int(math.Round(100 * got / total)), false, failed
}

// offTopic reports customer questions that the agent's following replies
// do not address (see relevance.go for the method).
func (in *inspection) offTopic() {
	cfg := in.cfg
	if cfg.OffTopicBelow <= 0 {
		return
	}
	// With the default relevance each message's bag is made once, all in
	// one arena.
	var (
		bags    map[int64][]term
		arena   []term
		scratch []uint64
	)
	bagOf := func(m message) []term {
		if bags == nil {
			size := 0
			for _, m := range in.msgs {
				size += bagCap(m.norm)
			}
			bags, arena = make(map[int64][]term, len(in.msgs)), make([]term, 0, size)
		}
		b, ok := bags[m.ev.Seq]
		if !ok {
			arena, b = appendBag(arena, &scratch, m.norm)
			bags[m.ev.Seq] = b
		}
		return b
	}
	for i, q := range in.msgs {
		if !isCustomer(q.ev.Actor.Role) || !isQuestion(q.text) {
			continue
		}
		// The question is the customer's run of messages ending at q when
		// the next message is the agent's reply; the replies judged run to
		// the customer's next message that is more than an "ok".
		if i+1 >= len(in.msgs) || isCustomer(in.msgs[i+1].ev.Actor.Role) {
			continue
		}
		first := i
		for first > 0 && isCustomer(in.msgs[first-1].ev.Actor.Role) {
			first--
		}
		var question string
		var qbag []term
		if first == i {
			question, qbag = q.text, bagOf(q)
		} else {
			parts := make([]string, 0, i-first+1)
			for _, m := range in.msgs[first : i+1] {
				parts = append(parts, m.text)
			}
			question = strings.Join(parts, " ")
			qbag = bag(question)
		}
		if contentTerms(qbag) < cfg.MinQuestionTerms {
			continue
		}
		best := -1.0
		reply := in.msgs[i+1]
		for j := i + 1; j < len(in.msgs); j++ {
			if isCustomer(in.msgs[j].ev.Actor.Role) {
				if in.msgs[j].ack || isHolding(in.msgs[j].norm) {
					continue // "ok" after "let me check": the answer may follow
				}
				break
			}
			var r float64
			if cfg.Relevance != nil {
				r = cfg.Relevance(question, in.msgs[j].text)
			} else {
				r = cosine(qbag, bagOf(in.msgs[j]))
			}
			best = max(best, r)
		}
		in.judged[RuleOffTopic] = true
		if best < cfg.OffTopicBelow {
			in.add(Finding{Rule: RuleOffTopic, MessageSeq: q.ev.Seq, ReplySeq: reply.ev.Seq, At: q.ev.At, AgentID: reply.ev.Actor.ID,
				Value: math.Round(best*1000) / 1000, Detail: fmt.Sprintf("the reply does not address the question (relevance %.2f)", best)})
		}
	}
}

// disclosures reports each required disclosure as said (at the first agent
// message that says it) or missing (at the agent's last message).
func (in *inspection) disclosures() {
	if len(in.cfg.Disclosures) == 0 || len(in.agentMsg) == 0 {
		return
	}
	last := in.agentMsg[len(in.agentMsg)-1]
	for k, d := range in.cfg.Disclosures {
		f := Finding{Rule: RuleDisclosure, MessageSeq: last.ev.Seq, At: last.ev.At, AgentID: last.ev.Actor.ID, Detail: d.Name + " missing"}
		for _, m := range in.agentMsg {
			if p := firstPhrase(m.text, in.disclosurePh[k]); p != "" {
				f = Finding{Rule: RuleDisclosure, Pass: true, MessageSeq: m.ev.Seq, At: m.ev.At, AgentID: m.ev.Actor.ID, Phrase: p, Detail: d.Name + " said"}
				break
			}
		}
		in.add(f)
	}
}

// resolution checks that the resolution was confirmed with the customer in
// the last messages: the customer confirmed, or the agent asked and the
// customer did not deny.
func (in *inspection) resolution() {
	if len(in.agentMsg) == 0 {
		return
	}
	cfg := in.cfg
	tail := in.msgs[max(0, len(in.msgs)-cfg.ResolutionWithin):]
	last := in.agentMsg[len(in.agentMsg)-1]
	f := Finding{Rule: RuleResolution, MessageSeq: last.ev.Seq, At: last.ev.At, AgentID: last.ev.Actor.ID, Detail: "resolution not confirmed with the customer"}
	asked, agentSpoke := false, false
	for _, m := range tail {
		switch {
		case isCustomer(m.ev.Actor.Role):
			if !agentSpoke {
				continue // the customer's question, not an answer to the agent
			}
			if p := firstPhrase(m.text, in.denials); p != "" {
				f.Pass, f.Phrase, f.MessageSeq, f.At, f.Detail = false, p, m.ev.Seq, m.ev.At, "the customer said the problem is not solved"
				asked = false
				continue
			}
			if p := firstPhrase(m.text, in.confirms); p != "" {
				f.Pass, f.Phrase, f.MessageSeq, f.At, f.Detail = true, p, m.ev.Seq, m.ev.At, "the customer confirmed the resolution"
			}
		default:
			agentSpoke = true
			if p := firstPhrase(m.text, in.checks); p != "" {
				asked = true
				if !f.Pass {
					f.Phrase, f.MessageSeq, f.At = p, m.ev.Seq, m.ev.At
				}
			}
		}
	}
	if !f.Pass && asked {
		f.Pass, f.Detail = true, "the agent checked the problem was solved"
	}
	in.add(f)
}

// csat reports the customer's latest satisfaction rating among evs (a
// rating may come after the resolution).
func (in *inspection) csat(evs []*starpost.Event) {
	var last *starpost.Event
	var s csatSignal
	for _, e := range evs {
		if e.Kind != kindCSAT {
			continue
		}
		var b csatSignal
		if e.DecodeBody(&b) == nil && b.Score >= 1 && b.Score <= 5 {
			last, s = e, b
		}
	}
	if last == nil {
		return
	}
	in.rep.CSAT = s.Score
	f := Finding{Rule: RuleCSAT, Pass: s.Score >= in.cfg.CSATPass, MessageSeq: last.Seq, At: last.At, Value: float64(s.Score),
		Detail: fmt.Sprintf("customer rated %d of 5", s.Score)}
	if c := strings.TrimSpace(s.Comment); c != "" {
		f.Detail += ": " + truncateRunes(c, 200)
	}
	in.add(f)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
