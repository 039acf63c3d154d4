package attachment_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/starpost/starpost/attachment"
)

// withOrientation inserts an EXIF segment with the orientation tag o into
// a JPEG, as a phone camera writes it (big- or little-endian).
func withOrientation(t testing.TB, jpg []byte, o uint16, bo binary.AppendByteOrder) []byte {
	t.Helper()
	tiff := []byte("MM\x00\x2a")
	if bo == binary.AppendByteOrder(binary.LittleEndian) {
		tiff = []byte("II\x2a\x00")
	}
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 1)      // one entry
	tiff = bo.AppendUint16(tiff, 0x0112) // Orientation
	tiff = bo.AppendUint16(tiff, 3)      // SHORT
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0)
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := append([]byte{0xFF, 0xE1}, binary.BigEndian.AppendUint16(nil, uint16(len(seg)+2))...)
	app1 = append(app1, seg...)
	return append(append(append([]byte{}, jpg[:2]...), app1...), jpg[2:]...)
}

// halves is a 64×32 photo: red on the left, blue on the right.
func halves(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			c := color.RGBA{220, 0, 0, 255}
			if x >= 32 {
				c = color.RGBA{0, 0, 220, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func reddish(c color.Color) bool {
	r, _, b, _ := c.RGBA()
	return r > 2*b
}

// TestThumbnailOrientation: a sideways phone photo gets an upright
// thumbnail and its dimensions as seen.
func TestThumbnailOrientation(t *testing.T) {
	src := halves(t)
	for _, tc := range []struct {
		name string
		o    uint16
		bo   binary.AppendByteOrder
		w, h int
		// where the red half ends up: "left", "right", "top", "bottom"
		red string
	}{
		{"none", 0, nil, 64, 32, "left"},
		{"upright", 1, binary.BigEndian, 64, 32, "left"},
		{"mirrored", 2, binary.LittleEndian, 64, 32, "right"},
		{"upside down", 3, binary.BigEndian, 64, 32, "right"},
		{"turn clockwise (Motorola)", 6, binary.BigEndian, 32, 64, "top"},
		{"turn clockwise (Intel)", 6, binary.LittleEndian, 32, 64, "top"},
		{"turn counter-clockwise", 8, binary.BigEndian, 32, 64, "bottom"},
		{"transposed", 5, binary.BigEndian, 32, 64, "top"},
		{"transverse", 7, binary.BigEndian, 32, 64, "bottom"},
		{"out of range", 9, binary.BigEndian, 64, 32, "left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := src
			if tc.bo != nil {
				data = withOrientation(t, src, tc.o, tc.bo)
			}
			p, err := attachment.Process(data, attachment.ImageLimits{})
			check(t, err)
			if p.Width != tc.w || p.Height != tc.h {
				t.Fatalf("dimensions %dx%d, want %dx%d", p.Width, p.Height, tc.w, tc.h)
			}
			th, _, err := image.Decode(bytes.NewReader(p.Thumb))
			check(t, err)
			b := th.Bounds()
			if b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("thumbnail %v, want %dx%d", b, tc.w, tc.h)
			}
			probe := map[string]image.Point{"left": {4, b.Dy() / 2}, "right": {b.Dx() - 5, b.Dy() / 2},
				"top": {b.Dx() / 2, 4}, "bottom": {b.Dx() / 2, b.Dy() - 5}}
			if !reddish(th.At(probe[tc.red].X, probe[tc.red].Y)) {
				t.Fatalf("red is not on the %s", tc.red)
			}
		})
	}
}
