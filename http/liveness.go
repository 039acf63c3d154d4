package http

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/starpost/starpost"
)

// Agent liveness. Only the node serving an agent's socket knows it is open,
// and a node that is killed says nothing more; so each node publishes an
// ephemeral connection signal when a user's first socket on it opens and
// when the last one closes, and, while RunHeartbeats runs, re-announces the
// users it serves in one heartbeat per workspace (HeartbeatChunk users per
// signal). The router counts a user disconnected when no node has named
// them for router.MissedBeats intervals. Every signal carries the node's
// name and a number taken under the same lock as the socket counts, so the
// router can put one node's signals back in order: a heartbeat taken
// before a socket closed but delivered after the close is ignored.

// HeartbeatChunk is the most agents one heartbeat signal lists (about
// 40 kB of JSON); a node serving more sends several.
const HeartbeatChunk = 1000

// sockKey names the sockets of one user.
type sockKey struct{ ws, user string }

// connection counts a user's socket opening or closing on this node and
// publishes a connection signal for the first to open and the last to
// close.
func (s *Server) connection(ctx context.Context, p *starpost.Principal, connected bool) {
	k := sockKey{p.WorkspaceID, p.UserID}
	s.sockMu.Lock()
	if s.sockets == nil {
		s.sockets = map[sockKey]int{}
	}
	if connected {
		s.sockets[k]++
	} else {
		s.sockets[k]--
	}
	n := s.sockets[k]
	if n <= 0 {
		delete(s.sockets, k)
	}
	if connected && n != 1 || !connected && n > 0 {
		s.sockMu.Unlock()
		return
	}
	s.sigSeq++
	b := starpost.ConnectionBody{AgentID: p.UserID, Connected: connected, Node: s.Node, Seq: s.sigSeq, EveryMS: s.everyMS()}
	s.sockMu.Unlock()
	e := &starpost.Event{
		WorkspaceID: p.WorkspaceID, Kind: starpost.KindConnection, At: s.Clock.Now(),
		Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: p.UserID},
		Body:  starpost.MustBody(b),
	}
	if err := s.Bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		s.Logger.WarnContext(ctx, "publish connection signal", slog.String("agent", p.UserID), slog.Any("err", err))
	}
}

// everyMS is the heartbeat interval announced in signals: 0 while no
// heartbeats are sent, so that the router never lets these connections
// lapse.
func (s *Server) everyMS() int64 {
	if !s.beating.Load() {
		return 0
	}
	return max(1, s.Heartbeat.Milliseconds())
}

// RunHeartbeats publishes, every Heartbeat, one connection signal per
// workspace (or per HeartbeatChunk users) naming the users whose sockets
// this node serves, until ctx ends; it returns ctx's error. The first
// heartbeat goes at once: a node that starts, or a new dispatch leader,
// learns who is here within one interval. A failed publication is logged
// and tried again at the next tick.
func (s *Server) RunHeartbeats(ctx context.Context) error {
	s.once.Do(s.init)
	if s.Heartbeat <= 0 {
		return fmt.Errorf("http: heartbeats need a positive Server.Heartbeat, got %s", s.Heartbeat)
	}
	s.beating.Store(true)
	defer s.beating.Store(false)
	t := time.NewTicker(s.Heartbeat)
	defer t.Stop()
	for {
		if evs := s.heartbeats(); len(evs) > 0 {
			pctx, cancel := context.WithTimeout(ctx, max(s.Heartbeat, time.Second))
			err := s.Bus.Publish(pctx, evs...)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.Logger.WarnContext(ctx, "publish heartbeat", slog.Int("signals", len(evs)), slog.Any("err", err))
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// heartbeats returns the heartbeat signals naming the users this node
// serves now, by workspace, in chunks of HeartbeatChunk.
func (s *Server) heartbeats() []*starpost.Event {
	s.sockMu.Lock()
	if len(s.sockets) == 0 {
		s.sockMu.Unlock()
		return nil
	}
	s.sigSeq++
	seq := s.sigSeq
	byWS := map[string][]string{}
	for k := range s.sockets {
		byWS[k.ws] = append(byWS[k.ws], k.user)
	}
	s.sockMu.Unlock()
	now, every := s.Clock.Now(), s.everyMS()
	var out []*starpost.Event
	for ws, users := range byWS {
		slices.Sort(users)
		for chunk := range slices.Chunk(users, HeartbeatChunk) {
			out = append(out, &starpost.Event{
				WorkspaceID: ws, Kind: starpost.KindConnection, At: now, Actor: starpost.System,
				Body: starpost.MustBody(starpost.ConnectionBody{Connected: true, Node: s.Node, Seq: seq, EveryMS: every, AgentIDs: chunk}),
			})
		}
	}
	return out
}
