package sentencepiece

import (
	"encoding/binary"
	"fmt"
)

// charsMap is sentencepiece's precompiled_charsmap: a Darts-clone double-array
// trie over input byte sequences whose values are offsets of NUL-terminated
// replacement strings. The blob is a little-endian uint32 trie size in bytes,
// the trie units, then the replacement strings.
type charsMap struct {
	units      []uint32
	normalized []byte
}

// maxTrieResults is sentencepiece's Normalizer::kMaxTrieResultsSize: only the
// first (shortest) 32 prefix matches are considered.
const maxTrieResults = 32

func parseCharsMap(blob []byte) (*charsMap, error) {
	if len(blob) < 4 {
		return nil, fmt.Errorf("precompiled_charsmap is %d bytes, too short to hold its trie size", len(blob))
	}
	size := uint64(binary.LittleEndian.Uint32(blob))
	if size%4 != 0 || size == 0 || 4+size > uint64(len(blob)) {
		return nil, fmt.Errorf("precompiled_charsmap declares a %d-byte trie in a %d-byte blob", size, len(blob))
	}
	units := make([]uint32, size/4)
	for i := range units {
		units[i] = binary.LittleEndian.Uint32(blob[4+4*i:])
	}
	return &charsMap{units: units, normalized: blob[4+size:]}, nil
}

// Darts-clone unit accessors.
func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }
func (c *charsMap) unit(pos uint32) (uint32, bool) {
	if int(pos) >= len(c.units) {
		return 0, false
	}
	return c.units[pos], true
}

// longestPrefix returns the replacement of the longest rule matching a prefix
// of s, and the number of bytes it consumes (0 when no rule matches), as
// Normalizer::NormalizePrefix picks it from commonPrefixSearch.
func (c *charsMap) longestPrefix(s string) (repl string, n int) {
	u, ok := c.unit(0)
	if !ok {
		return "", 0
	}
	pos := unitOffset(u)
	results := 0
	for i := 0; i < len(s) && results < maxTrieResults; i++ {
		b := uint32(s[i])
		pos ^= b
		u, ok := c.unit(pos)
		if !ok || unitLabel(u) != b {
			break
		}
		pos ^= unitOffset(u)
		if !unitHasLeaf(u) {
			continue
		}
		leaf, ok := c.unit(pos)
		if !ok {
			break
		}
		results++
		if r, ok := c.replacement(unitValue(leaf)); ok {
			repl, n = r, i+1
		}
	}
	return repl, n
}

// replacement reads the NUL-terminated string at offset off.
func (c *charsMap) replacement(off uint32) (string, bool) {
	if int(off) > len(c.normalized) {
		return "", false
	}
	rest := c.normalized[off:]
	for i, b := range rest {
		if b == 0 {
			return string(rest[:i]), true
		}
	}
	return string(rest), true
}
