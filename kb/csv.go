package kb

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/text"
)

// CSVHeader is the header row of the FAQ CSV format. Questions holds the
// question variants one per line inside the cell; an empty id creates a FAQ
// and a known id updates it.
var csvHeader = []string{"id", "questions", "answer", "lang", "category", "status"}

// MaxImportRows bounds one CSV import.
const MaxImportRows = 5000

// ExportFAQs writes every FAQ of workspace ws as CSV (see ImportFAQs).
func (k *KB) ExportFAQs(ctx context.Context, ws string, out io.Writer) error {
	faqs, err := k.ListFAQs(ctx, ws, ArticleFilter{})
	if err != nil {
		return err
	}
	w := csv.NewWriter(out)
	if err := w.Write(csvHeader); err != nil {
		return fmt.Errorf("kb: export faqs: %w", err)
	}
	for _, f := range faqs {
		if err := w.Write([]string{f.ID, strings.Join(f.Questions, "\n"), f.Answer, f.Lang, f.Category, f.Status}); err != nil {
			return fmt.Errorf("kb: export faqs: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("kb: export faqs: %w", err)
	}
	return nil
}

// ImportReport tells what an import did. When rows are refused, Errors
// lists them (at most MaxImportErrors) and nothing was written.
type ImportReport struct {
	Created int           `json:"created"`
	Updated int           `json:"updated"`
	Errors  []ImportError `json:"errors,omitempty"`
}

// ImportError is one refused row of an import. Row counts CSV records (the
// header is row 1); Line is the line of the file where the row starts, which
// differs from Row when a cell holds several lines (question variants).
type ImportError struct {
	Row     int    `json:"row"`
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// MaxImportErrors bounds the refused rows one import reports.
const MaxImportErrors = 100

// refuse returns the error of an import that refused rows: an EINVALID
// naming the first row and field, with the count of the others.
func (rep *ImportReport) refuse() error {
	e := rep.Errors[0]
	msg := fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Message)
	if n := len(rep.Errors) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	rep.Created, rep.Updated = 0, 0
	return starpost.FieldError("csv", "%s", msg)
}

// ImportFAQs reads FAQs in the CSV format of ExportFAQs (header row first;
// columns in any order; lang, category and status may be absent) into
// workspace ws. Every row is checked before anything is written, and all
// rows are written in one transaction: an error (EINVALID naming the row and
// the field) leaves the knowledge base as it was. Every refused row is then
// listed in the report's Errors, with its line in the file.
func (k *KB) ImportFAQs(ctx context.Context, ws string, in io.Reader) (ImportReport, error) {
	var rep ImportReport
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return rep, starpost.FieldError("csv", "empty: a header row is required")
	} else if err != nil {
		return rep, starpost.FieldError("csv", "%v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range csvHeader {
			known = known || c == h
		}
		if !known {
			return rep, starpost.FieldError("csv", "unknown column %q (want %s)", h, strings.Join(csvHeader, ", "))
		}
		col[h] = i
	}
	for _, c := range []string{"questions", "answer"} {
		if _, ok := col[c]; !ok {
			return rep, starpost.FieldError("csv", "column %q required", c)
		}
	}
	get := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []*FAQ
	var lines []int
	seen := map[string]bool{}
	refused := func(row, line int, err error) {
		if len(rep.Errors) < MaxImportErrors {
			rep.Errors = append(rep.Errors, ImportError{Row: row, Line: line, Field: starpost.ErrorField(err), Message: starpost.ErrorMessage(err)})
		}
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				refused(line, pe.StartLine, starpost.FieldError("csv", "%v", pe.Err))
				return rep, rep.refuse()
			}
			return rep, starpost.FieldError("csv", "%v", err)
		}
		at, _ := r.FieldPos(0)
		if len(rows) >= MaxImportRows {
			return rep, starpost.FieldError("csv", "more than %d rows", MaxImportRows)
		}
		f := &FAQ{ID: get(rec, "id"), Questions: strings.Split(get(rec, "questions"), "\n"), Answer: get(rec, "answer"),
			Lang: get(rec, "lang"), Category: get(rec, "category"), Status: get(rec, "status")}
		if f.Lang == "" {
			f.Lang = LangZH
		}
		normalizeFAQ(f)
		if err := f.Validate(); err != nil {
			refused(line, at, err)
			continue
		}
		if f.ID != "" {
			if seen[f.ID] {
				refused(line, at, starpost.FieldError("id", "%s appears twice", f.ID))
				continue
			}
			seen[f.ID] = true
		}
		rows, lines = append(rows, f), append(lines, at)
	}
	if len(rep.Errors) > 0 {
		return rep, rep.refuse()
	}
	now := k.clock.Now()
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error {
		for i, f := range rows {
			if f.ID == "" {
				f.ID, f.WorkspaceID, f.Version, f.CreatedAt, f.UpdatedAt = starpost.NewID("kf"), ws, 1, now, now
				if err := k.insertFAQ(ctx, tx, f); err != nil {
					return err
				}
				rep.Created++
				continue
			}
			old, err := k.faqIn(ctx, tx, ws, f.ID)
			if starpost.ErrorCode(err) == starpost.ENOTFOUND {
				refused(i+2, lines[i], starpost.FieldError("id", "no FAQ %s in this workspace", f.ID))
				continue
			} else if err != nil {
				return err
			}
			f.WorkspaceID, f.Version, f.CreatedAt, f.UpdatedAt = ws, old.Version+1, old.CreatedAt, now
			if err := k.updateFAQRow(ctx, tx, f); err != nil {
				return err
			}
			rep.Updated++
		}
		if len(rep.Errors) > 0 {
			return rep.refuse() // rolls back
		}
		return nil
	})
	if err != nil {
		if len(rep.Errors) > 0 {
			return rep, err
		}
		return ImportReport{}, err
	}
	k.applied(ws, rev, func(ix *text.Index) {
		for _, f := range rows {
			putFAQ(ix, f)
		}
	})
	return rep, nil
}
