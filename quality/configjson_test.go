package quality_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
)

func TestConfigDoc(t *testing.T) {
	def := quality.DefaultConfig().Doc()
	c, err := def.Config()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Doc(), def) {
		t.Fatalf("round trip changed the default:\n%+v\n%+v", c.Doc(), def)
	}
	long := strings.Repeat("长", quality.MaxPhraseLen+1)
	tests := []struct {
		name  string
		edit  func(d *quality.ConfigDoc)
		field string
	}{
		{"default", func(d *quality.ConfigDoc) {}, ""},
		{"disclosure", func(d *quality.ConfigDoc) {
			d.Disclosures = []quality.Disclosure{{Name: "recording", Phrases: []string{"录音", "recorded"}}}
		}, ""},
		{"zero first response", func(d *quality.ConfigDoc) { d.FirstResponseSeconds = 0 }, "first_response_seconds"},
		{"a year of slow reply", func(d *quality.ConfigDoc) { d.SlowReplySeconds = 365 * 86400 }, "slow_reply_seconds"},
		{"long greeting", func(d *quality.ConfigDoc) { d.Greetings = append(d.Greetings, long) }, "greetings"},
		{"long pattern", func(d *quality.ConfigDoc) {
			d.Forbidden = append(d.Forbidden, quality.PhraseRule{Name: "x", Regex: strings.Repeat("a", quality.MaxPatternLen+1)})
		}, "forbidden"},
		{"bad pattern", func(d *quality.ConfigDoc) {
			d.Forbidden = append(d.Forbidden, quality.PhraseRule{Name: "x", Regex: "(("})
		}, "forbidden"},
		{"too many phrases", func(d *quality.ConfigDoc) {
			for i := range quality.MaxPhrases {
				d.Empathy = append(d.Empathy, "p"+strings.Repeat("x", i%5))
			}
		}, "config"},
		{"unknown rule", func(d *quality.ConfigDoc) {
			d.Scorecard = append(d.Scorecard, quality.ScoreItem{Rule: "tone", Weight: 1})
		}, "scorecard"},
		{"disclosure without phrase", func(d *quality.ConfigDoc) { d.Disclosures = []quality.Disclosure{{Name: "x"}} }, "disclosures"},
		{"csat pass 6", func(d *quality.ConfigDoc) { d.CSATPass = 6 }, "csat_pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := quality.DefaultConfig().Doc()
			tt.edit(&d)
			_, err := d.Config()
			if got := starpost.ErrorField(err); got != tt.field || (tt.field != "" && starpost.ErrorCode(err) != starpost.EINVALID) {
				t.Fatalf("field %q (%v), want %q", got, err, tt.field)
			}
		})
	}
}

// FuzzConfigDoc: any JSON body of PUT /api/v1/quality/config either fails
// with a field error or gives a configuration that survives a round trip
// and inspects a conversation.
func FuzzConfigDoc(f *testing.F) {
	def, _ := json.Marshal(quality.DefaultConfig().Doc())
	f.Add(def)
	f.Add([]byte(`{"first_response_seconds":1,"slow_reply_seconds":1,"ignored_after_seconds":1,"vanished_after_seconds":1,"greeting_within":1,
		"closing_within":1,"empathy_within":1,"anger_threshold":1,"resolution_within":1,"csat_pass":1,"scorecard":[{"rule":"csat","weight":1}],
		"forbidden":[{"name":"x","regex":"(?i)idiot"}],"disclosures":[{"name":"r","phrases":["录音"]}]}`))
	f.Add([]byte(`{"first_response_seconds":-1}`))
	f.Add([]byte(`{"first_response_seconds":1e308}`))
	evs := open(0).c(10e9, "hi, where is my refund?").a(20e9, "Hello, 录音 notice").resolve(60e9, ada).evs
	f.Fuzz(func(t *testing.T, data []byte) {
		var d quality.ConfigDoc
		if json.Unmarshal(data, &d) != nil {
			return
		}
		c, err := d.Config()
		if err != nil {
			if starpost.ErrorCode(err) != starpost.EINVALID {
				t.Fatalf("not a field error: %v", err)
			}
			return
		}
		if _, err := c.Doc().Config(); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if _, err := quality.Inspect(evs, c); err != nil {
			t.Fatalf("inspect: %v", err)
		}
	})
}
