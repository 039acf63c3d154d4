package starpost

// Event kinds of the web chat widget: read receipts, the satisfaction
// rating and the request for a fresh queue status.
const (
	// KindRead marks a conversation read by its actor up to a seq; stored,
	// so a receipt survives reloads. Body: ReadBody.
	KindRead EventKind = "read"
	// KindCSAT is the customer's satisfaction rating of a resolved
	// conversation, at most one per conversation. Body: CSATBody.
	KindCSAT EventKind = "csat"
	// KindQueueStatusRequest is an ephemeral signal asking the router to
	// send a conversation's queue status again (a widget that connects
	// after the last status was sent would otherwise never get one). No
	// body.
	KindQueueStatusRequest EventKind = "queue.status.request"
)

// ReadBody says its actor has read the conversation up to and including
// Seq.
type ReadBody struct {
	Seq int64 `json:"seq"`
}

// Validate checks the body.
func (b *ReadBody) Validate() error {
	if b.Seq < 1 {
		return FieldError("seq", "must be ≥ 1")
	}
	return nil
}

// MaxCSATComment is the longest rating comment, in characters.
const MaxCSATComment = 1000

// CSATBody is a satisfaction rating: Score 1 (bad) to 5 (very good) and an
// optional comment.
type CSATBody struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// Validate checks the body.
func (b *CSATBody) Validate() error {
	if b.Score < 1 || b.Score > 5 {
		return FieldError("score", "must be 1 to 5")
	}
	return validText("comment", b.Comment, MaxCSATComment)
}
