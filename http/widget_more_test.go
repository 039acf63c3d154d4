package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
	sphttp "github.com/starpost/starpost/http"
)

// withAttachments gives the env's server an attachment store limited to
// maxBytes.
func (e *env) withAttachments(maxBytes int64) {
	e.t.Helper()
	st, err := attachment.Open(e.ctx, attachment.Options{SQL: e.db.SQL(), Driver: e.db.Driver(), Clock: e.clock, MaxBytes: maxBytes})
	must(e.t, err)
	e.srv.Attachments = st
}

func testPNG(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	must(t, png.Encode(&b, img))
	return b.Bytes()
}

// visitorChat starts a widget visitor with a conversation and returns both.
func (e *env) visitorChat(tn *tenant) (*client, *sphttp.ConversationResponse) {
	e.t.Helper()
	v := e.visitor(tn.ws.ID)
	var conv sphttp.ConversationResponse
	v.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "my parcel is broken", "idempotency_key": starpost.NewID("k")}, 201, &conv)
	return v, &conv
}

// TestAttachments uploads, refers to and downloads attachments as visitor
// and agent, and checks who may read them.
func TestAttachments(t *testing.T) {
	e := newEnv(t)
	e.withAttachments(64 << 10)
	tn, other := e.newTenant("acme"), e.newTenant("globex")
	v, conv := e.visitorChat(tn)
	cid := conv.Conversation.ID
	vpath := "/api/v1/widget/conversations/" + cid
	pic := testPNG(t, 400, 300)

	var f attachment.File
	v.mustJSON("POST", vpath+"/attachments?name=../photo.png", pic, 201, &f, "Content-Type", "text/html")
	if f.ContentType != "image/png" || f.Name != "photo.png" || f.Width != 400 || !f.Thumbnail || f.ConversationID != cid {
		t.Fatalf("uploaded %+v", f)
	}
	var txt attachment.File
	v.mustJSON("POST", vpath+"/attachments?name=order.txt", "order 1234", 201, &txt)

	// A message refers to them by id; the stored metadata replaces what
	// the client said.
	var msg starpost.Event
	v.mustJSON("POST", vpath+"/messages", map[string]any{"text": "", "idempotency_key": "k2",
		"attachments": []map[string]any{{"id": f.ID, "name": "x.html", "content_type": "text/html"}, {"id": txt.ID}}}, 201, &msg)
	var body starpost.MessageBody
	must(t, json.Unmarshal(msg.Body, &body))
	if len(body.Attachments) != 2 || body.Attachments[0] != f.Ref() || body.Attachments[1].Name != "order.txt" {
		t.Fatalf("message attachments %+v", body.Attachments)
	}

	// Download with the headers that keep a browser from running anything.
	for _, tc := range []struct {
		name, path, ctype, disp string
	}{
		{"image inline", vpath + "/attachments/" + f.ID, "image/png", "inline"},
		{"thumbnail", vpath + "/attachments/" + f.ID + "?thumb=1", "image/png", "inline"},
		{"text as attachment", vpath + "/attachments/" + txt.ID, "text/plain; charset=utf-8", "attachment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.do("GET", tc.path, nil)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := r.header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if got := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "sandbox") {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if got := r.header.Get("Content-Disposition"); !strings.HasPrefix(got, tc.disp+";") || !strings.Contains(got, "filename=") {
				t.Errorf("Content-Disposition %q, want %s", got, tc.disp)
			}
		})
	}
	if r := v.do("GET", vpath+"/attachments/"+f.ID, nil); !bytes.Equal(r.body, pic) {
		t.Fatal("downloaded bytes differ from the upload")
	}
	th := v.do("GET", vpath+"/attachments/"+f.ID+"?thumb=1", nil)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(th.body)); err != nil || cfg.Width != 320 || cfg.Height != 240 {
		t.Fatalf("thumbnail %+v %v", cfg, err)
	}

	// Agents: the one holding the conversation reads it; others do not.
	e.offer(tn.ws.ID, cid, tn.agent.ID)
	agent := e.login(tn.agent)
	agent.mustJSON("POST", "/api/v1/conversations/"+cid+"/accept", nil, 200, nil)
	apath := "/api/v1/conversations/" + cid
	if r := agent.do("GET", apath+"/attachments/"+f.ID, nil); r.status != 200 || !bytes.Equal(r.body, pic) {
		t.Fatalf("agent download: %d", r.status)
	}
	var af attachment.File
	agent.mustJSON("POST", apath+"/attachments?name=label.pdf", "%PDF-1.4\n%%EOF\n", 201, &af)
	if af.Uploader.Role != starpost.RoleAgentParticipant || af.ContentType != "application/pdf" {
		t.Fatalf("agent upload %+v", af)
	}
	agent.mustJSON("POST", apath+"/messages", map[string]any{"text": "here is your label", "idempotency_key": "a1",
		"attachments": []map[string]any{{"id": af.ID}}}, 201, nil)
	if r := v.do("GET", vpath+"/attachments/"+af.ID, nil); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("visitor download of the agent's pdf: %d %q", r.status, r.header.Get("Content-Disposition"))
	}

	// A file in an internal note never reaches the visitor's events.
	var nf attachment.File
	agent.mustJSON("POST", apath+"/attachments?name=internal.txt&internal=1", "refund approved by finance", 201, &nf)
	if !nf.Internal {
		t.Fatalf("internal upload %+v", nf)
	}
	if r := agent.do("POST", apath+"/messages", map[string]any{"text": "", "idempotency_key": "leak",
		"attachments": []map[string]any{{"id": nf.ID}}}); r.status != 400 {
		t.Fatalf("internal file in a message: %d", r.status)
	}
	agent.mustJSON("POST", apath+"/notes", map[string]any{"text": "", "attachments": []map[string]any{{"id": nf.ID}}}, 201, nil)
	if r := v.do("GET", vpath+"/attachments/"+nf.ID, nil); r.status != 404 {
		t.Fatalf("visitor download of an internal file: %d", r.status)
	}
	if r := agent.do("GET", apath+"/attachments/"+nf.ID, nil); r.status != 200 {
		t.Fatalf("agent download of an internal file: %d", r.status)
	}
	var vpage sphttp.EventPage
	v.mustJSON("GET", vpath+"/events", nil, 200, &vpage)
	for _, ev := range vpage.Items {
		if strings.Contains(string(ev.Body), nf.ID) {
			t.Fatalf("the visitor sees the note's file in %s event", ev.Kind)
		}
	}

	// Access and isolation: every other caller gets 404 (or 401).
	v2, conv2 := e.visitorChat(tn)
	vo, _ := e.visitorChat(other)
	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
	}{
		{"agent not holding it", e.login(tn.agent2), "GET", apath + "/attachments/" + f.ID, nil, 404},
		{"agent of another workspace", e.login(other.agent), "GET", apath + "/attachments/" + f.ID, nil, 404},
		{"admin of another workspace", e.login(other.admin), "GET", apath + "/attachments/" + f.ID, nil, 404},
		{"supervisor of the workspace", e.login(tn.supervisor), "GET", apath + "/attachments/" + f.ID, nil, 200},
		{"another visitor, their conversation id", v2, "GET", vpath + "/attachments/" + f.ID, nil, 404},
		{"another visitor, own conversation", v2, "GET", "/api/v1/widget/conversations/" + conv2.Conversation.ID + "/attachments/" + f.ID, nil, 404},
		{"visitor of another workspace", vo, "GET", vpath + "/attachments/" + f.ID, nil, 404},
		{"no token", e.anon(), "GET", vpath + "/attachments/" + f.ID, nil, 401},
		{"upload into another's conversation", v2, "POST", vpath + "/attachments?name=a.txt", "hi", 404},
		{"agent2 upload", e.login(tn.agent2), "POST", apath + "/attachments?name=a.txt", "hi", 404},
		{"missing attachment", v, "GET", vpath + "/attachments/at_nope", nil, 404},
		{"bad thumb", v, "GET", vpath + "/attachments/" + f.ID + "?thumb=yes", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.c.do(tc.method, tc.path, tc.body); r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
	// A message cannot refer to another conversation's file.
	var f2 attachment.File
	v2.mustJSON("POST", "/api/v1/widget/conversations/"+conv2.Conversation.ID+"/attachments?name=a.txt", "hi", 201, &f2)
	for _, ref := range []string{f2.ID, "at_missing"} {
		r := v.do("POST", vpath+"/messages", map[string]any{"text": "see", "idempotency_key": "bad-" + ref,
			"attachments": []map[string]any{{"id": ref}}})
		if r.status != 400 || r.errorBody(t).Field != "attachments" {
			t.Fatalf("message with %s: %d %s", ref, r.status, r.body)
		}
	}
}

// chunked is a body without a length, so the server cannot refuse it by
// its Content-Length and must stop while reading.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestAttachmentRefusals: too large (413, also without a Content-Length),
// types that could run in a browser or on a computer (415), empty (400).
func TestAttachmentRefusals(t *testing.T) {
	e := newEnv(t)
	e.withAttachments(4 << 10)
	tn := e.newTenant("acme")
	v, conv := e.visitorChat(tn)
	path := "/api/v1/widget/conversations/" + conv.Conversation.ID + "/attachments?name=x"
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"too large", bytes.Repeat([]byte("a"), 5<<10), 413},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 415},
		{"html", []byte("<!doctype html><script>alert(1)</script>"), 415},
		{"exe", append([]byte("MZ\x90\x00"), make([]byte, 200)...), 415},
		{"javascript file with markup", []byte("  <script>alert(1)</script>"), 415},
		{"image with huge declared size", hugePNG(t), 413},
		{"empty", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.do("POST", path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if eb := r.errorBody(t); eb.Message == "" {
				t.Fatal("no error message")
			}
		})
	}
	// Without a Content-Length the limit is enforced while reading.
	req, err := http.NewRequest("POST", e.ts.URL+path, chunked{bytes.NewReader(bytes.Repeat([]byte("a"), 1<<20))})
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+v.bearer)
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	res.Body.Close()
	if res.StatusCode != 413 || res.ContentLength == 0 {
		t.Fatalf("chunked upload: %d", res.StatusCode)
	}
	// Without an attachment store: 503.
	e.srv.Attachments = nil
	if r := v.do("POST", path, "hello"); r.status != 503 {
		t.Fatalf("no store: %d", r.status)
	}
}

// hugePNG declares 60000×60000 pixels in a few bytes.
func hugePNG(t *testing.T) []byte {
	b := testPNG(t, 1, 1)
	put := func(p []byte, v uint32) { p[0], p[1], p[2], p[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v) }
	put(b[16:20], 60000)
	put(b[20:24], 60000)
	put(b[29:33], crcIEEE(b[12:29]))
	return b
}

// TestReadReceipts: visitors and agents mark a conversation read; the
// receipt is a stored event the other side sees, and marking the same seq
// again stores nothing new.
func TestReadReceipts(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	v, conv := e.visitorChat(tn)
	cid := conv.Conversation.ID
	e.offer(tn.ws.ID, cid, tn.agent.ID)
	agent := e.login(tn.agent)
	agent.mustJSON("POST", "/api/v1/conversations/"+cid+"/accept", nil, 200, nil)
	var reply starpost.Event
	agent.mustJSON("POST", "/api/v1/conversations/"+cid+"/messages", map[string]string{"text": "hi", "idempotency_key": "r1"}, 201, &reply)

	var rd, again starpost.Event
	v.mustJSON("POST", "/api/v1/widget/conversations/"+cid+"/read", map[string]int64{"seq": reply.Seq}, 201, &rd)
	v.mustJSON("POST", "/api/v1/widget/conversations/"+cid+"/read", map[string]int64{"seq": reply.Seq}, 201, &again)
	if rd.Kind != starpost.KindRead || rd.Actor.Role != starpost.RoleCustomer || again.Seq != rd.Seq {
		t.Fatalf("read %+v, again %+v", rd, again)
	}
	var ab starpost.ReadBody
	must(t, json.Unmarshal(rd.Body, &ab))
	if ab.Seq != reply.Seq {
		t.Fatalf("read body %+v", ab)
	}
	// The agent sees the customer's receipt among the events.
	var page sphttp.EventPage
	agent.mustJSON("GET", "/api/v1/conversations/"+cid+"/events", nil, 200, &page)
	if last := page.Items[len(page.Items)-1]; last.Kind != starpost.KindRead || last.Seq != rd.Seq {
		t.Fatalf("agent's last event %+v", last)
	}
	var ar starpost.Event
	agent.mustJSON("POST", "/api/v1/conversations/"+cid+"/read", map[string]int64{"seq": rd.Seq}, 201, &ar)
	if ar.Actor.ID != tn.agent.ID {
		t.Fatalf("agent read actor %+v", ar.Actor)
	}
	// And the visitor the agent's.
	v.mustJSON("GET", "/api/v1/widget/conversations/"+cid+"/events", nil, 200, &page)
	if last := page.Items[len(page.Items)-1]; last.Kind != starpost.KindRead || last.Actor.Role != starpost.RoleAgentParticipant {
		t.Fatalf("visitor's last event %+v", last)
	}
	for _, tc := range []struct {
		name   string
		c      *client
		path   string
		body   any
		status int
	}{
		{"seq 0", v, "/api/v1/widget/conversations/" + cid + "/read", map[string]int64{"seq": 0}, 400},
		{"seq beyond the end", v, "/api/v1/widget/conversations/" + cid + "/read", map[string]int64{"seq": 999}, 400},
		{"unknown field", v, "/api/v1/widget/conversations/" + cid + "/read", map[string]any{"seq": 1, "x": 1}, 400},
		{"other agent", e.login(tn.agent2), "/api/v1/conversations/" + cid + "/read", map[string]int64{"seq": 1}, 404},
		{"other visitor", e.visitor(tn.ws.ID), "/api/v1/widget/conversations/" + cid + "/read", map[string]int64{"seq": 1}, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.c.do("POST", tc.path, tc.body); r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
}

// TestRating: a resolved conversation is rated once ("csat" event with
// {"score","comment"}); rating keeps it resolved; a later customer message
// reopens it.
func TestRating(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	v, conv := e.visitorChat(tn)
	cid := conv.Conversation.ID
	path := "/api/v1/widget/conversations/" + cid + "/rating"
	if r := v.do("POST", path, map[string]any{"score": 5}); r.status != 409 {
		t.Fatalf("rating an open conversation: %d", r.status)
	}
	e.offer(tn.ws.ID, cid, tn.agent.ID)
	agent := e.login(tn.agent)
	agent.mustJSON("POST", "/api/v1/conversations/"+cid+"/accept", nil, 200, nil)
	agent.mustJSON("POST", "/api/v1/conversations/"+cid+"/resolve", nil, 200, nil)

	for _, tc := range []struct {
		name string
		body any
	}{
		{"score 0", map[string]any{"score": 0}},
		{"score 6", map[string]any{"score": 6}},
		{"no score", map[string]any{"comment": "meh"}},
		{"score not a number", map[string]any{"score": "5"}},
		{"comment too long", map[string]any{"score": 3, "comment": strings.Repeat("长", 1001)}},
		{"unknown field", map[string]any{"score": 3, "stars": 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := v.do("POST", path, tc.body); r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		})
	}
	var ev, again starpost.Event
	v.mustJSON("POST", path, map[string]any{"score": 4, "comment": "quick, thanks"}, 201, &ev)
	if ev.Kind != "csat" || string(ev.Body) != `{"score":4,"comment":"quick, thanks"}` {
		t.Fatalf("rating event %s %s", ev.Kind, ev.Body)
	}
	v.mustJSON("POST", path, map[string]any{"score": 4, "comment": "quick, thanks"}, 201, &again)
	if again.Seq != ev.Seq {
		t.Fatalf("same rating stored twice: %d, %d", ev.Seq, again.Seq)
	}
	if r := v.do("POST", path, map[string]any{"score": 1}); r.status != 409 {
		t.Fatalf("second, different rating: %d %s", r.status, r.body)
	}
	if r := e.visitor(tn.ws.ID).do("POST", path, map[string]any{"score": 1}); r.status != 404 {
		t.Fatalf("another visitor rating: %d", r.status)
	}
	c, err := e.db.FindConversation(e.ctx, tn.ws.ID, cid)
	must(t, err)
	if c.State != starpost.StateResolved {
		t.Fatalf("state after rating %s, want resolved", c.State)
	}
	v.mustJSON("POST", "/api/v1/widget/conversations/"+cid+"/messages", map[string]string{"text": "one more thing", "idempotency_key": "k9"}, 201, nil)
	c, err = e.db.FindConversation(e.ctx, tn.ws.ID, cid)
	must(t, err)
	if c.State != starpost.StateQueued {
		t.Fatalf("state after a new customer message %s, want queued", c.State)
	}
}

// TestWidgetStatus: business hours, available agents and the estimate, a
// short public cache, and errors.
func TestWidgetStatus(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	path := "/api/v1/widget/" + tn.ws.ID + "/status"
	var st sphttp.WidgetStatus
	r := e.anon().mustJSON("GET", path, nil, 200, &st)
	if !st.Open || st.AgentsAvailable != 0 || st.EstimatedWait != -1 || st.QueueID != tn.queue.ID || st.NextOpen != nil {
		t.Fatalf("status %+v", st)
	}
	if got := r.header.Get("Cache-Control"); got != "public, max-age=5" {
		t.Fatalf("Cache-Control %q", got)
	}

	// An agent becomes available: seen once the 5-second cache expires.
	e.login(tn.agent).mustJSON("PUT", "/api/v1/me/presence", map[string]string{"presence": "available"}, 200, nil)
	e.anon().mustJSON("GET", path, nil, 200, &st)
	if st.AgentsAvailable != 0 {
		t.Fatalf("not cached: %+v", st)
	}
	e.clock.Advance(6 * time.Second)
	e.anon().mustJSON("GET", path+"?queue="+tn.queue.ID, nil, 200, &st)
	if st.AgentsAvailable != 1 || st.Waiting != 0 || st.EstimatedWait != 0 {
		t.Fatalf("with an agent %+v", st)
	}

	// Closed now (the test clock is Tuesday 09:00 UTC): open Wednesday 08:00.
	q := *tn.queue
	q.BusinessHours = &starpost.BusinessHours{TimeZone: "UTC", Days: map[time.Weekday][]string{time.Wednesday: {"08:00-17:00"}}}
	must(t, e.db.UpdateQueue(e.ctx, &q))
	e.clock.Advance(6 * time.Second)
	e.anon().mustJSON("GET", path, nil, 200, &st)
	want := time.Date(2025, 11, 12, 8, 0, 0, 0, time.UTC)
	if st.Open || st.NextOpen == nil || !st.NextOpen.Equal(want) || st.TimeZone != "UTC" {
		t.Fatalf("closed status %+v", st)
	}
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"unknown workspace", "/api/v1/widget/ws_nope/status", 404},
		{"unknown queue", path + "?queue=qu_nope", 404},
		{"queue of another workspace", path + "?queue=" + e.newTenant("globex").queue.ID, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.anon().do("GET", tc.path, nil); r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
		})
	}
}

func TestNextOpening(t *testing.T) {
	sh := &starpost.BusinessHours{TimeZone: "Asia/Shanghai", Days: map[time.Weekday][]string{
		time.Monday: {"09:00-12:00", "13:00-18:00"}, time.Friday: {"09:00-18:00"}}}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := func(d, h, m int) time.Time { return time.Date(2025, 11, d, h, m, 0, 0, loc) } // 10 Nov 2025 is a Monday
	for _, tc := range []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"before opening", at(10, 8, 0), at(10, 9, 0)},
		{"lunch break", at(10, 12, 30), at(10, 13, 0)},
		{"after closing", at(10, 18, 30), at(14, 9, 0)},
		{"weekend", at(15, 10, 0), at(17, 9, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := sphttp.NextOpening(sh, tc.now)
			if !ok || !got.Equal(tc.want) {
				t.Fatalf("NextOpening = %v %v, want %v", got, ok, tc.want)
			}
		})
	}
	if _, ok := sphttp.NextOpening(&starpost.BusinessHours{TimeZone: "UTC"}, at(10, 8, 0)); ok {
		t.Fatal("hours with no days open")
	}
}

func crcIEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// TestWidgetStreamRequestsQueueStatus: opening a widget stream asks the
// router (through an ephemeral bus signal) to send the queue status of the
// visitor's waiting conversations again — only theirs, only waiting ones.
func TestWidgetStreamRequestsQueueStatus(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	v, waiting := e.visitorChat(tn)
	var second sphttp.ConversationResponse
	v.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "another", "idempotency_key": starpost.NewID("k")}, 201, &second)
	e.offer(tn.ws.ID, second.Conversation.ID, tn.agent.ID) // offered: out of the line
	e.visitorChat(tn)                                      // another visitor's queued conversation
	sub, err := e.bus.Subscribe(tn.ws.ID)
	must(t, err)
	defer sub.Close()

	v.dial(ctx, "/api/v1/widget/stream?cursor=0")
	var got []string
	for len(got) == 0 {
		select {
		case ev := <-sub.Events():
			if ev.Kind == starpost.KindQueueStatusRequest {
				got = append(got, ev.ConversationID)
			}
		case <-ctx.Done():
			t.Fatal("no queue status request")
		}
	}
	// Anything else published with it arrives before a marker we publish.
	must(t, e.bus.Publish(ctx, &starpost.Event{WorkspaceID: tn.ws.ID, Kind: starpost.KindTyping, ConversationID: "marker",
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "x"}}))
	for done := false; !done; {
		select {
		case ev := <-sub.Events():
			switch {
			case ev.ConversationID == "marker":
				done = true
			case ev.Kind == starpost.KindQueueStatusRequest:
				got = append(got, ev.ConversationID)
			}
		case <-ctx.Done():
			t.Fatal("marker lost")
		}
	}
	if len(got) != 1 || got[0] != waiting.Conversation.ID {
		t.Fatalf("status requested for %v, want only %s", got, waiting.Conversation.ID)
	}
}
