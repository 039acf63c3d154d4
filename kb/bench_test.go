package kb

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
)

var benchZH = strings.Fields(`退款 订单 物流 快递 发货 收货 地址 修改 取消 支付 花呗 借呗 余额 银行卡 发票 优惠券 会员 积分 密码 账号
登录 注册 验证码 手机 绑定 解绑 客服 投诉 售后 换货 退货 运费 包邮 延迟 丢件 破损 签收 拒收 到账 审核 失败 成功 查询 申请 原因
商品 尺码 颜色 库存 预售 活动 秒杀 满减 红包 返现 价格 保价 质量 保修 维修 安装 配送 自提 门店 营业 时间 电话 邮箱 短信 通知 提醒`)

var benchEN = strings.Fields(`refund order delivery parcel shipping address change cancel payment card balance invoice coupon member points
password account login signup code phone bind unbind support complaint return exchange fee free delay lost damaged signed
refused arrive review failed success track apply reason product size color stock presale sale discount voucher cashback
price guarantee quality warranty repair install pickup store hours email message notice reminder subscription plan upgrade`)

// benchText draws n words of one language, Zipf-distributed so a few words
// are frequent, as in real help content.
func benchText(r *rand.Rand, z *rand.Zipf, words []string, n int, sep string) string {
	out := make([]string, n)
	for i := range out {
		out[i] = words[int(z.Uint64())%len(words)]
	}
	return strings.Join(out, sep)
}

// benchKB stores n published articles (half zh, half en) in one workspace,
// in one transaction, and returns the KB.
func benchKB(b *testing.B, n int) (*KB, string) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tok, err := text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
	if err != nil {
		b.Fatal(err)
	}
	k, err := Open(ctx, Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok})
	if err != nil {
		b.Fatal(err)
	}
	ws := "ws_bench"
	r := rand.New(rand.NewPCG(1, 2))
	zzh := rand.NewZipf(r, 1.1, 1, uint64(len(benchZH)-1))
	zen := rand.NewZipf(r, 1.1, 1, uint64(len(benchEN)-1))
	now := time.Now().UnixNano()
	_, err = k.tx(ctx, ws, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, k.q("INSERT INTO kb_articles ("+articleCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range n {
			var title, body, lang string
			if i%2 == 0 {
				title, body, lang = benchText(r, zzh, benchZH, 3+r.IntN(3), ""), benchText(r, zzh, benchZH, 40+r.IntN(40), "，"), LangZH
			} else {
				title, body, lang = benchText(r, zen, benchEN, 3+r.IntN(3), " "), benchText(r, zen, benchEN, 40+r.IntN(40), " "), LangEN
			}
			if _, err := stmt.ExecContext(ctx, ws, fmt.Sprintf("ka_%08d", i), title, body, lang, "", StatusPublished, 1, now, now, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return k, ws
}

// BenchmarkSuggest100k measures, over 100,000 published articles (half
// Chinese, half English), the time to index them from the tables, to load
// the saved index, and the server-side latency of a suggestion (revision
// check, BM25 over the best 12, feedback re-rank, reading the top 3 from
// the tables, snippets): p50 and p99 of 2,000 customer-like queries.
func BenchmarkSuggest100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	k, ws := benchKB(b, n)
	w := k.state(ws)
	start := time.Now()
	ix, rev, err := k.rebuild(ctx, ws, text.IndexOptions{Synonyms: w.synonyms})
	if err != nil {
		b.Fatal(err)
	}
	indexing := time.Since(start)
	w.mu.Lock()
	w.ix, w.rev = ix, rev
	start = time.Now()
	err = k.save(ctx, ws, w)
	w.mu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	saving := time.Since(start)
	var blob int
	if err := k.db.QueryRowContext(ctx, "SELECT length(data) FROM kb_index_blobs WHERE workspace_id = ?", ws).Scan(&blob); err != nil {
		b.Fatal(err)
	}
	k2, err := Open(ctx, k.opts)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if _, _, err := k2.index(ctx, ws); err != nil { // load the saved blob
		b.Fatal(err)
	}
	load := time.Since(start)

	r := rand.New(rand.NewPCG(3, 4))
	zzh := rand.NewZipf(r, 1.1, 1, uint64(len(benchZH)-1))
	zen := rand.NewZipf(r, 1.1, 1, uint64(len(benchEN)-1))
	queries := make([]string, 2000)
	for i := range queries {
		if i%2 == 0 {
			queries[i] = "请问" + benchText(r, zzh, benchZH, 2+r.IntN(4), "") + "怎么办？"
		} else {
			queries[i] = "how do I " + benchText(r, zen, benchEN, 2+r.IntN(4), " ") + "?"
		}
	}
	// Wall time includes waiting for a CPU on a shared machine; the
	// thread's CPU time (the goroutine is locked to its thread, and the
	// pure-Go SQLite driver runs on it) is the cost of the work itself.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat := make([]time.Duration, 0, len(queries))
	cpu := make([]time.Duration, 0, len(queries))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := queries[i%len(queries)]
		t0, c0 := time.Now(), threadCPU()
		res, err := k2.Search(ctx, ws, q, 3)
		if err != nil {
			b.Fatal(err)
		}
		if len(res) == 0 {
			b.Fatalf("no result for %q", q)
		}
		lat = append(lat, time.Since(t0))
		cpu = append(cpu, threadCPU()-c0)
	}
	b.StopTimer()
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.5), "p50_ms")
	b.ReportMetric(pct(lat, 0.99), "p99_ms")
	b.ReportMetric(pct(cpu, 0.5), "cpu_p50_ms")
	b.ReportMetric(pct(cpu, 0.99), "cpu_p99_ms")
	b.ReportMetric(indexing.Seconds(), "index_s")
	b.ReportMetric(saving.Seconds(), "save_s")
	b.ReportMetric(load.Seconds(), "load_s")
	b.ReportMetric(float64(blob)/(1<<20), "blob_MB")
}

// threadCPU returns the CPU time of the calling OS thread
// (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
