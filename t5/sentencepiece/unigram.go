package sentencepiece

import "math"

// unkPenalty is sentencepiece's kUnkPenalty: an unknown character scores the
// lowest piece score minus 10.
const unkPenalty = float32(10)

// segment is one piece of a segmentation: its text (the normalized bytes it
// covers) and its vocabulary id.
type segment struct {
	piece string
	id    int
}

// bestPath is sentencepiece's BestPathNode: the best path ending at a byte
// position, through the piece id that starts at startsAt.
type bestPath struct {
	id       int
	score    float32
	startsAt int
}

// viterbi segments a normalized string into pieces with the best total score,
// exactly as sentencepiece's Model::EncodeOptimized: candidates for the same
// end position are visited by increasing start and replace the kept one only
// when strictly better; piece scores are added in double precision and stored
// as float, the unknown score in float, as the C++ code does.
func (m *model) viterbi(s string) []segment {
	size := len(s)
	if size == 0 {
		return nil
	}
	best := make([]bestPath, size+1)
	for i := range best {
		best[i].startsAt = -1
	}
	best[0].startsAt = 0
	unkScore := m.minScore - unkPenalty
	for start := 0; start < size; {
		tillHere := best[start].score
		mblen := oneCharLen(s[start])
		if mblen > size-start {
			mblen = size - start
		}
		hasSingle := false
		// Every piece that starts here, shortest first (Darts' traverse).
		for node, end := int32(0), start; end < size; {
			node = m.trie.child(node, s[end])
			if node < 0 {
				break
			}
			end++
			id := int(m.trie.value[node])
			if id < 0 || m.pieces[id].typ == typeUnused {
				continue
			}
			length := end - start
			var score float64
			if p := &m.pieces[id]; p.typ == typeUserDefined {
				score = float64(float32(length)*m.maxScore) - 0.1
			} else {
				score = float64(p.score)
			}
			cand := score + float64(tillHere)
			if t := &best[end]; t.startsAt == -1 || cand > float64(t.score) {
				t.score = float32(cand)
				t.startsAt = start
				t.id = id
			}
			if length == mblen {
				hasSingle = true
			}
		}
		if !hasSingle {
			t := &best[start+mblen]
			cand := unkScore + tillHere
			if t.startsAt == -1 || cand > t.score {
				t.score = cand
				t.startsAt = start
				t.id = m.unkID
			}
		}
		start += mblen
	}
	var out []segment
	for end := size; end > 0; {
		n := best[end]
		if n.startsAt < 0 || n.startsAt >= end {
			break // unreachable for a well-formed lattice; stay safe
		}
		out = append(out, segment{piece: s[n.startsAt:end], id: n.id})
		end = n.startsAt
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// oneCharLen is sentencepiece's OneCharLen: the UTF-8 sequence length implied
// by a lead byte (1 for continuation and ASCII bytes).
func oneCharLen(b byte) int {
	return int("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x02\x02\x03\x04"[b>>4])
}

// scoreRange returns the lowest and highest score of the normal pieces
// (FLT_MAX and FLT_MIN when there is none, as sentencepiece initializes them).
func scoreRange(pieces []protoPiece) (lo, hi float32) {
	lo, hi = math.MaxFloat32, math.Float32frombits(0x00800000) // FLT_MAX, FLT_MIN
	for _, p := range pieces {
		if p.typ == typeNormal {
			lo = min(lo, p.score)
			hi = max(hi, p.score)
		}
	}
	return lo, hi
}
