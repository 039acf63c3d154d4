package quality

import (
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
)

// ConfigDoc is a Config as JSON, for a workspace's own configuration:
// durations in seconds, everything else as in Config.
type ConfigDoc struct {
	FirstResponseSeconds float64      `json:"first_response_seconds"`
	SlowReplySeconds     float64      `json:"slow_reply_seconds"`
	IgnoredAfterSeconds  float64      `json:"ignored_after_seconds"`
	VanishedAfterSeconds float64      `json:"vanished_after_seconds"`
	Greetings            []string     `json:"greetings"`
	GreetingWithin       int          `json:"greeting_within"`
	Closings             []string     `json:"closings"`
	ClosingWithin        int          `json:"closing_within"`
	Forbidden            []PhraseRule `json:"forbidden"`
	Empathy              []string     `json:"empathy"`
	EmpathyWithin        int          `json:"empathy_within"`
	AngerThreshold       float64      `json:"anger_threshold"`
	Disclosures          []Disclosure `json:"disclosures"`
	OffTopicBelow        float64      `json:"off_topic_below"`
	MinQuestionTerms     int          `json:"min_question_terms"`
	ResolutionChecks     []string     `json:"resolution_checks"`
	Confirmations        []string     `json:"confirmations"`
	Denials              []string     `json:"denials"`
	ResolutionWithin     int          `json:"resolution_within"`
	CSATPass             int          `json:"csat_pass"`
	MaxFindings          int          `json:"max_findings"`
	Scorecard            []ScoreItem  `json:"scorecard"`
}

// Limits of a workspace configuration.
const (
	MaxPhrases    = 1000 // phrases, patterns and disclosure phrases in all
	MaxPhraseLen  = 200  // characters of one phrase or name
	MaxPatternLen = 500  // bytes of one regular expression
	MaxDuration   = 7 * 24 * time.Hour
)

func seconds2(d time.Duration) float64 { return d.Seconds() }

// Doc returns c as a ConfigDoc.
func (c Config) Doc() ConfigDoc {
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	d := ConfigDoc{FirstResponseSeconds: seconds2(c.FirstResponse), SlowReplySeconds: seconds2(c.SlowReply),
		IgnoredAfterSeconds: seconds2(c.IgnoredAfter), VanishedAfterSeconds: seconds2(c.VanishedAfter),
		Greetings: nz(c.Greetings), GreetingWithin: c.GreetingWithin, Closings: nz(c.Closings), ClosingWithin: c.ClosingWithin,
		Forbidden: c.Forbidden, Empathy: nz(c.Empathy), EmpathyWithin: c.EmpathyWithin, AngerThreshold: c.AngerThreshold,
		Disclosures: c.Disclosures, OffTopicBelow: c.OffTopicBelow, MinQuestionTerms: c.MinQuestionTerms,
		ResolutionChecks: nz(c.ResolutionChecks), Confirmations: nz(c.Confirmations), Denials: nz(c.Denials),
		ResolutionWithin: c.ResolutionWithin, CSATPass: c.CSATPass, MaxFindings: c.MaxFindings, Scorecard: c.Scorecard}
	if d.Forbidden == nil {
		d.Forbidden = []PhraseRule{}
	}
	if d.Disclosures == nil {
		d.Disclosures = []Disclosure{}
	}
	return d
}

// Config returns the validated Config of d. Errors are field errors
// (EINVALID).
func (d ConfigDoc) Config() (Config, error) {
	dur := func(field string, s float64) (time.Duration, error) {
		if s != s || s <= 0 || s > MaxDuration.Seconds() {
			return 0, starpost.FieldError(field, "must be more than 0 and at most %d seconds", int(MaxDuration.Seconds()))
		}
		return time.Duration(s * float64(time.Second)), nil
	}
	var c Config
	var err error
	if c.FirstResponse, err = dur("first_response_seconds", d.FirstResponseSeconds); err != nil {
		return c, err
	}
	if c.SlowReply, err = dur("slow_reply_seconds", d.SlowReplySeconds); err != nil {
		return c, err
	}
	if c.IgnoredAfter, err = dur("ignored_after_seconds", d.IgnoredAfterSeconds); err != nil {
		return c, err
	}
	if c.VanishedAfter, err = dur("vanished_after_seconds", d.VanishedAfterSeconds); err != nil {
		return c, err
	}
	n := 0
	text := func(field, s string, limit int) error {
		n++
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > limit {
			return starpost.FieldError(field, "must be UTF-8 of at most %d characters", limit)
		}
		return nil
	}
	for field, list := range map[string][]string{"greetings": d.Greetings, "closings": d.Closings, "empathy": d.Empathy,
		"resolution_checks": d.ResolutionChecks, "confirmations": d.Confirmations, "denials": d.Denials} {
		for _, p := range list {
			if err := text(field, p, MaxPhraseLen); err != nil {
				return c, err
			}
		}
	}
	for _, f := range d.Forbidden {
		if err := text("forbidden", f.Name, MaxPhraseLen); err != nil {
			return c, err
		}
		if err := text("forbidden", f.Phrase, MaxPhraseLen); err != nil {
			return c, err
		}
		if len(f.Regex) > MaxPatternLen {
			return c, starpost.FieldError("forbidden", "a pattern is longer than %d bytes", MaxPatternLen)
		}
	}
	for _, x := range d.Disclosures {
		if err := text("disclosures", x.Name, MaxPhraseLen); err != nil {
			return c, err
		}
		for _, p := range x.Phrases {
			if err := text("disclosures", p, MaxPhraseLen); err != nil {
				return c, err
			}
		}
	}
	if n > MaxPhrases {
		return c, starpost.FieldError("config", "more than %d phrases", MaxPhrases)
	}
	if d.MaxFindings > 1000 {
		return c, starpost.FieldError("max_findings", "at most 1000")
	}
	c.Greetings, c.GreetingWithin, c.Closings, c.ClosingWithin = d.Greetings, d.GreetingWithin, d.Closings, d.ClosingWithin
	c.Forbidden, c.Empathy, c.EmpathyWithin, c.AngerThreshold = d.Forbidden, d.Empathy, d.EmpathyWithin, d.AngerThreshold
	c.Disclosures, c.OffTopicBelow, c.MinQuestionTerms = d.Disclosures, d.OffTopicBelow, d.MinQuestionTerms
	c.ResolutionChecks, c.Confirmations, c.Denials, c.ResolutionWithin = d.ResolutionChecks, d.Confirmations, d.Denials, d.ResolutionWithin
	c.CSATPass, c.MaxFindings, c.Scorecard = d.CSATPass, d.MaxFindings, d.Scorecard
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}
