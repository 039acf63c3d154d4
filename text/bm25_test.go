package text

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func toyIndex(t testing.TB, opts IndexOptions) *Index {
	ix := NewIndex(mustTokenizer(t), opts)
	for _, d := range []Document{
		{ID: "refund", Title: "How refunds work", Body: "A refund returns the money to your card within 5 days."},
		{ID: "card", Title: "Card delivery", Body: "Your new card arrives by post. Track the card delivery in the app."},
		{ID: "pin", Title: "Reset your PIN", Body: "You can reset the PIN of your card in the app."},
		{ID: "huabei", Title: "花呗还款", Body: "花呗账单可以在还款日前还款，逾期会产生罚息。"},
		{ID: "jiebei", Title: "借呗额度", Body: "借呗的额度根据信用评估确定。"},
	} {
		ix.Put(d)
	}
	return ix
}

func ids(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.ID)
	}
	return out
}

func TestBM25Ranking(t *testing.T) {
	ix := toyIndex(t, IndexOptions{})
	tests := []struct {
		query string
		k     int
		want  []string
	}{
		{"card delivery", 3, []string{"card", "pin", "refund"}},
		{"reset pin", 2, []string{"pin"}},
		{"refunds", 5, []string{"refund"}},
		{"花呗怎么还款", 5, []string{"huabei"}},
		{"借呗额度", 5, []string{"jiebei"}},
		{"the", 5, nil},
		{"card", 0, nil},
	}
	for _, tt := range tests {
		if got := ids(ix.Search(tt.query, tt.k)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Search(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestBM25Highlights(t *testing.T) {
	ix := toyIndex(t, IndexOptions{})
	hits := ix.Search("reset PIN", 1)
	if len(hits) != 1 {
		t.Fatalf("got %d hits", len(hits))
	}
	title, body := "Reset your PIN", "You can reset the PIN of your card in the app."
	var got []string
	for _, h := range hits[0].Highlights {
		src := body
		if h.Field == "title" {
			src = title
		}
		got = append(got, h.Field+":"+src[h.Start:h.End])
	}
	want := []string{"title:Reset", "title:PIN", "body:reset", "body:PIN"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("highlights = %q, want %q", got, want)
	}
}

func TestBM25UpdateDeleteSynonymsPersist(t *testing.T) {
	syn := func(term string) []string {
		if term == "退钱" {
			return []string{"refund"}
		}
		return nil
	}
	ix := toyIndex(t, IndexOptions{Synonyms: syn})
	if got := ids(ix.Search("退钱", 3)); !reflect.DeepEqual(got, []string{"refund"}) {
		t.Errorf("synonym search = %q", got)
	}
	ix.Put(Document{ID: "pin", Title: "PIN blocked", Body: "Unblock it at an ATM."})
	if got := ids(ix.Search("reset", 5)); len(got) != 0 {
		t.Errorf("after update, reset finds %q", got)
	}
	if got := ids(ix.Search("unblock", 5)); !reflect.DeepEqual(got, []string{"pin"}) {
		t.Errorf("after update, unblock finds %q", got)
	}
	if !ix.Delete("card") || ix.Delete("card") {
		t.Error("Delete reported wrong existence")
	}
	if got := ids(ix.Search("delivery", 5)); len(got) != 0 {
		t.Errorf("deleted doc still found: %q", got)
	}
	var buf bytes.Buffer
	if err := ix.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := LoadIndex(&buf, mustTokenizer(t), IndexOptions{Synonyms: syn})
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != ix.Len() || back.Len() != 4 {
		t.Fatalf("loaded %d docs, want %d", back.Len(), ix.Len())
	}
	for _, q := range []string{"refund card", "花呗", "退钱", "unblock"} {
		a, b := ix.Search(q, 5), back.Search(q, 5)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%q: loaded index answers %v, original %v", q, b, a)
		}
	}
}

func TestBM25Compaction(t *testing.T) {
	ix := NewIndex(mustTokenizer(t), IndexOptions{})
	for i := range 3000 {
		ix.Put(Document{ID: fmt.Sprint(i), Body: fmt.Sprintf("word%d common", i%7)})
	}
	for i := range 2500 {
		ix.Delete(fmt.Sprint(i))
	}
	if ix.Len() != 500 {
		t.Fatalf("Len = %d", ix.Len())
	}
	hits := ix.Search("word3", 1000)
	for _, h := range hits {
		var n int
		fmt.Sscan(h.ID, &n)
		if n < 2500 || n%7 != 3 {
			t.Fatalf("unexpected hit %s", h.ID)
		}
	}
	if len(hits) != 72 {
		t.Fatalf("got %d hits for word3, want 72", len(hits))
	}
}

// synthArticles makes n reproducible articles from a Zipf-distributed
// vocabulary of English-like and Chinese words.
func synthArticles(n int) []Document {
	rng := rand.New(rand.NewPCG(7, 7))
	zh := []rune("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质")
	var en []string
	for i := range 5000 {
		en = append(en, fmt.Sprintf("term%c%c%d", 'a'+i%26, 'a'+(i/26)%26, i))
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(en)-1))
	docs := make([]Document, n)
	for i := range docs {
		var b strings.Builder
		for w := range 60 {
			if w%10 == 9 {
				b.WriteRune(zh[rng.IntN(len(zh))])
				b.WriteRune(zh[rng.IntN(len(zh))])
				b.WriteString("。")
				continue
			}
			b.WriteString(en[zipf.Uint64()])
			b.WriteByte(' ')
		}
		docs[i] = Document{ID: fmt.Sprint("doc", i), Title: en[zipf.Uint64()] + " " + en[zipf.Uint64()], Body: b.String()}
	}
	return docs
}

// BenchmarkIndex100k indexes 100,000 synthetic articles (about 60 words
// each) and then measures query latency; it reports the indexing time and
// the p50/p99 latency of 3-term queries.
func BenchmarkIndex100k(b *testing.B) {
	tok := mustTokenizer(b)
	docs := synthArticles(100_000)
	queries := make([]string, 1000)
	for i := range queries {
		d := docs[(i*7919)%len(docs)]
		f := strings.Fields(d.Body)
		queries[i] = f[i%len(f)] + " " + f[(i+5)%len(f)] + " " + d.Title
	}
	for range b.N {
		start := time.Now()
		ix := NewIndex(tok, IndexOptions{})
		for _, d := range docs {
			ix.Put(d)
		}
		indexTime := time.Since(start)
		lat := make([]time.Duration, len(queries))
		for i, q := range queries {
			t0 := time.Now()
			ix.Search(q, 3)
			lat[i] = time.Since(t0)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(indexTime.Seconds(), "index-s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}
