package testutil

import "encoding/binary"

// SafetensorsFile assembles a safetensors file from a JSON header and a data
// section, without the padding writers add (readers do not require it):
// the way tests craft malformed files.
func SafetensorsFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}
