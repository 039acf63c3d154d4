package emotion

import (
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/starpost/starpost/text"
)

// Cue is one kind of lexicon cue the Lexicon recognises.
type Cue uint8

// The lexicon cues. Each counts matches of a small hand-written word list
// (Chinese and English) or of a typographic pattern.
const (
	CueInsult      Cue = iota // insults and slurs: 废物, 傻逼, idiot, moron
	CueProfanity              // swearing not aimed at a person: 他妈的, damn, fuck
	CueAnger                  // anger and complaint: 气死, 投诉, 太差, furious, ridiculous
	CueAnxiety                // worry and urgency: 着急, 担心, 怎么办, worried, asap
	CueSadness                // sadness and disappointment: 难过, 失望, 伤心, sad, disappointed
	CuePositive               // thanks and satisfaction: 谢谢, 满意, 解决了, thanks, great
	CueIntensifier            // intensifiers: 太, 非常, 特别, so, very, really
	CueNegation               // negation: 不, 没, 别, not, never, no
	CueExclaim                // a run of two or more exclamation marks (! or ！)
	CueQuestion               // a run of two or more question marks (? or ？)
	CueShout                  // an English word of three or more capital letters
	CueAngryEmoji             // 😡 🤬 😠 💢 👎 and Weibo codes such as [怒]
	CueSadEmoji               // 😢 😭 💔 [泪] [悲伤]
	CueHappyEmoji             // 😊 😄 👍 ❤ [哈哈] [赞]
	numCues
)

var cueNames = [numCues]string{"insult", "profanity", "anger", "anxiety", "sadness", "positive",
	"intensifier", "negation", "exclaim", "question", "shout", "angry_emoji", "sad_emoji", "happy_emoji"}

// String returns the cue's name.
func (c Cue) String() string {
	if c < numCues {
		return cueNames[c]
	}
	return "cue?"
}

// Lexicon word lists. English entries are whole lower-case words (matched on
// word boundaries, with a trailing * for a prefix); Chinese entries are
// matched as substrings.
var lexiconWords = [...]struct {
	cue Cue
	zh  []string
	en  []string
}{
	{CueInsult,
		[]string{"废物", "垃圾", "傻逼", "傻b", "傻x", "sb", "煞笔", "沙比", "白痴", "智障", "弱智", "脑残", "蠢货", "蠢猪", "猪脑", "笨蛋", "混蛋", "王八蛋", "王八", "畜生", "畜牲", "人渣", "贱人", "贱货", "婊子", "狗东西", "狗屎", "狗日", "去死", "滚蛋", "滚", "骗子", "神经病", "有病", "杂种", "脑子进水", "饭桶", "低能", "死全家", "不要脸", "吃屎", "狗杂种", "傻叉", "二逼", "瘪三", "黑鬼", "尼哥", "娘炮", "田园女权", "蝈蝻", "屌丝", "loser"},
		[]string{"idiot*", "moron*", "stupid", "dumb", "retard*", "loser*", "scum", "trash", "garbage", "useless", "incompetent", "clown*", "bastard*", "asshole*", "dumbass", "jerk*", "imbecile*", "pathetic", "worthless", "bitch*", "cunt*", "dickhead*", "fool*", "liar*", "scammer*", "thief", "thieves"}},
	{CueProfanity,
		[]string{"他妈", "他媽", "tmd", "妈的", "尼玛", "你妈", "nmsl", "卧槽", "我操", "操你", "草泥马", "fuck", "我靠", "靠北", "tm的", "特么", "麻痹", "妈蛋", "日了狗", "mlgb", "cnm", "wtf"},
		[]string{"fuck*", "shit*", "damn*", "hell", "crap*", "wtf", "bullshit", "piss*", "goddamn*", "stfu"}},
	{CueAnger,
		[]string{"气死", "生气", "愤怒", "火大", "恼火", "投诉", "举报", "太差", "很差", "差劲", "垃圾服务", "什么破", "破玩意", "坑人", "坑爹", "骗人", "欺骗", "忽悠", "退钱", "退款", "赔偿", "受够", "忍无可忍", "无语", "过分", "离谱", "可恶", "讨厌", "烦死", "烦人", "恶心", "差评", "太慢", "等了半天", "没人理", "不理人", "答非所问", "敷衍", "搞什么", "凭什么", "怎么回事", "到底", "滚", "怒"},
		[]string{"angry", "furious", "mad", "annoy*", "ridiculous", "unacceptable", "outrage*", "terrible", "horrible", "awful", "worst", "hate", "complain*", "refund", "scam*", "sick of", "fed up", "disgust*", "pissed", "rude", "wtf", "seriously"}},
	{CueAnxiety,
		[]string{"着急", "急死", "急用", "担心", "害怕", "怕", "焦虑", "紧张", "怎么办", "慌", "不安", "恐怖", "可怕", "吓死", "吓人", "赶紧", "尽快", "马上", "快点", "求求", "救命", "万一"},
		[]string{"worried", "worry", "anxious", "nervous", "afraid", "scared", "fear*", "panic*", "urgent*", "asap", "hurry", "terrified", "concerned", "help"}},
	{CueSadness,
		[]string{"难过", "伤心", "失望", "心寒", "委屈", "哭", "悲伤", "心痛", "遗憾", "郁闷", "可惜", "绝望", "难受", "心累", "无奈", "唉", "哎"},
		[]string{"sad", "upset", "disappoint*", "unhappy", "depress*", "heartbroken", "sorry", "regret*", "miserable", "cry*", "unfortunately", "hopeless", "lonely"}},
	{CuePositive,
		[]string{"谢谢", "感谢", "多谢", "谢啦", "满意", "解决了", "好评", "很好", "不错", "太好了", "给力", "赞", "棒", "厉害", "喜欢", "开心", "高兴", "辛苦了", "耐心", "专业", "完美", "推荐", "划算", "舒服", "方便", "快乐", "哈哈"},
		[]string{"thank*", "thx", "great", "excellent", "awesome", "perfect", "love*", "happy", "glad", "appreciate*", "helpful", "amazing", "wonderful", "nice", "good", "solved", "resolved", "fantastic", "pleased", "satisfied"}},
	{CueIntensifier,
		[]string{"太", "非常", "特别", "极其", "超级", "真是", "简直", "实在", "根本", "完全", "一直", "究竟", "到底", "死了", "透了", "极了"},
		[]string{"so", "very", "really", "extremely", "totally", "completely", "absolutely", "utterly", "always", "ever", "too", "such"}},
	{CueNegation,
		[]string{"不", "没", "别", "无", "非", "未", "甭", "莫"},
		[]string{"not", "no", "never", "nothing", "nobody", "none", "cannot", "cant", "dont", "doesnt", "didnt", "wont", "isnt", "arent", "wasnt", "havent"}},
}

var emojiCues = [...]struct {
	cue   Cue
	items []string
}{
	{CueAngryEmoji, []string{"😡", "🤬", "😠", "💢", "👎", "🖕", "😤", "[怒]", "[抓狂]", "[鄙视]", "[哼]", "[怒骂]", "[左哼哼]", "[右哼哼]", "[吐]", "[白眼]"}},
	{CueSadEmoji, []string{"😢", "😭", "💔", "😞", "😔", "🥺", "😟", "😰", "😨", "😱", "[泪]", "[悲伤]", "[失望]", "[委屈]", "[可怜]", "[伤心]", "[衰]", "[生病]"}},
	{CueHappyEmoji, []string{"😊", "😄", "😀", "😁", "😂", "🤣", "😍", "🥰", "👍", "❤", "🙏", "🎉", "[哈哈]", "[嘻嘻]", "[笑cry]", "[赞]", "[爱你]", "[心]", "[good]", "[太开心]", "[鼓掌]", "[耶]", "[偷笑]", "[可爱]"}},
}

// Lexicon matches the built-in cue lists in Chinese and English text. The
// zero value is not usable; build one with NewLexicon. A Lexicon is
// immutable and safe for concurrent use.
type Lexicon struct {
	zh    []lexEntry // Chinese words, longest first
	en    map[string]Cue
	enPre []lexEntry // English prefixes (entries ending in *)
	emoji []lexEntry
}

type lexEntry struct {
	s   string
	cue Cue
}

// NewLexicon builds the built-in lexicon.
func NewLexicon() *Lexicon {
	l := &Lexicon{en: map[string]Cue{}}
	for _, g := range lexiconWords {
		for _, w := range g.zh {
			l.zh = append(l.zh, lexEntry{strings.ToLower(w), g.cue})
		}
		for _, w := range g.en {
			if p, ok := strings.CutSuffix(w, "*"); ok {
				l.enPre = append(l.enPre, lexEntry{p, g.cue})
				continue
			}
			if _, dup := l.en[w]; !dup {
				l.en[w] = g.cue
			}
		}
	}
	for _, g := range emojiCues {
		for _, e := range g.items {
			l.emoji = append(l.emoji, lexEntry{strings.ToLower(e), g.cue})
		}
	}
	sort.SliceStable(l.zh, func(i, j int) bool { return len(l.zh[i].s) > len(l.zh[j].s) })
	return l
}

// Match is one lexicon hit: the cue and the byte range of the surface text.
type Match struct {
	Cue        Cue
	Start, End int
}

// Counts holds how many times each cue occurs in a text.
type Counts [numCues]int

// Count returns the number of hits of cue c.
func (c Counts) Count(cue Cue) int { return c[cue] }

// Find returns the lexicon hits in s in text order. Chinese words match as
// substrings (longest first, without overlap); English words match whole
// words case-insensitively.
func (l *Lexicon) Find(s string) []Match {
	var out []Match
	lower := lowerSameLen(s)
	used := make([]bool, len(s))
	mark := func(a, b int) bool {
		for k := a; k < b; k++ {
			if used[k] {
				return false
			}
		}
		for k := a; k < b; k++ {
			used[k] = true
		}
		return true
	}
	for _, e := range l.emoji {
		for off := 0; ; {
			k := strings.Index(lower[off:], e.s)
			if k < 0 {
				break
			}
			a, b := off+k, off+k+len(e.s)
			if mark(a, b) {
				out = append(out, Match{e.cue, a, b})
			}
			off = b
		}
	}
	// Chinese entries: only look inside runs of non-ASCII text or short
	// ASCII slang embedded in Chinese (sb, tmd) when the text has Han.
	hasHan := text.HasHan(s)
	for _, e := range l.zh {
		ascii := e.s[0] < utf8.RuneSelf
		if ascii && !hasHan {
			continue
		}
		for off := 0; ; {
			k := strings.Index(lower[off:], e.s)
			if k < 0 {
				break
			}
			a, b := off+k, off+k+len(e.s)
			off = b
			if ascii && (isASCIILetterAt(lower, a-1) || isASCIILetterAt(lower, b)) {
				continue
			}
			if mark(a, b) {
				out = append(out, Match{e.cue, a, b})
			}
		}
	}
	// English words.
	for i := 0; i < len(lower); {
		if !isASCIILetterAt(lower, i) {
			i++
			continue
		}
		j := i
		for j < len(lower) && (isASCIILetterAt(lower, j) || lower[j] == '\'') {
			j++
		}
		w := strings.ReplaceAll(lower[i:j], "'", "")
		cue, ok := l.en[w]
		if !ok {
			for _, p := range l.enPre {
				if strings.HasPrefix(w, p.s) {
					cue, ok = p.cue, true
					break
				}
			}
		}
		if ok && mark(i, j) {
			out = append(out, Match{cue, i, j})
		}
		if j-i >= 3 && isUpperWord(s[i:j]) {
			out = append(out, Match{CueShout, i, j})
		}
		i = j
	}
	// Runs of exclamation and question marks.
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		kind := punctKind(r)
		if kind == 0 {
			i += n
			continue
		}
		j, count := i+n, 1
		for j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if punctKind(r2) != kind {
				break
			}
			j += n2
			count++
		}
		if count >= 2 {
			cue := CueExclaim
			if kind == '?' {
				cue = CueQuestion
			}
			out = append(out, Match{cue, i, j})
		}
		i = j
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// Count returns how often each cue occurs in s.
func (l *Lexicon) Count(s string) Counts {
	var c Counts
	for _, m := range l.Find(s) {
		c[m.Cue]++
	}
	return c
}

// features returns the dense lexicon feature block for s: log(1+count) per
// cue, scaled into roughly [0, 1].
func (l *Lexicon) features(s string) [numCues]float32 {
	var f [numCues]float32
	c := l.Count(s)
	for i, n := range c {
		if n > 0 {
			f[i] = float32(math.Log1p(float64(n)) / math.Log(4))
		}
	}
	return f
}

func punctKind(r rune) rune {
	switch r {
	case '!', '！':
		return '!'
	case '?', '？':
		return '?'
	}
	return 0
}

func isASCIILetterAt(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isUpperWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'A' || w[i] > 'Z' {
			return false
		}
	}
	return true
}

// lowerSameLen lower-cases ASCII letters only, so byte offsets into the
// result are byte offsets into s.
func lowerSameLen(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
