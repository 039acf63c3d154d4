package http_test

import (
	"testing"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// A queue's bot switch: validated on create and patch (nothing written on
// a bad value), and a conversation started in a bot queue, through the API
// or the widget's path, starts in state bot; switched off, it starts queued.
func TestQueueBotSetting(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	admin := e.login(tn.admin)
	for _, body := range []map[string]any{
		{"name": "Bot", "bot": true, "bot_max_failed_turns": -1},
		{"name": "Bot", "bot": true, "bot_max_failed_turns": starpost.MaxBotFailedTurns + 1},
		{"name": "Bot", "bot": "yes"},
	} {
		r := admin.do("POST", "/api/v1/queues", body)
		if r.status != 400 {
			t.Fatalf("POST %v: status %d", body, r.status)
		}
	}
	qs, err := e.db.ListQueues(e.ctx, tn.ws.ID)
	must(t, err)
	if len(qs) != 1 {
		t.Fatalf("%d queues after rejected creates", len(qs))
	}
	var q starpost.Queue
	admin.mustJSON("POST", "/api/v1/queues", map[string]any{"name": "Bot", "priority": 90, "bot": true, "bot_max_failed_turns": 3}, 201, &q)
	if !q.Bot || q.BotMaxFailedTurns != 3 {
		t.Fatalf("created %+v", q)
	}
	if r := admin.do("PATCH", "/api/v1/queues/"+q.ID, map[string]any{"bot_max_failed_turns": 99}); r.status != 400 {
		t.Fatalf("PATCH 99: status %d", r.status)
	}
	if got, _ := e.db.FindQueue(e.ctx, tn.ws.ID, q.ID); got.BotMaxFailedTurns != 3 {
		t.Fatalf("a rejected patch wrote %+v", got)
	}
	start := func(queue string) *starpost.Conversation {
		var resp sphttp.ConversationResponse
		body := map[string]any{"channel": "chat", "identity": "visitor-" + queue, "text": "退款多久到账"}
		if queue != "" {
			body["queue_id"] = queue
		}
		e.withToken(tn.token).mustJSON("POST", "/api/v1/conversations", body, 201, &resp)
		return resp.Conversation
	}
	if c := start(q.ID); c.State != starpost.StateBot {
		t.Fatalf("conversation in a bot queue starts %s", c.State)
	}
	if c := start(""); c.State != starpost.StateBot || c.QueueID != q.ID { // the default queue: highest priority
		t.Fatalf("default-queue conversation %s in %s", c.State, c.QueueID)
	}
	if c := start(tn.queue.ID); c.State != starpost.StateQueued {
		t.Fatalf("conversation in a plain queue starts %s", c.State)
	}
	admin.mustJSON("PATCH", "/api/v1/queues/"+q.ID, map[string]any{"bot": false}, 200, &q)
	if c := start(q.ID); q.Bot || c.State != starpost.StateQueued {
		t.Fatalf("bot switched off: queue %+v, conversation starts %s", q, c.State)
	}
}
