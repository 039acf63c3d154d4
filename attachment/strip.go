package attachment

import (
	"bytes"
	"encoding/binary"
)

// stripJPEG removes the metadata of a JPEG without touching its pixels:
// EXIF (camera, GPS position, time), XMP, IPTC and comments go; the JFIF
// header, ICC colour profile and Adobe colour-transform segments stay, and
// an EXIF orientation other than 1 is written back alone so browsers still
// show the photo upright. It returns nil when the file's structure is not
// the expected one (the caller keeps the original).
func stripJPEG(data []byte) []byte {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, 0xD8)
	var pending []byte // the orientation, written after the JFIF header
	if o := jpegOrientation(data); o != 1 {
		pending = orientationSegment(o)
	}
	flush := func(marker byte) {
		if pending != nil && marker != 0xE0 {
			out = append(out, pending...)
			pending = nil
		}
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return nil
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF:
			i++
			continue
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD7:
			flush(marker)
			out = append(out, data[i:i+2]...)
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // image data (and the rest) as it is
			flush(marker)
			return append(out, data[i:]...)
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i : i+2+n]
		keep := true
		switch {
		case marker == 0xFE: // comment
			keep = false
		case marker >= 0xE1 && marker <= 0xEF: // APP1..APP15
			body := seg[4:]
			keep = marker == 0xE2 && bytes.HasPrefix(body, []byte("ICC_PROFILE\x00")) ||
				marker == 0xEE && bytes.HasPrefix(body, []byte("Adobe"))
		}
		if keep {
			flush(marker)
			out = append(out, seg...)
		}
		i += 2 + n
	}
	return nil
}

// orientationSegment is an APP1 EXIF segment holding only the orientation.
func orientationSegment(o int) []byte {
	be := binary.BigEndian
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	tiff = be.AppendUint16(tiff, 1)      // one entry
	tiff = be.AppendUint16(tiff, 0x0112) // Orientation
	tiff = be.AppendUint16(tiff, 3)      // SHORT
	tiff = be.AppendUint32(tiff, 1)
	tiff = be.AppendUint16(tiff, uint16(o))
	tiff = append(tiff, 0, 0)
	tiff = be.AppendUint32(tiff, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xE1}
	out = be.AppendUint16(out, uint16(len(seg)+2))
	return append(out, seg...)
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngDropped are the PNG chunks that carry text and metadata, not pixels.
var pngDropped = map[string]bool{"tEXt": true, "zTXt": true, "iTXt": true, "eXIf": true, "tIME": true}

// stripPNG removes the text and metadata chunks of a PNG (tEXt, zTXt,
// iTXt, eXIf, tIME), keeping every chunk that affects the image. It returns
// nil when the file's structure is not the expected one.
func stripPNG(data []byte) []byte {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngSignature...)
	for i := len(pngSignature); ; {
		if i+12 > len(data) {
			return nil
		}
		n := uint64(binary.BigEndian.Uint32(data[i:]))
		end := uint64(i) + 12 + n
		if end > uint64(len(data)) {
			return nil
		}
		typ := string(data[i+4 : i+8])
		if !pngDropped[typ] {
			out = append(out, data[i:end]...)
		}
		if typ == "IEND" {
			return out
		}
		i = int(end)
	}
}
