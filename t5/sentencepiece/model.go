package sentencepiece

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// model is a loaded sentencepiece Unigram model: the vocabulary, the
// normalizer and the piece trie (SentencePieceProcessor with its Model).
type model struct {
	pieces     []protoPiece
	normal     map[string]int // NORMAL, USER_DEFINED and UNUSED pieces
	reserved   map[string]int // CONTROL, UNKNOWN and BYTE pieces
	byteIDs    [256]int       // id of <0xXX>, -1 when absent
	trie       *pieceTrie
	norm       normalizer
	unkID      int
	minScore   float32
	maxScore   float32
	byteFall   bool
	unkSurface string
	charsMap   []byte // the precompiled_charsmap norm.charsMap was parsed from
}

// newModel checks a ModelProto as sentencepiece's InitializePieces does and
// builds the encoder.
func newModel(mp *modelProto) (*model, error) {
	if mp.trainer.modelType != modelUnigram {
		return nil, fmt.Errorf("model_type %d is not supported: only Unigram (1) models, as T5's, are", mp.trainer.modelType)
	}
	if len(mp.pieces) == 0 {
		return nil, fmt.Errorf("the model has no pieces")
	}
	m := &model{
		pieces:     mp.pieces,
		normal:     make(map[string]int, len(mp.pieces)),
		reserved:   map[string]int{},
		trie:       newPieceTrie(),
		unkID:      -1,
		byteFall:   mp.trainer.byteFallback,
		unkSurface: mp.trainer.unkSurface,
	}
	for i := range m.byteIDs {
		m.byteIDs[i] = -1
	}
	var userDefined *pieceTrie
	for id, p := range mp.pieces {
		if p.piece == "" {
			return nil, fmt.Errorf("piece %d is empty", id)
		}
		switch p.typ {
		case typeNormal, typeUserDefined, typeUnused:
			if _, dup := m.normal[p.piece]; dup {
				return nil, fmt.Errorf("piece %d %q is already defined", id, p.piece)
			}
			m.normal[p.piece] = id
			m.trie.insert(p.piece, id)
			if p.typ == typeUserDefined {
				if userDefined == nil {
					userDefined = newPieceTrie()
				}
				userDefined.insert(p.piece, id)
			}
		case typeUnknown, typeControl, typeByte:
			if _, dup := m.reserved[p.piece]; dup {
				return nil, fmt.Errorf("piece %d %q is already defined", id, p.piece)
			}
			m.reserved[p.piece] = id
			if p.typ == typeUnknown {
				if m.unkID >= 0 {
					return nil, fmt.Errorf("piece %d %q: unk is already defined as piece %d", id, p.piece, m.unkID)
				}
				m.unkID = id
			}
			if p.typ == typeByte {
				b, ok := pieceByte(p.piece)
				if !ok {
					return nil, fmt.Errorf("byte piece %d %q is not of the form <0xXX>", id, p.piece)
				}
				m.byteIDs[b] = id
			}
		default:
			return nil, fmt.Errorf("piece %d %q has unknown type %d", id, p.piece, p.typ)
		}
	}
	if m.unkID < 0 {
		return nil, fmt.Errorf("the model defines no unknown piece (type UNKNOWN)")
	}
	m.trie.freeze()
	if userDefined != nil {
		userDefined.freeze()
	}
	m.minScore, m.maxScore = scoreRange(mp.pieces)
	m.norm = normalizer{
		userDefined:             userDefined,
		addDummyPrefix:          mp.normalizer.addDummyPrefix,
		removeExtraWhitespaces:  mp.normalizer.removeExtraWhitespaces,
		escapeWhitespaces:       mp.normalizer.escapeWhitespaces,
		treatWhitespaceAsSuffix: mp.trainer.treatWhitespaceAsSuffix,
	}
	if len(mp.normalizer.precompiledCharsmap) > 0 {
		cm, err := parseCharsMap(mp.normalizer.precompiledCharsmap)
		if err != nil {
			return nil, fmt.Errorf("normalizer %q: %w", mp.normalizer.name, err)
		}
		m.norm.charsMap = cm
		m.charsMap = mp.normalizer.precompiledCharsmap
	}
	return m, nil
}

// pieceByte parses a byte piece "<0xXX>".
func pieceByte(piece string) (byte, bool) {
	if len(piece) != 6 || !strings.HasPrefix(piece, "<0x") || piece[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(piece[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// size is the number of pieces (GetPieceSize).
func (m *model) size() int { return len(m.pieces) }

// pieceToID is ModelInterface::PieceToId: reserved pieces first, then the
// others, unk otherwise.
func (m *model) pieceToID(piece string) int {
	if id, ok := m.reserved[piece]; ok {
		return id
	}
	if id, ok := m.normal[piece]; ok {
		return id
	}
	return m.unkID
}

func (m *model) typeOf(id int) pieceType {
	if id < 0 || id >= len(m.pieces) {
		return 0
	}
	return m.pieces[id].typ
}

// encode is SentencePieceProcessor::Encode with string output: normalize,
// segment, then merge runs of unknown pieces into one (or spell them as byte
// pieces when the model has byte fallback). The pieces are normalized text;
// merged unknowns are not vocabulary pieces.
func (m *model) encode(text string) []segment {
	segs := m.viterbi(m.norm.normalize(text))
	out := segs[:0:0]
	prevUnk := false
	for _, s := range segs {
		unk := s.id == m.unkID
		switch {
		case unk && m.byteFall:
			for i := 0; i < len(s.piece); i++ {
				b := s.piece[i]
				out = append(out, segment{piece: fmt.Sprintf("<0x%02X>", b), id: m.byteIDs[b]})
			}
		case unk && prevUnk:
			out[len(out)-1].piece += s.piece
		default:
			out = append(out, s)
		}
		prevUnk = unk
	}
	return out
}

// decodePieces is SentencePieceProcessor::DecodePieces: control pieces vanish,
// <unk> becomes the unknown surface (" ⁇ "), other unknown strings are copied,
// runs of byte pieces are decoded as UTF-8, and "▁" becomes a space, the
// leading one dropped while the text is still empty.
func (m *model) decodePieces(pieces []string) string {
	var text strings.Builder
	var bytes []byte
	flush := func() {
		for len(bytes) > 0 {
			r, n := utf8.DecodeRune(bytes)
			if r == utf8.RuneError && n <= 1 {
				text.WriteString("\uFFFD")
				n = 1
			} else {
				text.Write(bytes[:n])
			}
			bytes = bytes[n:]
		}
	}
	stripBOS := m.norm.addDummyPrefix || m.norm.removeExtraWhitespaces
	unkPiece := ""
	if m.unkID >= 0 {
		unkPiece = m.pieces[m.unkID].piece
	}
	for _, p := range pieces {
		id := m.pieceToID(p)
		switch m.typeOf(id) {
		case typeByte:
			b, _ := pieceByte(p)
			bytes = append(bytes, b)
			continue
		case typeControl:
			flush()
			continue
		case typeUnknown:
			flush()
			if p == unkPiece {
				text.WriteString(m.unkSurface)
			} else {
				text.WriteString(p)
			}
			continue
		}
		flush()
		if text.Len() == 0 && stripBOS {
			p = strings.TrimPrefix(p, spaceSymbol)
		}
		text.WriteString(strings.ReplaceAll(p, spaceSymbol, " "))
	}
	flush()
	return text.String()
}
