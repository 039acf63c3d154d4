package http

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
)

// Attachment routes (package attachment). A file is uploaded as the raw
// request body (any Content-Type: the type is detected from the bytes) with
// its name in the "name" query parameter, into one conversation the caller
// may write to; the answer is the stored file's metadata, whose id a message
// then lists in "attachments". Downloads check that the caller may read the
// conversation the file belongs to, and are served so that no browser runs
// them: nosniff, a sandboxing Content-Security-Policy, and
// "Content-Disposition: attachment" for everything but images.

func (s *Server) attachments() (*attachment.Store, error) {
	if s.Attachments == nil {
		return nil, starpost.Errorf(starpost.EUNAVAILABLE, "attachments are not configured on this server")
	}
	return s.Attachments, nil
}

// attachmentError gives the attachment package's refusals their statuses.
func attachmentError(err error) error {
	var se *starpost.Error
	if !errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, attachment.ErrTooLarge):
		return &httpError{err: se, status: http.StatusRequestEntityTooLarge}
	case errors.Is(err, attachment.ErrUnsupported):
		return &httpError{err: se, status: http.StatusUnsupportedMediaType}
	}
	return err
}

// upload stores the request body as an attachment of conversation c by
// actor and writes its metadata; internal files are for agents' notes.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, ws string, c *starpost.Conversation, actor starpost.Actor, internal bool) error {
	st, err := s.attachments()
	if err != nil {
		return err
	}
	if c.State == starpost.StateClosed {
		return starpost.Errorf(starpost.ECONFLICT, "conversation is closed")
	}
	if r.ContentLength > st.MaxBytes() {
		return &httpError{err: starpost.FieldError("body", "larger than %d bytes", st.MaxBytes()), status: http.StatusRequestEntityTooLarge}
	}
	// Read one byte past the limit at most, whatever Content-Length said.
	body := http.MaxBytesReader(w, r.Body, st.MaxBytes()+1)
	f, err := st.Put(r.Context(), attachment.Upload{WorkspaceID: ws, ConversationID: c.ID, Uploader: actor,
		Name: r.URL.Query().Get("name"), Body: body, Internal: internal})
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{err: starpost.FieldError("body", "larger than %d bytes", st.MaxBytes()), status: http.StatusRequestEntityTooLarge}
		}
		return attachmentError(err)
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

// download writes attachment id of conversation c; visitors never get an
// internal (note) file.
func (s *Server) download(w http.ResponseWriter, r *http.Request, ws string, c *starpost.Conversation, id string, visitor bool) error {
	st, err := s.attachments()
	if err != nil {
		return err
	}
	thumb := false
	switch r.URL.Query().Get("thumb") {
	case "", "0", "false":
	case "1", "true":
		thumb = true
	default:
		return starpost.FieldError("thumb", "must be 1 or 0")
	}
	f, err := st.Get(r.Context(), ws, id)
	if err != nil {
		return err
	}
	if f.ConversationID != c.ID || visitor && f.Internal {
		return starpost.Errorf(starpost.ENOTFOUND, "attachment not found")
	}
	data, ct, err := st.Content(r.Context(), ws, id, thumb)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	disp := "attachment"
	if f.IsImage() {
		disp = "inline"
	}
	name := f.Name
	if thumb {
		name = "thumb-" + name
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
	return nil
}

func (s *Server) handleWidgetUpload(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	c, err := s.findVisitorConversation(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.upload(w, r, v.WorkspaceID, c, starpost.Actor{Role: starpost.RoleCustomer, ID: v.ContactID}, false)
}

func (s *Server) handleWidgetAttachment(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	c, err := s.findVisitorConversation(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.download(w, r, v.WorkspaceID, c, r.PathValue("att"), true)
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	c, err := s.findConversation(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	internal := false
	switch r.URL.Query().Get("internal") {
	case "", "0", "false":
	case "1", "true":
		internal = true
	default:
		return starpost.FieldError("internal", "must be 1 or 0")
	}
	kind := starpost.KindMessage
	if internal {
		kind = starpost.KindNote
	}
	actor, err := actorIn(p, c, kind)
	if err != nil {
		return err
	}
	return s.upload(w, r, p.WorkspaceID, c, actor, internal)
}

func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	c, err := s.findConversation(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.download(w, r, p.WorkspaceID, c, r.PathValue("att"), false)
}

// resolveAttachments replaces the attachment references of a message (or,
// when note, an internal note) by the stored ones, after checking each
// belongs to the conversation and that a message carries no internal file.
func (s *Server) resolveAttachments(ctx context.Context, ws, convID string, body *starpost.MessageBody, note bool) error {
	if len(body.Attachments) == 0 {
		return nil
	}
	st, err := s.attachments()
	if err != nil {
		return err
	}
	refs, err := st.Resolve(ctx, ws, convID, body.Attachments, note)
	if err != nil {
		return err
	}
	body.Attachments = refs
	return nil
}
