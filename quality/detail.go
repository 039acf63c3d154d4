package quality

import (
	"context"
	"errors"
	"fmt"

	"github.com/starpost/starpost"
)

// TranscriptLine is one message of a reviewed conversation.
type TranscriptLine struct {
	Seq   int64                    `json:"seq"`
	Role  starpost.ParticipantRole `json:"role"`
	Actor string                   `json:"actor"`
	At    string                   `json:"at"`
	Text  string                   `json:"text"`
}

// Detail is what a reviewer sees: the scorecard, the transcript up to the
// resolution, the findings linked to its messages and the review history.
type Detail struct {
	Scorecard  *Scorecard       `json:"scorecard"`
	Transcript []TranscriptLine `json:"transcript"`
	Findings   []Finding        `json:"findings"`
	// Waits is every time the customer waited for an agent (from the
	// latest score of the resolution).
	Waits   []Wait         `json:"waits"`
	Changes []ReviewChange `json:"changes"`
}

// MaxTranscript bounds the events Detail reads from one conversation.
const MaxTranscript = 20 * starpost.MaxEventPage

// Detail returns the scorecard of a conversation's resolution
// (resolvedSeq 0: the latest) with its transcript, findings and changes.
func (s *Store) Detail(ctx context.Context, ws, conv string, resolvedSeq int64) (*Detail, error) {
	c, err := s.Get(ctx, ws, conv, resolvedSeq)
	if err != nil {
		return nil, err
	}
	d := &Detail{Scorecard: c, Transcript: []TranscriptLine{}, Findings: []Finding{}, Waits: []Wait{}}
	var after int64
	for read := 0; read < MaxTranscript; {
		page, err := s.convs.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationID: conv, AfterCursor: after})
		if err != nil {
			return nil, fmt.Errorf("quality: transcript of %s: %w", conv, err)
		}
		for _, e := range page {
			after = e.Cursor
			switch e.Kind {
			case starpost.KindMessage:
				var b starpost.MessageBody
				if e.Seq <= c.ResolvedSeq && e.DecodeBody(&b) == nil {
					d.Transcript = append(d.Transcript, TranscriptLine{Seq: e.Seq, Role: e.Actor.Role, Actor: e.Actor.ID,
						At: e.At.UTC().Format("2006-01-02T15:04:05Z07:00"), Text: b.Text})
				}
			case KindFinding:
				var b FindingBody
				if e.DecodeBody(&b) == nil && b.ResolvedSeq == c.ResolvedSeq {
					d.Findings = append(d.Findings, b.Finding)
				}
			case KindScore:
				var b ScoreBody
				if e.DecodeBody(&b) == nil && b.ResolvedSeq == c.ResolvedSeq && b.Waits != nil {
					d.Waits = b.Waits
				}
			}
		}
		read += len(page)
		if len(page) < starpost.MaxEventPage {
			break
		}
	}
	if d.Changes, err = s.Changes(ctx, ws, conv, c.ResolvedSeq); err != nil {
		return nil, err
	}
	return d, nil
}

// IndexerName is the name of the Indexer's engine runner (its checkpoint).
const IndexerName = "quality_index"

// Indexer is an engine.Handler that stores every qa.score event in the
// Store's scorecards, with the agent's team and site. It adds no events.
type Indexer struct {
	store *Store
	dir   starpost.DirectoryService
}

// NewIndexer returns the Indexer of store, looking agents up in dir.
func NewIndexer(store *Store, dir starpost.DirectoryService) *Indexer {
	return &Indexer{store: store, dir: dir}
}

// Name returns IndexerName.
func (x *Indexer) Name() string { return IndexerName }

// Handle implements engine.Handler.
func (x *Indexer) Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	if ev.Kind != KindScore {
		return nil, nil
	}
	var b ScoreBody
	if err := ev.DecodeBody(&b); err != nil {
		return nil, err // EINVALID: skipped
	}
	var agent *starpost.User
	if b.AgentID != "" && x.dir != nil {
		u, err := x.dir.FindUser(ctx, ev.WorkspaceID, b.AgentID)
		switch {
		case err == nil:
			agent = u
		case starpost.ErrorCode(err) != starpost.ENOTFOUND:
			return nil, fmt.Errorf("quality: agent %s: %w", b.AgentID, err)
		}
	}
	if err := x.store.Index(ctx, ev, agent); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return nil, nil
}
