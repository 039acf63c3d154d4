package emotion

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"unicode"

	"github.com/starpost/starpost/text"
)

// models holds the shipped model files, built by Train.
//
//go:embed models
var modelFS embed.FS

// Emotion labels of a Result, shared by Chinese and English messages.
const (
	Neutral      = "neutral"
	Anger        = "anger"
	Fear         = "fear"
	Sadness      = "sadness"
	Satisfaction = "satisfaction"
	Surprise     = "surprise"
)

// EmotionLabels lists the emotion labels of a Result in the order of
// Result.Emotions.
var emotionLabels6 = [...]string{Neutral, Anger, Fear, Sadness, Satisfaction, Surprise}

// EmotionLabels returns the emotion labels in the order of Result.Emotions.
func EmotionLabels() []string { return append([]string(nil), emotionLabels6[:]...) }

// zhMap and enMap send the models' labels to positions in emotionLabels6.
var (
	zhMap = map[string]int{"neutral": 0, "angry": 1, "fear": 2, "sad": 3, "happy": 4, "surprise": 5}
	enMap = map[string]int{"neutral": 0, "anger": 1, "fear": 2, "sadness": 3, "satisfaction": 4}
)

// Result is the analysis of one message.
type Result struct {
	// Lang is "zh" when the message has Chinese characters, else "en".
	Lang string
	// Sentiment is in [-1, 1]: negative below zero, positive above.
	Sentiment float64
	// Emotion is the most probable label of EmotionLabels and Emotions the
	// probability of each label in that order (Surprise is always 0 for
	// English).
	Emotion  string
	Emotions [6]float64
	// Abuse is the probability that the message is offensive or abusive.
	Abuse float64
	// Anger combines the anger probability and abuse: max(P(anger), Abuse).
	Anger float64
	// Cues are the lexicon hits (insults, intensifiers, !!! ...) with their
	// byte offsets, for masking and explanation.
	Cues []Match
}

// Prob returns the probability of emotion label e (0 for an unknown label).
func (r Result) Prob(e string) float64 {
	for i, l := range emotionLabels6 {
		if l == e {
			return r.Emotions[i]
		}
	}
	return 0
}

// Analyzer scores customer messages. It is immutable and safe for
// concurrent use.
type Analyzer struct {
	abuse, sentiment, emotion, emotionEn *Model
	lex                                  *Lexicon
}

// Models are the classifiers an Analyzer uses; any may be nil, in which case
// the Analyzer falls back to the lexicon for that signal.
type Models struct {
	Abuse     *Model // Chinese offensive language (labels clean, offensive)
	Sentiment *Model // Chinese sentiment (labels negative, positive)
	Emotion   *Model // Chinese emotion (labels neutral, angry, happy, sad, fear, surprise)
	EmotionEn *Model // English emotion (labels neutral, anger, fear, sadness, satisfaction)
}

// NewAnalyzer returns an Analyzer over the given models and the built-in
// lexicon.
func NewAnalyzer(m Models) *Analyzer {
	return &Analyzer{abuse: m.Abuse, sentiment: m.Sentiment, emotion: m.Emotion, emotionEn: m.EmotionEn, lex: NewLexicon()}
}

// LoadEmbedded loads the models shipped in the binary and returns an
// Analyzer over them. Models with word features get their own word
// tokenizer (NewWordTokenizer, about a second to load); use
// LoadEmbeddedWith to share one.
func LoadEmbedded() (*Analyzer, error) { return LoadEmbeddedWith(nil) }

// LoadEmbeddedWith is LoadEmbedded with the tokenizer for word features:
// any text.Tokenizer made with default stemming (its stop-word option does
// not matter: word features keep stop words). nil makes one when a model
// needs it.
func LoadEmbeddedWith(tok *text.Tokenizer) (*Analyzer, error) {
	lex := NewLexicon()
	names := [...]string{"abuse", "sentiment", "emotion", "emotion_en"}
	var ms [len(names)]*Model
	for i, name := range names {
		b, err := modelFS.ReadFile("models/" + name + ".gob.gz")
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("emotion: embedded model %s missing (run the training command in emotion/models/README.md): %w", name, err)
			}
			return nil, fmt.Errorf("emotion: embedded model %s: %w", name, err)
		}
		if ms[i], err = decodeModel(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("emotion: embedded model %s: %w", name, err)
		}
		if ms[i].Spec.Words && tok == nil {
			if tok, err = NewWordTokenizer(); err != nil {
				return nil, err
			}
		}
	}
	for i, m := range ms {
		if err := m.prepare(lex, tok); err != nil {
			return nil, fmt.Errorf("emotion: embedded model %s: %w", names[i], err)
		}
	}
	a := NewAnalyzer(Models{Abuse: ms[0], Sentiment: ms[1], Emotion: ms[2], EmotionEn: ms[3]})
	a.lex = lex
	return a, nil
}

// Lexicon returns the Analyzer's lexicon (for masking insults).
func (a *Analyzer) Lexicon() *Lexicon { return a.lex }

// Analyze scores one message.
func (a *Analyzer) Analyze(msg string) Result {
	r := Result{Lang: "en", Cues: a.lex.Find(msg)}
	var cues Counts
	for _, c := range r.Cues {
		cues[c.Cue]++
	}
	han := 0
	for _, ch := range msg {
		if unicode.Is(unicode.Han, ch) {
			han++
		}
	}
	if han > 0 {
		r.Lang = "zh"
	}
	// Word features: the message is segmented once for every model.
	var terms []string
	words := func(m *Model) []string {
		if m.feat.tok == nil {
			return nil
		}
		if terms == nil {
			terms = m.feat.tok.AllTerms(msg)
		}
		return terms
	}
	emo, labels, mapping := a.emotionEn, emotionEnLabels, enMap
	if r.Lang == "zh" {
		emo, labels, mapping = a.emotion, emotionLabels, zhMap
	}
	if emo != nil {
		p, _ := emo.predict(msg, words(emo))
		for i, l := range labels {
			r.Emotions[mapping[l]] = p[i]
		}
	} else {
		r.Emotions = lexiconEmotions(cues)
	}
	best := 0
	for i, p := range r.Emotions {
		if p > r.Emotions[best] {
			best = i
		}
	}
	r.Emotion = emotionLabels6[best]
	valence := r.Emotions[4] - r.Emotions[1] - 0.7*r.Emotions[3] - 0.5*r.Emotions[2]
	r.Sentiment = valence
	if r.Lang == "zh" && a.sentiment != nil {
		p, _ := a.sentiment.predict(msg, words(a.sentiment))
		// The review model knows product language, the Weibo emotion
		// model knows conversational tone: average them.
		r.Sentiment = 0.5*(2*p[1]-1) + 0.5*valence
	}
	r.Sentiment = math.Max(-1, math.Min(1, r.Sentiment))
	lexAbuse := lexiconAbuse(cues)
	r.Abuse = lexAbuse
	if r.Lang == "zh" && a.abuse != nil {
		p, _ := a.abuse.predict(msg, words(a.abuse))
		r.Abuse = math.Max(p[1], lexAbuse)
	}
	r.Anger = math.Max(r.Emotions[1], r.Abuse)
	return r
}

// lexiconAbuse turns insult and profanity counts into an abuse probability.
func lexiconAbuse(c Counts) float64 {
	switch {
	case c[CueInsult] > 0:
		return math.Min(0.97, 0.85+0.05*float64(c[CueInsult]-1+c[CueProfanity]))
	case c[CueProfanity] > 0:
		return 0.6
	}
	return 0
}

// lexiconEmotions is the fallback when no emotion model is loaded.
func lexiconEmotions(c Counts) [6]float64 {
	w := [6]float64{
		0.5,
		float64(c[CueAnger]+c[CueInsult]+c[CueProfanity]+c[CueAngryEmoji]) + 0.5*float64(c[CueExclaim]),
		float64(c[CueAnxiety]),
		float64(c[CueSadness] + c[CueSadEmoji]),
		float64(c[CuePositive] + c[CueHappyEmoji]),
		0,
	}
	var sum float64
	for _, x := range w {
		sum += x
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}
