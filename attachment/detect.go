package attachment

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // registers the GIF decoder (first frame only)
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers the WebP decoder with image.Decode
)

// Types that Detect may return besides the images.
const (
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeGIF  = "image/gif"
	TypeWebP = "image/webp"
	TypePDF  = "application/pdf"
	TypeText = "text/plain; charset=utf-8"
	TypeZip  = "application/zip"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypePPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	TypeODF  = "application/vnd.oasis.opendocument"
	TypeOLE  = "application/vnd.ms-office" // legacy .doc, .xls, .ppt
)

// oleMagic starts every OLE2 compound file (legacy Office documents).
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// Detect returns the type of data as decided by its bytes alone, or
// ErrUnsupported. It allows PNG, JPEG, GIF and WebP images, PDF, plain
// text (UTF-8 or UTF-16 with a byte-order mark; never markup), zip archives
// including Office Open XML and OpenDocument files, and legacy Office (OLE2)
// documents. HTML, XML and SVG, scripts recognised as such, executables and
// everything unknown are refused.
func Detect(data []byte) (string, error) {
	ct := http.DetectContentType(data)
	switch ct {
	case TypePNG, TypeJPEG, TypeGIF, TypeWebP, TypePDF:
		return ct, nil
	case TypeText, "text/plain; charset=utf-16be", "text/plain; charset=utf-16le":
		if looksLikeMarkup(data) {
			return "", unsupported("markup (HTML, XML, SVG) is not accepted")
		}
		return ct, nil
	case TypeZip:
		return zipType(data), nil
	case "application/octet-stream":
		if bytes.HasPrefix(data, oleMagic) {
			return TypeOLE, nil
		}
	}
	return "", unsupported("files of type %s are not accepted", strings.SplitN(ct, ";", 2)[0])
}

// looksLikeMarkup reports whether text starts (after a byte-order mark and
// white space) with "<": an SVG or HTML fragment that DetectContentType did
// not name, which a browser could render as a document.
func looksLikeMarkup(data []byte) bool {
	d := bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if len(d) >= 2 && (d[0] == 0xFE && d[1] == 0xFF || d[0] == 0xFF && d[1] == 0xFE) {
		// UTF-16: look at every other byte of the start.
		var b []byte
		for i := 2; i+1 < len(d) && len(b) < 64; i += 2 {
			if d[0] == 0xFE {
				b = append(b, d[i+1])
			} else {
				b = append(b, d[i])
			}
		}
		d = b
	}
	d = bytes.TrimLeft(d, " \t\r\n\f\x00")
	return len(d) > 0 && d[0] == '<'
}

// zipType names a zip archive by the entries that mark Office Open XML and
// OpenDocument files; any other (or unreadable) archive is a plain zip.
func zipType(data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return TypeZip
	}
	for _, f := range zr.File {
		switch {
		case f.Name == "word/document.xml":
			return TypeDOCX
		case f.Name == "xl/workbook.xml":
			return TypeXLSX
		case f.Name == "ppt/presentation.xml":
			return TypePPTX
		case f.Name == "mimetype" && f.Method == zip.Store && f.UncompressedSize64 < 100:
			return TypeODF
		}
	}
	return TypeZip
}

// ImageLimits bound the images accepted and size their thumbnails.
type ImageLimits struct {
	// MaxPixels is the largest width × height decoded (a decompression
	// bomb declares huge dimensions in a small file).
	MaxPixels int
	// MaxSide is the largest width or height.
	MaxSide int
	// ThumbSide is the longest side of a thumbnail.
	ThumbSide int
}

// DefaultImageLimits: 40 megapixels, 16384 pixels a side, 320-pixel
// thumbnails.
func DefaultImageLimits() ImageLimits {
	return ImageLimits{MaxPixels: 40_000_000, MaxSide: 16384, ThumbSide: 320}
}

func (l ImageLimits) withDefaults() ImageLimits {
	d := DefaultImageLimits()
	if l.MaxPixels > 0 {
		d.MaxPixels = l.MaxPixels
	}
	if l.MaxSide > 0 {
		d.MaxSide = l.MaxSide
	}
	if l.ThumbSide > 0 {
		d.ThumbSide = l.ThumbSide
	}
	return d
}

// Processed is what Process learnt about an upload.
type Processed struct {
	ContentType   string
	Width, Height int
	// Thumb is the re-encoded preview of an image (PNG or JPEG, no
	// metadata), of type ThumbType; nil for other files.
	Thumb     []byte
	ThumbType string
	// Clean is the file to store instead of the upload: a JPEG or PNG
	// without its metadata (camera, GPS position, text), pixels untouched.
	// Nil means the upload is stored as it is.
	Clean []byte
}

// Process detects the type of data and, for an image, checks its declared
// dimensions against the limits before decoding it and makes its thumbnail.
// A file whose bytes claim an image type but do not decode is refused.
func Process(data []byte, lim ImageLimits) (*Processed, error) {
	lim = lim.withDefaults()
	ct, err := Detect(data)
	if err != nil {
		return nil, err
	}
	p := &Processed{ContentType: ct}
	if !strings.HasPrefix(ct, "image/") {
		return p, nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, unsupported("the image cannot be read: %v", shortErr(err))
	}
	if "image/"+format != ct {
		return nil, unsupported("the image's header (%s) does not match its type", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, unsupported("the image has no pixels")
	}
	if cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide || cfg.Width*cfg.Height > lim.MaxPixels {
		return nil, tooLarge("an image of %d×%d pixels is too large (at most %d pixels, %d a side)",
			cfg.Width, cfg.Height, lim.MaxPixels, lim.MaxSide)
	}
	// gif.Decode (through image.Decode) reads only the first frame.
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, unsupported("the image cannot be decoded: %v", shortErr(err))
	}
	p.Width, p.Height = cfg.Width, cfg.Height
	o := 1
	if ct == TypeJPEG {
		// Phones store photos sideways with an EXIF orientation; the
		// thumbnail is turned upright (it keeps no EXIF to say so) and the
		// dimensions are given as seen.
		if o = jpegOrientation(data); o >= 5 {
			p.Width, p.Height = p.Height, p.Width
		}
	}
	p.Thumb, p.ThumbType, err = thumbnail(img, ct, lim.ThumbSide, o)
	if err != nil {
		return nil, fmt.Errorf("attachment: thumbnail: %w", err)
	}
	switch ct {
	case TypeJPEG:
		p.Clean = stripJPEG(data)
	case TypePNG:
		p.Clean = stripPNG(data)
	}
	return p, nil
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// thumbnail scales img to fit side×side (never up), turns it upright as
// the EXIF orientation says, and encodes it: JPEG photos as JPEG, the rest
// as PNG, which keeps transparency. Encoding anew drops every metadata
// block of the original.
func thumbnail(img image.Image, ct string, side, orientation int) ([]byte, string, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > side || h > side {
		if w >= h {
			w, h = side, max(1, h*side/w)
		} else {
			w, h = max(1, w*side/h), side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	dst = orient(dst, orientation)
	var buf bytes.Buffer
	if ct == TypeJPEG {
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82}); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), TypeJPEG, nil
	}
	if err := png.Encode(&buf, dst); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), TypePNG, nil
}
