package quality_test

import (
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(c *quality.Config)
		field string // "" when valid
	}{
		{"defaults", func(c *quality.Config) {}, ""},
		{"no forbidden rules", func(c *quality.Config) { c.Forbidden = nil }, ""},
		{"zero slow reply", func(c *quality.Config) { c.SlowReply = 0 }, "slow_reply"},
		{"ignored before slow", func(c *quality.Config) { c.IgnoredAfter = c.SlowReply / 2 }, "ignored_after"},
		{"zero greeting window", func(c *quality.Config) { c.GreetingWithin = 0 }, "within"},
		{"anger threshold above 1", func(c *quality.Config) { c.AngerThreshold = 1.5 }, "anger_threshold"},
		{"empty greeting", func(c *quality.Config) { c.Greetings = append(c.Greetings, " ") }, "greetings"},
		{"bad regex", func(c *quality.Config) { c.Forbidden = append(c.Forbidden, quality.PhraseRule{Name: "x", Regex: "(["}) }, "forbidden"},
		{"phrase and regex", func(c *quality.Config) {
			c.Forbidden = append(c.Forbidden, quality.PhraseRule{Name: "x", Phrase: "a", Regex: "b"})
		}, "forbidden"},
		{"off-topic threshold 1", func(c *quality.Config) { c.OffTopicBelow = 1 }, "off_topic_below"},
		{"csat pass 0", func(c *quality.Config) { c.CSATPass = 0 }, "csat_pass"},
		{"zero resolution window", func(c *quality.Config) { c.ResolutionWithin = 0 }, "within"},
		{"disclosure without phrases", func(c *quality.Config) { c.Disclosures = []quality.Disclosure{{Name: "x"}} }, "disclosures"},
		{"empty confirmation", func(c *quality.Config) { c.Confirmations = append(c.Confirmations, "") }, "confirmations"},
		{"no scorecard", func(c *quality.Config) { c.Scorecard = nil }, "scorecard"},
		{"unknown rule", func(c *quality.Config) { c.Scorecard = append(c.Scorecard, quality.ScoreItem{Rule: "tone", Weight: 1}) }, "scorecard"},
		{"rule twice", func(c *quality.Config) { c.Scorecard = append(c.Scorecard, c.Scorecard[0]) }, "scorecard"},
		{"negative weight", func(c *quality.Config) { c.Scorecard[0].Weight = -1 }, "scorecard"},
		{"all weights zero", func(c *quality.Config) {
			for i := range c.Scorecard {
				c.Scorecard[i].Weight = 0
			}
		}, "scorecard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := quality.DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if starpost.ErrorCode(err) != starpost.EINVALID || starpost.ErrorField(err) != tt.field {
				t.Fatalf("error %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestPhraseMatching(t *testing.T) {
	tests := []struct {
		text, phrase string
		want         bool
	}{
		{"hi there", "hi", true},
		{"this is it", "hi", false},
		{"hi, can i help", "hi", true},
		{"i apologise for that", "apolog*", true},
		{"we apologize", "apolog*", true},
		{"so frustrating", "frustrat*", true},
		{"您好，请问", "您好", true},
		{"请稍等", "您好", false},
		{"anything else?", "anything else", true},
	}
	for _, tt := range tests {
		c := quality.DefaultConfig()
		c.Greetings = []string{tt.phrase}
		c.Scorecard = []quality.ScoreItem{{Rule: quality.RuleGreeting, Weight: 1}}
		evs := open(0).c(0, "hello").a(0, tt.text).resolve(0, ada).evs
		rep, err := quality.Inspect(evs, c)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Score == 100; got != tt.want {
			t.Errorf("%q in %q: %v, want %v", tt.phrase, tt.text, got, tt.want)
		}
	}
}
