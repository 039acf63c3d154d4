package http

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
)

// Knowledge-base routes (package kb). Supervisors and admins read the
// articles, FAQs and synonyms; admins write them; agents search. When the
// Server has no KB the knowledge base reads as empty and writes answer 503,
// so an installation without it stays well-behaved.

// ArticleRequest is the body of POST /api/v1/kb/articles.
type ArticleRequest struct {
	Title    string `json:"title"`
	Body     string `json:"body"`
	Lang     string `json:"lang"`
	Category string `json:"category"`
	// Status is draft (the default) or published.
	Status string `json:"status"`
}

// FAQRequest is the body of POST /api/v1/kb/faqs.
type FAQRequest struct {
	Questions []string `json:"questions"`
	Answer    string   `json:"answer"`
	Lang      string   `json:"lang"`
	Category  string   `json:"category"`
	// Status is published (the default) or draft.
	Status string `json:"status"`
}

// SynonymsRequest is the body of PUT /api/v1/kb/synonyms and the answer of
// GET: sets of terms that mean the same.
type SynonymsRequest struct {
	Sets [][]string `json:"sets"`
}

// SearchResponse is the answer of GET /api/v1/kb/search.
type SearchResponse struct {
	Query string      `json:"query"`
	Items []kb.Result `json:"items"`
}

// FeedbackRequest is the body of POST
// /api/v1/conversations/{id}/suggestions/{event_seq}/feedback.
type FeedbackRequest struct {
	Helpful *bool `json:"helpful"`
	// ID names the suggested item judged; empty means the first item.
	ID string `json:"id"`
}

// ImportErrorResponse is the 400 answer of POST /api/v1/kb/faqs/import
// when rows are refused: the usual error, and the report listing every
// refused row with its line in the file. Nothing was imported.
type ImportErrorResponse struct {
	ErrorResponse
	kb.ImportReport
}

// MaxSearchQuery is the longest search query accepted, in characters.
const MaxSearchQuery = 1000

// editor names who makes a knowledge-base edit.
func editor(p *starpost.Principal) string {
	if p.UserID == "" {
		return "token:" + p.TokenID
	}
	return p.UserID
}

func (s *Server) kbWritable() error {
	if s.KB == nil {
		return starpost.Errorf(starpost.EUNAVAILABLE, "the knowledge base is not configured on this server")
	}
	return nil
}

// kbFilter reads the status, lang and category query parameters.
func kbFilter(r *http.Request) (kb.ArticleFilter, error) {
	q := r.URL.Query()
	f := kb.ArticleFilter{Status: q.Get("status"), Lang: q.Get("lang"), Category: q.Get("category")}
	if f.Status != "" && f.Status != kb.StatusDraft && f.Status != kb.StatusPublished {
		return f, starpost.FieldError("status", "must be draft or published")
	}
	if f.Lang != "" && f.Lang != kb.LangZH && f.Lang != kb.LangEN {
		return f, starpost.FieldError("lang", "must be zh or en")
	}
	if utf8.RuneCountInString(f.Category) > kb.MaxCategoryLen {
		return f, starpost.FieldError("category", "longer than %d characters", kb.MaxCategoryLen)
	}
	return f, nil
}

// ---- articles ----

func (s *Server) handleListArticles(w http.ResponseWriter, r *http.Request) error {
	f, err := kbFilter(r)
	if err != nil {
		return err
	}
	if s.KB == nil {
		writeList[*kb.Article](w, nil)
		return nil
	}
	items, err := s.KB.ListArticles(r.Context(), principal(r).WorkspaceID, f)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

func (s *Server) handleCreateArticle(w http.ResponseWriter, r *http.Request) error {
	var req ArticleRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := s.kbWritable(); err != nil {
		return err
	}
	p := principal(r)
	a := &kb.Article{Title: strings.TrimSpace(req.Title), Body: req.Body, Lang: req.Lang, Category: strings.TrimSpace(req.Category), Status: req.Status}
	if err := s.KB.CreateArticle(r.Context(), p.WorkspaceID, editor(p), a); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) handleGetArticle(w http.ResponseWriter, r *http.Request) error {
	if s.KB == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "article not found")
	}
	a, err := s.KB.Article(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) handleUpdateArticle(w http.ResponseWriter, r *http.Request) error {
	var req kb.ArticlePatch
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	if s.KB == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "article not found")
	}
	if req == (kb.ArticlePatch{}) {
		// Not found first, so an empty body tells nothing about others' ids.
		if _, err := s.KB.Article(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
			return err
		}
		return starpost.FieldError("body", "nothing to change")
	}
	if req.Title != nil {
		*req.Title = strings.TrimSpace(*req.Title)
	}
	p := principal(r)
	a, err := s.KB.UpdateArticle(r.Context(), p.WorkspaceID, r.PathValue("id"), editor(p), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) handleDeleteArticle(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	if s.KB == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "article not found")
	}
	if err := s.KB.DeleteArticle(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleArticleVersions(w http.ResponseWriter, r *http.Request) error {
	if s.KB == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "article not found")
	}
	vs, err := s.KB.ArticleVersions(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeList(w, vs)
	return nil
}

// ---- FAQs ----

func (s *Server) handleListFAQs(w http.ResponseWriter, r *http.Request) error {
	f, err := kbFilter(r)
	if err != nil {
		return err
	}
	if s.KB == nil {
		writeList[*kb.FAQ](w, nil)
		return nil
	}
	items, err := s.KB.ListFAQs(r.Context(), principal(r).WorkspaceID, f)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

func (s *Server) handleCreateFAQ(w http.ResponseWriter, r *http.Request) error {
	var req FAQRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := s.kbWritable(); err != nil {
		return err
	}
	f := &kb.FAQ{Questions: req.Questions, Answer: req.Answer, Lang: req.Lang, Category: strings.TrimSpace(req.Category), Status: req.Status}
	if err := s.KB.CreateFAQ(r.Context(), principal(r).WorkspaceID, f); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func (s *Server) handleGetFAQ(w http.ResponseWriter, r *http.Request) error {
	if s.KB == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "faq not found")
	}
	f, err := s.KB.FAQ(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) handleUpdateFAQ(w http.ResponseWriter, r *http.Request) error {
	var req kb.FAQPatch
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	if s.KB == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "faq not found")
	}
	if req == (kb.FAQPatch{}) {
		if _, err := s.KB.FAQ(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
			return err
		}
		return starpost.FieldError("body", "nothing to change")
	}
	f, err := s.KB.UpdateFAQ(r.Context(), principal(r).WorkspaceID, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) handleDeleteFAQ(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	if s.KB == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "faq not found")
	}
	if err := s.KB.DeleteFAQ(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleExportFAQs(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if s.KB != nil {
		if err := s.KB.ExportFAQs(r.Context(), principal(r).WorkspaceID, &buf); err != nil {
			return err
		}
	} else {
		buf.WriteString("id,questions,answer,lang,category,status\n")
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="faqs.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes()) // the client may have gone
	return nil
}

// handleImportFAQs reads a text/csv body (see kb.ImportFAQs): all rows or
// none. Refused rows answer an ImportErrorResponse.
func (s *Server) handleImportFAQs(w http.ResponseWriter, r *http.Request) error {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{err: starpost.FieldError("body", "larger than %d bytes", mbe.Limit), status: http.StatusRequestEntityTooLarge}
		}
		return starpost.FieldError("body", "unreadable: %v", err)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/csv" {
		return &httpError{err: starpost.FieldError("body", "Content-Type must be text/csv"), status: http.StatusUnsupportedMediaType}
	}
	if !utf8.Valid(raw) {
		return starpost.FieldError("csv", "not valid UTF-8")
	}
	if err := s.kbWritable(); err != nil {
		return err
	}
	rep, err := s.KB.ImportFAQs(r.Context(), principal(r).WorkspaceID, bytes.NewReader(raw))
	if err != nil && len(rep.Errors) > 0 && starpost.ErrorCode(err) == starpost.EINVALID {
		writeJSON(w, http.StatusBadRequest, ImportErrorResponse{
			ErrorResponse: ErrorResponse{Error: ErrorBody{Code: starpost.EINVALID, Message: starpost.ErrorMessage(err), Field: starpost.ErrorField(err)}},
			ImportReport:  rep,
		})
		return nil
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// ---- synonyms ----

func (s *Server) handleGetSynonyms(w http.ResponseWriter, r *http.Request) error {
	resp := SynonymsRequest{Sets: [][]string{}}
	if s.KB != nil {
		sets, err := s.KB.Synonyms(r.Context(), principal(r).WorkspaceID)
		if err != nil {
			return err
		}
		if sets != nil {
			resp.Sets = sets
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) handleSetSynonyms(w http.ResponseWriter, r *http.Request) error {
	var req SynonymsRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Sets == nil {
		return starpost.FieldError("sets", "required (an empty list removes every set)")
	}
	if err := s.kbWritable(); err != nil {
		return err
	}
	ws := principal(r).WorkspaceID
	if err := s.KB.SetSynonyms(r.Context(), ws, req.Sets); err != nil {
		return err
	}
	return s.handleGetSynonyms(w, r)
}

// ---- search and feedback ----

func (s *Server) handleSearchKB(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return starpost.FieldError("q", "required")
	}
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > MaxSearchQuery {
		return starpost.FieldError("q", "must be UTF-8 of at most %d characters", MaxSearchQuery)
	}
	limit := 5
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > kb.MaxResults {
			return starpost.FieldError("limit", "must be 1 to %d", kb.MaxResults)
		}
		limit = n
	}
	resp := SearchResponse{Query: q, Items: []kb.Result{}}
	if s.KB != nil {
		items, err := s.KB.Search(r.Context(), principal(r).WorkspaceID, q, limit)
		if err != nil {
			return err
		}
		if items != nil {
			resp.Items = items
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleSuggestionFeedback appends a suggestion.feedback event on the
// conversation; the suggestion engine records it and re-ranks later
// suggestions. One verdict per person and suggested item: a repeat returns
// the stored event.
func (s *Server) handleSuggestionFeedback(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	c, err := s.findConversation(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req FeedbackRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Helpful == nil {
		return starpost.FieldError("helpful", "required")
	}
	seq, err := strconv.ParseInt(r.PathValue("event_seq"), 10, 64)
	if err != nil || seq <= 0 || seq > c.LastSeq {
		return starpost.FieldError("event_seq", "must be the seq of a suggestion event of this conversation")
	}
	sugg, err := s.suggestionAt(r, c, seq)
	if err != nil {
		return err
	}
	id := req.ID
	if id == "" {
		id = sugg.Items[0].ID
	}
	found := false
	for _, it := range sugg.Items {
		found = found || it.ID == id
	}
	if !found {
		return starpost.FieldError("id", "not one of the suggested items")
	}
	actor, err := actorIn(p, c, starpost.KindNote)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r, "")
	if err != nil {
		return err
	}
	if key == "" {
		key = "kbfb:" + strconv.FormatInt(seq, 10) + ":" + id + ":" + actor.ID
	}
	ev, err := s.appendOne(r.Context(), &starpost.Event{
		WorkspaceID: p.WorkspaceID, ConversationID: c.ID, Kind: kb.KindFeedback, Actor: actor, IdempotencyKey: key,
		Body: starpost.MustBody(kb.FeedbackBody{SuggestionSeq: seq, ID: id, Helpful: *req.Helpful}),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ev)
	return nil
}

// suggestionAt returns the body of the suggestion event at seq of c.
func (s *Server) suggestionAt(r *http.Request, c *starpost.Conversation, seq int64) (*kb.SuggestionBody, error) {
	var after int64
	for {
		evs, err := s.Store.ListEvents(r.Context(), starpost.EventFilter{WorkspaceID: c.WorkspaceID, ConversationID: c.ID,
			AfterCursor: after, Kinds: []starpost.EventKind{kb.KindSuggestion}})
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if ev.Seq == seq {
				var b kb.SuggestionBody
				if err := ev.DecodeBody(&b); err != nil || len(b.Items) == 0 {
					return nil, starpost.FieldError("event_seq", "the suggestion has no items")
				}
				return &b, nil
			}
			after = ev.Cursor
		}
		if len(evs) < starpost.MaxEventPage {
			return nil, starpost.FieldError("event_seq", "must be the seq of a suggestion event of this conversation")
		}
	}
}
