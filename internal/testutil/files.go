package testutil

import (
	"encoding/binary"
	"runtime"
)

// SafetensorsFile assembles a safetensors file from a JSON header and a data
// section, without the padding writers add (readers do not require it):
// the way tests craft malformed files.
func SafetensorsFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// Allocated returns the bytes allocated, by any goroutine, while fn runs:
// what the bounds tests hold a reader's allocations for a crafted file to.
func Allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
