package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/store"
)

// startNode runs a whole node (store, embedded NATS, router, API) on a
// loopback port with the demo workspace, as "starpost serve" would.
func startNode(t *testing.T, dir string) (base string, n *node, stop func()) {
	t.Helper()
	cfg := config{Data: dir, Demo: true, LogLevel: "warn"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	n, err := openNode(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.seed(ctx, io.Discard, true); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.serve(ctx, ln) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		n.close()
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), n, stop
}

// next reads frames until one satisfies ok, failing the test after 20 s.
func next(t *testing.T, s *client.Socket, what string, ok func(*starpost.Event) bool) *starpost.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		f, err := s.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if f.Type == "event" && f.Event != nil && ok(f.Event) {
			return f.Event
		}
	}
}

// TestServeEndToEnd is the newcomer's path through one binary: a customer
// opens a chat in the widget, the router offers it to the only available
// agent, the agent accepts and answers, the customer's reply reaches the
// agent over WebSocket, and after a graceful shutdown every event is in the
// store.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	base, n, stop := startNode(t, dir)
	ctx := context.Background()
	world, err := n.seed(ctx, io.Discard, true)
	if err != nil {
		t.Fatal(err)
	}
	// Li Na (orders 5) qualifies for the general chat queue; she is the only
	// agent who goes available.
	agentLogin := world.Agents()[0]
	agent := client.New(base, nil)
	me, err := agent.Login(ctx, agentLogin.Email, agentLogin.Password)
	if err != nil {
		t.Fatal(err)
	}
	as, err := agent.Stream(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	if err := agent.SetPresence(ctx, starpost.PresenceAvailable); err != nil {
		t.Fatal(err)
	}

	visitor, err := client.New(base, nil).NewVisitor(ctx, world.Workspace.ID, "Zhou Xun")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := visitor.Stream(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer vs.Close()
	started, err := visitor.Start(ctx, sphttp.WidgetStartRequest{QueueID: world.Queues[0].ID, Text: "我的订单什么时候发货？", IdempotencyKey: "start-1"})
	if err != nil {
		t.Fatal(err)
	}
	conv := started.Conversation.ID

	offer := next(t, as, "the offer", func(e *starpost.Event) bool { return e.Kind == starpost.KindOffer && e.ConversationID == conv })
	var ob starpost.OfferBody
	if err := offer.DecodeBody(&ob); err != nil || ob.AgentID != me.ID {
		t.Fatalf("offer went to %q, want %q (%v)", ob.AgentID, me.ID, err)
	}
	if err := agent.Accept(ctx, conv); err != nil {
		t.Fatal(err)
	}
	next(t, vs, "assignment seen by the customer", func(e *starpost.Event) bool { return e.Kind == starpost.KindAssigned })
	if _, err := agent.PostMessage(ctx, conv, "您好，马上为您查询。", "reply-1"); err != nil {
		t.Fatal(err)
	}
	next(t, vs, "the agent's answer", func(e *starpost.Event) bool {
		return e.Kind == starpost.KindMessage && e.Actor.Role == starpost.RoleAgentParticipant
	})
	if err := vs.Write(ctx, &sphttp.Frame{Type: "message", ConversationID: conv, Text: "订单号 20261111-0042", IdempotencyKey: "m-2"}); err != nil {
		t.Fatal(err)
	}
	got := next(t, as, "the customer's follow-up", func(e *starpost.Event) bool {
		return e.Kind == starpost.KindMessage && e.Actor.Role == starpost.RoleCustomer && strings.Contains(string(e.Body), "20261111")
	})

	// The emotion engine scores the customer's message; the agent sees it.
	next(t, as, "the emotion score of the follow-up", func(e *starpost.Event) bool {
		var b struct {
			MessageSeq int64 `json:"message_seq"`
		}
		return e.Kind == "emotion" && e.DecodeBody(&b) == nil && b.MessageSeq == got.Seq
	})

	// The demo's knowledge base is in its public help centre.
	resp, err := nethttp.Get(base + "/help/" + world.Workspace.ID + "/search?lang=zh&q=" + url.QueryEscape("怎么退货"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "退货和退款") {
		t.Fatalf("help centre search: %d\n%s", resp.StatusCode, page)
	}

	resp, err = nethttp.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"starpost_queue_wait_seconds_count 1\n",
		`starpost_queue_waiting{queue="` + world.Queues[0].ID + `",workspace="` + world.Workspace.ID + `"} 0`,
		`starpost_events_committed_total{kind="assigned"} 1`,
		"starpost_event_commit_seconds_count ",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	stop()
	db, err := store.Open(ctx, n.cfg.dsn(), starpost.SystemClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: world.Workspace.ID, ConversationID: conv})
	if err != nil {
		t.Fatal(err)
	}
	var kinds bytes.Buffer
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("seq %d at position %d", e.Seq, i)
		}
		engineEvent := e.Actor.Role == starpost.RoleSystem && !e.Kind.WorkspaceWide() &&
			(strings.Contains(e.Actor.ID, "emotion") || e.Kind == "suggestion")
		if !engineEvent {
			fmt.Fprintf(&kinds, "%s ", e.Kind)
		}
	}
	if want := "created message offer assigned message message "; kinds.String() != want {
		t.Fatalf("stored core events %q, want %q", kinds.String(), want)
	}
}

func TestRunCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "starpost ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, &out, &errb); err == nil {
		t.Fatal("unknown command must fail")
	}
	out.Reset()
	if err := run(context.Background(), []string{"bench", "router", "--agents", "50", "--queues", "5", "--skills", "5", "--sites", "2", "-n", "300"}, &out, &errb); err != nil ||
		!strings.Contains(out.String(), "decisions/s") {
		t.Fatalf("bench router: %v %q", err, out.String())
	}
	out.Reset()
	dir := t.TempDir()
	if err := run(context.Background(), []string{"migrate", "--data", dir}, &out, &errb); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate: %v %q %q", err, out.String(), errb.String())
	}
}
