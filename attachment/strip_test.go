package attachment_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
	"github.com/starpost/starpost/store"
)

// jpegSegment encodes one JPEG marker segment.
func jpegSegment(marker byte, body []byte) []byte {
	out := []byte{0xFF, marker}
	out = binary.BigEndian.AppendUint16(out, uint16(len(body)+2))
	return append(out, body...)
}

// pixels decodes an image to comparable RGBA bytes.
func pixels(t *testing.T, data []byte) (image.Rectangle, []byte) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	check(t, err)
	b := img.Bounds()
	rgba := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return b, rgba.Pix
}

// TestStripMetadata: stored JPEG and PNG originals lose their metadata
// (GPS position, XMP, comments, text chunks) but not a pixel, and a
// sideways photo keeps its orientation.
func TestStripMetadata(t *testing.T) {
	secret := "GPSLatitude 31.2304N"
	jpg := withOrientation(t, halves(t), 6, binary.LittleEndian)
	xmp := jpegSegment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+secret+"</x:xmpmeta>"))
	com := jpegSegment(0xFE, []byte("shot at home, "+secret))
	icc := jpegSegment(0xE2, []byte("ICC_PROFILE\x00\x01\x01fakeprofile"))
	dirtyJPEG := append(append(append(append(append([]byte{}, jpg[:2]...), xmp...), com...), icc...), jpg[2:]...)
	png := encodePNG(t, picture(30, 20))
	dirtyPNG := append(append(append(append([]byte{}, png[:33]...), pngChunk("tEXt", []byte("Location\x00"+secret))...),
		pngChunk("tIME", []byte{7, 234, 11, 25, 12, 0, 0})...), png[33:]...)
	for _, tc := range []struct {
		name   string
		data   []byte
		orient bool
	}{
		{"jpeg", dirtyJPEG, true},
		{"png", dirtyPNG, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := attachment.Process(tc.data, attachment.ImageLimits{})
			check(t, err)
			if p.Clean == nil {
				t.Fatal("no cleaned file")
			}
			if !bytes.Contains(tc.data, []byte(secret)) || bytes.Contains(p.Clean, []byte(secret)) {
				t.Fatal("the metadata is still there")
			}
			b1, px1 := pixels(t, tc.data)
			b2, px2 := pixels(t, p.Clean)
			if b1 != b2 || !bytes.Equal(px1, px2) {
				t.Fatal("the pixels changed")
			}
			if tc.orient && (p.Width != 32 || p.Height != 64 || !bytes.Contains(p.Clean, []byte("ICC_PROFILE"))) {
				t.Fatalf("orientation or colour profile lost: %dx%d", p.Width, p.Height)
			}
		})
	}

	// Put stores the cleaned bytes.
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), fixedClock{time.Now()}, nil)
	check(t, err)
	defer db.Close()
	st, err := attachment.Open(ctx, attachment.Options{SQL: db.SQL(), Driver: db.Driver()})
	check(t, err)
	f, err := st.Put(ctx, attachment.Upload{WorkspaceID: "ws", ConversationID: "cv", Name: "me.jpg",
		Uploader: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"}, Body: bytes.NewReader(dirtyJPEG)})
	check(t, err)
	data, _, err := st.Content(ctx, "ws", f.ID, false)
	check(t, err)
	if strings.Contains(string(data), secret) || f.Size != int64(len(data)) || f.Size >= int64(len(dirtyJPEG)) {
		t.Fatalf("stored %d bytes (upload %d), metadata kept: %v", f.Size, len(dirtyJPEG), strings.Contains(string(data), secret))
	}
}
