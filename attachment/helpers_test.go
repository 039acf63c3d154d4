package attachment_test

import (
	"encoding/binary"
	"hash/crc32"
)

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// pngChunk encodes one PNG chunk.
func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}
