package attachment_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// picture returns a w×h image with a gradient, so scaling has work to do.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	check(t, png.Encode(&b, img))
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	check(t, jpeg.Encode(&b, img, nil))
	return b.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	check(t, gif.Encode(&b, img, nil))
	return b.Bytes()
}

func zipOf(t testing.TB, names ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		check(t, err)
		_, _ = w.Write([]byte("<x/>"))
	}
	check(t, zw.Close())
	return b.Bytes()
}

// bombPNG is a valid PNG header declaring 100000×100000 pixels: a few
// hundred bytes that would need 40 GB to decode.
func bombPNG(t testing.TB) []byte {
	b := encodePNG(t, picture(1, 1))
	// IHDR width and height live at bytes 16..24; the chunk CRC after them
	// is not checked by DecodeConfig's caller here because we fix it.
	hdr := b[:33]
	putU32 := func(p []byte, v uint32) { p[0], p[1], p[2], p[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v) }
	putU32(hdr[16:20], 100000)
	putU32(hdr[20:24], 100000)
	putU32(hdr[29:33], crc32IEEE(hdr[12:29]))
	return b
}

func TestDetect(t *testing.T) {
	webp, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	check(t, err)
	pic := picture(40, 30)
	for _, tc := range []struct {
		name string
		data []byte
		want string // "" means refused with ErrUnsupported
	}{
		{"png", encodePNG(t, pic), attachment.TypePNG},
		{"jpeg", encodeJPEG(t, pic), attachment.TypeJPEG},
		{"gif", encodeGIF(t, pic), attachment.TypeGIF},
		{"webp", webp, attachment.TypeWebP},
		{"pdf", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"), attachment.TypePDF},
		{"text", []byte("order 1234 arrived broken\n订单已损坏"), attachment.TypeText},
		{"csv", []byte("a,b\n1,2\n"), attachment.TypeText},
		{"docx", zipOf(t, "[Content_Types].xml", "word/document.xml"), attachment.TypeDOCX},
		{"xlsx", zipOf(t, "[Content_Types].xml", "xl/workbook.xml"), attachment.TypeXLSX},
		{"zip", zipOf(t, "notes.txt"), attachment.TypeZip},
		{"ole", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...), attachment.TypeOLE},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), ""},
		{"html late", []byte("\n\n  <html><body>hi"), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), ""},
		{"svg xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), ""},
		{"svg bom", append([]byte{0xEF, 0xBB, 0xBF}, []byte(" <svg/>")...), ""},
		{"exe", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 100)...), ""},
		{"elf", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...), ""},
		{"bmp", append([]byte("BM"), make([]byte, 100)...), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := attachment.Detect(tc.data)
			if tc.want == "" {
				if !errors.Is(err, attachment.ErrUnsupported) || starpost.ErrorCode(err) != starpost.EINVALID {
					t.Fatalf("Detect = %q, %v; want ErrUnsupported", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestProcessImages(t *testing.T) {
	webp, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	check(t, err)
	for _, tc := range []struct {
		name          string
		data          []byte
		w, h          int
		thumbW, thumb string
	}{
		{"large png is scaled down", encodePNG(t, picture(800, 400)), 800, 400, "320x160", attachment.TypePNG},
		{"small jpeg keeps its size", encodeJPEG(t, picture(100, 50)), 100, 50, "100x50", attachment.TypeJPEG},
		{"tall gif", encodeGIF(t, picture(100, 640)), 100, 640, "50x320", attachment.TypePNG},
		{"webp", webp, 0, 0, "", attachment.TypePNG},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := attachment.Process(tc.data, attachment.ImageLimits{})
			check(t, err)
			if tc.w > 0 && (p.Width != tc.w || p.Height != tc.h) {
				t.Fatalf("size %dx%d, want %dx%d", p.Width, p.Height, tc.w, tc.h)
			}
			if p.ThumbType != tc.thumb || len(p.Thumb) == 0 {
				t.Fatalf("thumb type %q (%d bytes)", p.ThumbType, len(p.Thumb))
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Thumb))
			check(t, err)
			if tc.thumbW != "" {
				if got := strconv.Itoa(cfg.Width) + "x" + strconv.Itoa(cfg.Height); got != tc.thumbW {
					t.Fatalf("thumbnail %s, want %s", got, tc.thumbW)
				}
			} else if max(cfg.Width, cfg.Height) > 320 {
				t.Fatalf("thumbnail %dx%d larger than 320", cfg.Width, cfg.Height)
			}
		})
	}
}

// A thumbnail is re-encoded: metadata of the original (here a PNG text
// chunk standing for EXIF, GPS ...) is not in it.
func TestThumbnailDropsMetadata(t *testing.T) {
	orig := encodePNG(t, picture(50, 50))
	chunk := pngChunk("tEXt", []byte("GPS\x0031.2304N 121.4737E"))
	withMeta := append(append(append([]byte{}, orig[:33]...), chunk...), orig[33:]...)
	p, err := attachment.Process(withMeta, attachment.ImageLimits{})
	check(t, err)
	if !bytes.Contains(withMeta, []byte("121.4737E")) || bytes.Contains(p.Thumb, []byte("121.4737E")) {
		t.Fatal("the thumbnail kept the original's metadata")
	}
}

func TestProcessRefuses(t *testing.T) {
	png := encodePNG(t, picture(20, 20))
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"decompression bomb", bombPNG(t), attachment.ErrTooLarge},
		{"too wide", encodePNG(t, picture(2000, 1)), attachment.ErrTooLarge},
		{"truncated png", png[:len(png)/2], attachment.ErrUnsupported},
		{"png magic only", []byte("\x89PNG\r\n\x1a\n"), attachment.ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attachment.Process(tc.data, attachment.ImageLimits{MaxSide: 1000, MaxPixels: 1_000_000})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"photo.jpg":              "photo.jpg",
		"../../etc/passwd":       "passwd",
		`C:\Users\me\report.pdf`: "report.pdf",
		"a\x00b\nc.txt":          "abc.txt",
		`say "hi".txt`:           "say hi.txt",
		"":                       "file",
		"..":                     "file",
		"发票 2024.pdf":            "发票 2024.pdf",
	} {
		if got := attachment.CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDialects stores, reads, lists and resolves attachments on SQLite and
// on a throwaway PostgreSQL server, with tenant isolation and the size
// limit.
func TestDialects(t *testing.T) {
	for _, tc := range pgtest.Backends(nil) {
		t.Run(tc.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := fixedClock{time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
			db, err := store.Open(ctx, tc.DSN(t), clock, nil)
			check(t, err)
			defer db.Close()
			open := func() *attachment.Store {
				st, err := attachment.Open(ctx, attachment.Options{SQL: db.SQL(), Driver: db.Driver(), Clock: clock, MaxBytes: 64 << 10})
				check(t, err)
				return st
			}
			open()
			st := open() // the table exists: created again idempotently
			customer := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
			img := encodePNG(t, picture(400, 200))
			f, err := st.Put(ctx, attachment.Upload{WorkspaceID: "ws_a", ConversationID: "cv_1", Uploader: customer,
				Name: "../screen shot.png", Body: bytes.NewReader(img)})
			check(t, err)
			if f.Name != "screen shot.png" || f.ContentType != attachment.TypePNG || f.Size != int64(len(img)) ||
				f.Width != 400 || f.Height != 200 || !f.Thumbnail || !f.CreatedAt.Equal(clock.t) {
				t.Fatalf("stored %+v", f)
			}
			doc, err := st.Put(ctx, attachment.Upload{WorkspaceID: "ws_a", ConversationID: "cv_1", Uploader: customer,
				Name: "notes.txt", Body: strings.NewReader("hello")})
			check(t, err)
			if doc.Thumbnail || doc.ContentType != attachment.TypeText {
				t.Fatalf("text file %+v", doc)
			}

			got, err := st.Get(ctx, "ws_a", f.ID)
			check(t, err)
			if *got != *f {
				t.Fatalf("Get = %+v, want %+v", got, f)
			}
			data, ct, err := st.Content(ctx, "ws_a", f.ID, false)
			check(t, err)
			if !bytes.Equal(data, img) || ct != attachment.TypePNG {
				t.Fatalf("content %d bytes %s", len(data), ct)
			}
			th, ct, err := st.Content(ctx, "ws_a", f.ID, true)
			check(t, err)
			if cfg, _, err := image.DecodeConfig(bytes.NewReader(th)); err != nil || cfg.Width != 320 || ct != attachment.TypePNG {
				t.Fatalf("thumbnail %+v %s %v", cfg, ct, err)
			}
			if _, _, err := st.Content(ctx, "ws_a", doc.ID, true); starpost.ErrorCode(err) != starpost.ENOTFOUND {
				t.Fatalf("thumbnail of a text file: %v", err)
			}
			// Another workspace sees nothing.
			if _, err := st.Get(ctx, "ws_b", f.ID); starpost.ErrorCode(err) != starpost.ENOTFOUND {
				t.Fatalf("other workspace Get: %v", err)
			}
			if _, _, err := st.Content(ctx, "ws_b", f.ID, false); starpost.ErrorCode(err) != starpost.ENOTFOUND {
				t.Fatalf("other workspace Content: %v", err)
			}
			list, err := st.List(ctx, "ws_a", "cv_1")
			check(t, err)
			if len(list) != 2 || list[0].ID > list[1].ID && list[0].CreatedAt.Equal(list[1].CreatedAt) {
				t.Fatalf("list %+v", list)
			}

			// Resolve fills in the stored metadata and refuses what is not
			// the conversation's.
			refs, err := st.Resolve(ctx, "ws_a", "cv_1", []starpost.Attachment{{ID: f.ID, Name: "evil.html", ContentType: "text/html", Size: 1}}, false)
			check(t, err)
			if refs[0] != f.Ref() {
				t.Fatalf("resolved %+v, want %+v", refs[0], f.Ref())
			}
			for _, bad := range []struct {
				ws, conv string
				refs     []starpost.Attachment
			}{
				{"ws_a", "cv_2", []starpost.Attachment{{ID: f.ID}}},
				{"ws_b", "cv_1", []starpost.Attachment{{ID: f.ID}}},
				{"ws_a", "cv_1", []starpost.Attachment{{ID: "at_missing"}}},
				{"ws_a", "cv_1", []starpost.Attachment{{ID: f.ID}, {ID: f.ID}}},
				{"ws_a", "cv_1", []starpost.Attachment{{}}},
			} {
				if _, err := st.Resolve(ctx, bad.ws, bad.conv, bad.refs, false); starpost.ErrorCode(err) != starpost.EINVALID || starpost.ErrorField(err) != "attachments" {
					t.Errorf("Resolve(%s, %s, %v) = %v, want invalid attachments", bad.ws, bad.conv, bad.refs, err)
				}
			}

			// The size limit is enforced while reading.
			_, err = st.Put(ctx, attachment.Upload{WorkspaceID: "ws_a", ConversationID: "cv_1", Uploader: customer,
				Name: "big.txt", Body: &endless{}})
			if !errors.Is(err, attachment.ErrTooLarge) {
				t.Fatalf("endless upload: %v", err)
			}
			_, err = st.Put(ctx, attachment.Upload{WorkspaceID: "ws_a", ConversationID: "cv_1", Uploader: customer,
				Name: "x.svg", Body: strings.NewReader("<svg/>")})
			if !errors.Is(err, attachment.ErrUnsupported) {
				t.Fatalf("svg upload: %v", err)
			}
			if list, _ := st.List(ctx, "ws_a", "cv_1"); len(list) != 2 {
				t.Fatalf("refused uploads were stored: %d files", len(list))
			}

			// An internal file goes into notes only.
			in, err := st.Put(ctx, attachment.Upload{WorkspaceID: "ws_a", ConversationID: "cv_1", Internal: true,
				Uploader: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "us_1"}, Name: "memo.txt", Body: strings.NewReader("memo")})
			check(t, err)
			if got, err := st.Get(ctx, "ws_a", in.ID); err != nil || !got.Internal {
				t.Fatalf("internal file read back %+v, %v", got, err)
			}
			if _, err := st.Resolve(ctx, "ws_a", "cv_1", []starpost.Attachment{{ID: in.ID}}, false); starpost.ErrorField(err) != "attachments" {
				t.Fatalf("internal file in a message: %v", err)
			}
			if _, err := st.Resolve(ctx, "ws_a", "cv_1", []starpost.Attachment{{ID: in.ID}, {ID: f.ID}}, true); err != nil {
				t.Fatalf("files in a note: %v", err)
			}

			// A conversation holds a bounded number of files.
			small, err := attachment.Open(ctx, attachment.Options{SQL: db.SQL(), Driver: db.Driver(), Clock: clock, MaxFiles: 4})
			check(t, err)
			put := func() error {
				_, err := small.Put(ctx, attachment.Upload{WorkspaceID: "ws_a", ConversationID: "cv_1", Uploader: customer,
					Name: "n.txt", Body: strings.NewReader("note")})
				return err
			}
			check(t, put())
			if err := put(); starpost.ErrorCode(err) != starpost.ETOOMANY {
				t.Fatalf("fourth file: %v, want too many", err)
			}
		})
	}
}

// endless is a body that never ends; reading it past the limit must stop.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	if e.n > 1<<30 {
		return 0, errors.New("read far past the limit")
	}
	return len(p), nil
}

// BenchmarkProcessPhoto measures the upload path for a 1600×1200 JPEG:
// detection, header check, decoding and the 320-pixel thumbnail.
func BenchmarkProcessPhoto(b *testing.B) {
	data := encodeJPEG(b, picture(1600, 1200))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := attachment.Process(data, attachment.ImageLimits{}); err != nil {
			b.Fatal(err)
		}
	}
}
