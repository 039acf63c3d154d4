package quality_test

import (
	"testing"
	"time"

	"github.com/starpost/starpost/quality"
)

// BenchmarkInspect50 inspects a 50-message conversation with emotion
// events (the target: p99 under 20 ms).
func BenchmarkInspect50(b *testing.B) {
	s := open(5 * time.Second)
	for i := range 25 {
		d := time.Duration(i) * time.Minute
		s.c(d+10*time.Second, "你好，我的快递还没到，已经等了三天了，到底怎么回事？")
		s.emotion(d+11*time.Second, int64(len(s.evs)), 0.7)
		s.a(d+40*time.Second, "您好，非常抱歉让您久等了，我马上帮您查询物流信息，请稍等。")
	}
	evs := s.resolve(30*time.Minute, ada).evs
	cfg := quality.DefaultConfig()
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := quality.Inspect(evs, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
