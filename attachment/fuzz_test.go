package attachment_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"os"
	"strings"
	"testing"

	"github.com/starpost/starpost/attachment"
)

// FuzzProcess feeds arbitrary bytes to the upload path: type detection,
// the image header check and decoding. It must never panic, refuse with
// one of the package's errors, and accept only allowed types; an accepted
// image is within the pixel limits and has a thumbnail that decodes and
// fits the thumbnail size.
func FuzzProcess(f *testing.F) {
	webp, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	check(f, err)
	pic := picture(64, 48)
	for _, seed := range [][]byte{
		encodePNG(f, pic), encodeJPEG(f, pic), encodeGIF(f, pic), webp, bombPNG(f),
		zipOf(f, "word/document.xml"), []byte("%PDF-1.4\n"), []byte("hello"), []byte("<svg/>"),
		withOrientation(f, halves(f), 6, binary.LittleEndian),
	} {
		f.Add(seed)
	}
	lim := attachment.ImageLimits{MaxPixels: 1 << 20, MaxSide: 4096, ThumbSide: 64}
	allowed := map[string]bool{attachment.TypePNG: true, attachment.TypeJPEG: true, attachment.TypeGIF: true,
		attachment.TypeWebP: true, attachment.TypePDF: true, attachment.TypeText: true, attachment.TypeZip: true,
		attachment.TypeDOCX: true, attachment.TypeXLSX: true, attachment.TypePPTX: true, attachment.TypeODF: true,
		attachment.TypeOLE: true, "text/plain; charset=utf-16be": true, "text/plain; charset=utf-16le": true}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := attachment.Process(data, lim)
		if err != nil {
			if !errors.Is(err, attachment.ErrUnsupported) && !errors.Is(err, attachment.ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !allowed[p.ContentType] {
			t.Fatalf("accepted type %q", p.ContentType)
		}
		if !strings.HasPrefix(p.ContentType, "image/") {
			if len(p.Thumb) > 0 {
				t.Fatal("thumbnail for a non-image")
			}
			return
		}
		if p.Width*p.Height > lim.MaxPixels || p.Width > lim.MaxSide || p.Height > lim.MaxSide {
			t.Fatalf("accepted %dx%d beyond the limits", p.Width, p.Height)
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Thumb))
		if err != nil || cfg.Width > lim.ThumbSide || cfg.Height > lim.ThumbSide || cfg.Width < 1 || cfg.Height < 1 {
			t.Fatalf("thumbnail %+v: %v", cfg, err)
		}
		if p.Clean != nil {
			orig, _, err1 := image.DecodeConfig(bytes.NewReader(data))
			clean, _, err2 := image.DecodeConfig(bytes.NewReader(p.Clean))
			if err1 != nil || err2 != nil || orig.Width != clean.Width || orig.Height != clean.Height {
				t.Fatalf("cleaned file %dx%d (%v), original %dx%d (%v)", clean.Width, clean.Height, err2, orig.Width, orig.Height, err1)
			}
			if _, _, err := image.Decode(bytes.NewReader(p.Clean)); err != nil {
				t.Fatalf("cleaned file does not decode: %v", err)
			}
		}
	})
}
