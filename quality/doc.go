// Package quality inspects every resolved conversation automatically.
//
// Inspect is a pure function from a conversation's events to a Report:
// timing findings with their exact moments (first response, slow replies,
// ignored customers, vanished agents), greeting and closing present,
// forbidden phrases and patterns, and empathy towards a customer the
// emotion engine found angry; and a score from 0 to 100 from a weighted
// scorecard with auto-fail items. Rules, phrases (Chinese and English) and
// the scorecard are a Config with defaults (DefaultConfig), validated.
//
// Engine runs Inspect on every resolution (a state event to resolved, or to
// closed straight from an open state, see Ending) under
// an engine.Runner and writes one qa.finding event per finding, linked to the
// seq of the message it is about, and one qa.score event.
package quality
