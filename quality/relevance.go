package quality

import (
	"math"
	"strings"
	"unicode"

	"github.com/starpost/starpost/text"
)

// Answered beside the question (答非所问).
//
// Method: every customer message that is a question (a question mark, or a
// question word such as 怎么, 吗, how, why) and has at least
// Config.MinQuestionTerms content terms is compared with the agent's replies
// that follow it, up to the customer's next message. The best reply's
// Relevance (LexicalRelevance by default) below Config.OffTopicBelow is an
// off_topic finding on the question, linked to the first reply.
//
// LexicalRelevance is the cosine between bags of terms: Chinese character
// unigrams and bigrams, and Latin words with a light suffix stemmer, stop
// words dropped, no corpus statistics (so it needs no model and no
// tokenizer dictionary). It is a weak signal: a good answer may share no
// word with its question ("how do I reset my password" / "click Forgot on
// the sign-in page"). The default threshold is therefore low, chosen on
// AFQMC train pairs, with the off-topic class made by pairing each question
// with a random other question from the same split (the answer "to another
// question"): 0.228 there, 0.2 by default. On AFQMC dev at 0.2: accuracy
// 0.922, off-topic precision 0.957, recall 0.884; 4.0 % of same-question
// pairs and 7.5 % of related-but-different pairs flagged
// (TestRelevanceAFQMC). Paraphrases share more words than answers do, so
// on real answers expect more false alarms than this proxy shows. A
// workspace with an assist engine can plug its retrieval in as Relevance
// (for instance: both texts retrieve the same knowledge-base article).

// LexicalRelevance returns the cosine similarity (0 to 1) of the term bags
// of question and answer.
func LexicalRelevance(question, answer string) float64 {
	return cosine(bag(question), bag(answer))
}

// enStop is a short list of English function words left out of bags.
var enStop = map[string]bool{"a": true, "an": true, "the": true, "i": true, "you": true, "my": true, "your": true, "me": true,
	"is": true, "are": true, "was": true, "be": true, "do": true, "does": true, "did": true, "to": true, "of": true, "in": true,
	"on": true, "for": true, "and": true, "or": true, "it": true, "this": true, "that": true, "we": true, "can": true, "will": true,
	"how": true, "what": true, "why": true, "when": true, "where": true, "please": true, "with": true, "have": true, "has": true,
	"not": true, "no": true, "yes": true, "so": true, "at": true, "by": true, "if": true, "our": true, "us": true, "hi": true,
	"hello": true, "ok": true, "okay": true, "thanks": true, "thank": true}

// zhStop holds Chinese characters too common to carry a topic.
const zhStop = "的了是在我有和就不人都一也很到说要去你会着看好这那吗吧呢啊呀哦嗯么们他她它请把被让给从对与及或而还又之其为以可能您什怎个下"

func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			return strings.TrimSuffix(w, suf)
		}
	}
	return w
}

// bag returns the weighted terms of s.
func bag(s string) map[string]float64 {
	out := map[string]float64{}
	for _, chunk := range strings.Fields(text.Normalize(s)) {
		var han []rune
		flush := func() {
			for i, r := range han {
				if !strings.ContainsRune(zhStop, r) {
					out[string(r)] += 0.5
				}
				if i+1 < len(han) {
					out[string(han[i:i+2])]++
				}
			}
			han = han[:0]
		}
		var word strings.Builder
		flushWord := func() {
			if w := word.String(); w != "" && !enStop[w] {
				out[stem(w)]++
			}
			word.Reset()
		}
		for _, r := range chunk {
			if unicode.Is(unicode.Han, r) {
				flushWord()
				han = append(han, r)
				continue
			}
			flush()
			word.WriteRune(r)
		}
		flush()
		flushWord()
	}
	return out
}

func cosine(a, b map[string]float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	var dot, na, nb float64
	for k, v := range a {
		dot += v * b[k]
		na += v * v
	}
	for _, v := range b {
		nb += v * v
	}
	return dot / math.Sqrt(na*nb)
}

// contentTerms counts the distinct content terms of s (Chinese characters
// outside zhStop, Latin words outside enStop).
func contentTerms(s string) int {
	n := 0
	for k := range bag(s) {
		if r := []rune(k); len(r) > 1 && unicode.Is(unicode.Han, r[0]) {
			continue // bigrams repeat their characters
		}
		n++
	}
	return n
}

var zhQuestionWords = []string{"吗", "呢", "怎么", "什么", "为什么", "如何", "哪", "几", "多少", "能不能", "可不可以", "是否", "有没有"}
var enQuestionWords = []string{"how", "what", "why", "when", "where", "which", "who", "can", "could", "is", "are", "do", "does", "did", "will", "would", "should"}

// isQuestion reports whether a customer message asks something.
func isQuestion(s string) bool {
	if strings.ContainsAny(s, "?？") {
		return true
	}
	for _, w := range zhQuestionWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	f := strings.Fields(strings.ToLower(s))
	if len(f) > 0 {
		for _, w := range enQuestionWords {
			if f[0] == w {
				return true
			}
		}
	}
	return false
}
