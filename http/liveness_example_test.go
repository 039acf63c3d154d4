package http_test

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/router"
)

// A node re-announces the agents whose sockets it serves while it runs,
// and the dispatch leader's router gives an agent no node has named for
// router.MissedBeats heartbeats the grace period, then their work goes
// back to the queue. cmd/starpost wires it this way (store and bus as in
// Example).
func ExampleServer_RunHeartbeats() {
	var (
		store  starpost.Store
		bus    starpost.EventBus
		secret []byte
	)
	const grace, heartbeat = 60 * time.Second, 20 * time.Second
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	api := &sphttp.Server{Store: store, Bus: bus, Secret: secret, Node: "node-a", Heartbeat: heartbeat}
	go func() {
		if err := api.RunHeartbeats(ctx); err != nil && !errors.Is(err, context.Canceled) {
			slog.Warn("heartbeats stopped", "err", err)
		}
	}()
	// On the leader only (see package lease):
	driver := router.NewDriver(store, bus, nil, nil, router.WithEngineOptions(
		router.WithGracePeriod(grace), router.WithLiveness(router.MissedBeats*heartbeat)))
	go func() { _ = driver.Run(ctx) }()
}
