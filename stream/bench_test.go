package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
	"github.com/starpost/starpost/stream"
)

// BenchmarkReplay measures how fast a stream replays a workspace's history
// from the store (the in-memory log: the stream's own overhead) and reports
// events/s.
func BenchmarkReplay(b *testing.B) {
	const history = 20000
	log := bustest.NewLog()
	bs := openBus(b, bus.Options{Store: log})
	for i := 0; i < history; i += starpost.MaxEventPage {
		commitN(b, log, nil, "cv_1", starpost.MaxEventPage)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		s, err := stream.Open(ctx, log, bs, stream.Query{WorkspaceID: ws})
		if err != nil {
			b.Fatal(err)
		}
		for c := 1; c <= history; c++ {
			if _, err := s.Next(ctx); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
	b.ReportMetric(float64(b.N*history)/time.Since(start).Seconds(), "events/s")
}
