package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

// BenchmarkAppend measures committed message events per second and the
// latency of one Append call, one caller at a time (sequential) and with
// many concurrent callers (parallel: 64; parallel500: 500, as many as the
// customers of "starpost bench e2e"), which group commit batches together.
//
//	go test -run '^$' -bench Append -benchtime 2s ./store/
func BenchmarkAppend(b *testing.B) {
	for _, be := range backends {
		for _, mode := range []struct {
			name    string
			callers int
		}{{"sequential", 1}, {"parallel", 64}, {"parallel500", 500}} {
			b.Run(be.Name+"/"+mode.name, func(b *testing.B) {
				benchAppend(b, be.DSN(b), mode.callers)
			})
		}
	}
}

func benchAppend(b *testing.B, dsn string, callers int) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, starpost.SystemClock{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ws := &starpost.Workspace{Name: "bench"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		b.Fatal(err)
	}
	contact, err := db.FindOrCreateContact(ctx, ws.ID, starpost.ChannelChat, "v", "V")
	if err != nil {
		b.Fatal(err)
	}
	customer := starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID}
	convs := max(100, callers) // as many conversations as callers, like one customer each
	ids := make([]string, convs)
	for i := range ids {
		out, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: customer,
			Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: "q"})})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = out[0].ConversationID
	}
	body := starpost.MustBody(starpost.MessageBody{Text: "Hello, I have a question about my last invoice."})
	before := db.Stats()

	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, callers)
	b.ResetTimer()
	start, cpu0, written0 := time.Now(), processCPU(), processWritten()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				_, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, ConversationID: ids[i%int64(convs)], Kind: starpost.KindMessage,
					Actor: customer, Body: body, IdempotencyKey: fmt.Sprintf("k-%d", i)})
				lat[i] = time.Since(t0)
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu, written := time.Since(start), processCPU()-cpu0, processWritten()-written0
	b.StopTimer()
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
	slices.Sort(lat)
	after := db.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if n := after.Batches - before.Batches; n > 0 {
		b.ReportMetric(float64(after.Calls-before.Calls)/float64(n), "calls/batch")
	}
	if cpu > 0 {
		// CPU time (user+system) of the whole process per event, callers included.
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	}
	if written > 0 {
		// Bytes the process wrote (SQLite: its WAL; PostgreSQL writes in its own processes).
		b.ReportMetric(float64(written)/float64(b.N), "written-B/event")
	}
	b.ReportMetric(0, "ns/op") // wall time per op is events/s above
}
