package sentencepiece

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// pieceType is sentencepiece's ModelProto.SentencePiece.Type.
type pieceType int32

const (
	typeNormal      pieceType = 1
	typeUnknown     pieceType = 2
	typeControl     pieceType = 3
	typeUserDefined pieceType = 4
	typeUnused      pieceType = 5
	typeByte        pieceType = 6
)

// Model types of TrainerSpec.model_type.
const (
	modelUnigram = 1
	modelBPE     = 2
	modelWord    = 3
	modelChar    = 4
)

// protoPiece is one ModelProto.pieces entry.
type protoPiece struct {
	piece string
	score float32
	typ   pieceType
}

// trainerSpec holds the TrainerSpec fields the encoder needs, with the
// defaults of sentencepiece_model.proto.
type trainerSpec struct {
	present                 bool  // the file has a trainer_spec
	vocabSize               int32 // vocab_size the model was trained for; 0: not given
	hardVocabLimit          bool  // the trainer had to reach vocab_size exactly
	modelType               int32
	treatWhitespaceAsSuffix bool
	byteFallback            bool
	unkID, bosID, eosID     int32
	padID                   int32
	unkPiece, bosPiece      string
	eosPiece, padPiece      string
	unkSurface              string
}

// normalizerSpec holds the NormalizerSpec fields, with the proto defaults.
type normalizerSpec struct {
	present                bool // the file has a normalizer_spec
	name                   string
	precompiledCharsmap    []byte
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool
}

// modelProto is the part of a serialized sentencepiece ModelProto that
// tokenization uses.
type modelProto struct {
	pieces     []protoPiece
	trainer    trainerSpec
	normalizer normalizerSpec
}

func defaultTrainerSpec() trainerSpec {
	return trainerSpec{
		modelType: modelUnigram, hardVocabLimit: true,
		unkID: 0, bosID: 1, eosID: 2, padID: -1,
		unkPiece: "<unk>", bosPiece: "<s>", eosPiece: "</s>", padPiece: "<pad>",
		unkSurface: " \u2047 ",
	}
}

func defaultNormalizerSpec() normalizerSpec {
	return normalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true}
}

// field is one decoded protobuf field: its number, wire type and value.
type field struct {
	num    protowire.Number
	typ    protowire.Type
	varint uint64
	fixed  uint64
	bytes  []byte
}

// fields decodes one protobuf message level into its fields.
func fields(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.varint, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.fixed = uint64(v)
		case protowire.Fixed64Type:
			f.fixed, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}

func (f field) bool() bool     { return f.varint != 0 }
func (f field) int32() int32   { return int32(int64(f.varint)) }
func (f field) str() string    { return string(f.bytes) }
func (f field) float() float32 { return math.Float32frombits(uint32(f.fixed)) }

// parseModelProto decodes a serialized sentencepiece ModelProto (the content of
// spiece.model). Fields it does not need are skipped.
func parseModelProto(b []byte) (*modelProto, error) {
	top, err := fields(b)
	if err != nil {
		return nil, fmt.Errorf("not a sentencepiece ModelProto: %w", err)
	}
	m := &modelProto{trainer: defaultTrainerSpec(), normalizer: defaultNormalizerSpec()}
	for _, f := range top {
		if f.typ != protowire.BytesType {
			continue
		}
		switch f.num {
		case 1:
			p, err := parsePiece(f.bytes)
			if err != nil {
				return nil, fmt.Errorf("piece %d: %w", len(m.pieces), err)
			}
			m.pieces = append(m.pieces, p)
		case 2:
			if err := m.trainer.parse(f.bytes); err != nil {
				return nil, fmt.Errorf("trainer_spec: %w", err)
			}
			m.trainer.present = true
		case 3:
			if err := m.normalizer.parse(f.bytes); err != nil {
				return nil, fmt.Errorf("normalizer_spec: %w", err)
			}
			m.normalizer.present = true
		}
	}
	if err := m.checkComplete(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkComplete detects a ModelProto cut short. Sentencepiece's trainer
// writes the pieces (field 1) first, then trainer_spec (2) and
// normalizer_spec (3), and a file cut between two pieces, or right after
// trainer_spec, still parses: it would load with fewer pieces or without the
// normalization, and give other ids. So a model with pieces and a
// trainer_spec must have its normalizer_spec, one without either spec is
// refused, and the pieces must number at least trainer_spec.vocab_size when
// the trainer had a hard vocabulary limit (a model may have more pieces, when
// user-defined pieces were appended to it).
func (m *modelProto) checkComplete() error {
	const fix = "the file is truncated or not a sentencepiece model; download it again"
	switch {
	case !m.trainer.present && !m.normalizer.present:
		return fmt.Errorf("the model ends after %d pieces, without trainer_spec and normalizer_spec: %s", len(m.pieces), fix)
	case m.trainer.present && !m.normalizer.present:
		return fmt.Errorf("the model ends after trainer_spec, without normalizer_spec: %s", fix)
	case m.trainer.hardVocabLimit && int64(len(m.pieces)) < int64(m.trainer.vocabSize):
		return fmt.Errorf("the model has %d pieces but trainer_spec.vocab_size is %d: %s", len(m.pieces), m.trainer.vocabSize, fix)
	}
	return nil
}

func parsePiece(b []byte) (protoPiece, error) {
	fs, err := fields(b)
	if err != nil {
		return protoPiece{}, err
	}
	p := protoPiece{typ: typeNormal}
	for _, f := range fs {
		switch {
		case f.num == 1 && f.typ == protowire.BytesType:
			p.piece = f.str()
		case f.num == 2 && f.typ == protowire.Fixed32Type:
			p.score = f.float()
		case f.num == 3 && f.typ == protowire.VarintType:
			p.typ = pieceType(f.int32())
		}
	}
	return p, nil
}

func (t *trainerSpec) parse(b []byte) error {
	fs, err := fields(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.typ == protowire.VarintType {
			switch f.num {
			case 3:
				t.modelType = f.int32()
			case 4:
				t.vocabSize = f.int32()
			case 33:
				t.hardVocabLimit = f.bool()
			case 24:
				t.treatWhitespaceAsSuffix = f.bool()
			case 35:
				t.byteFallback = f.bool()
			case 40:
				t.unkID = f.int32()
			case 41:
				t.bosID = f.int32()
			case 42:
				t.eosID = f.int32()
			case 43:
				t.padID = f.int32()
			}
			continue
		}
		if f.typ == protowire.BytesType {
			switch f.num {
			case 44:
				t.unkSurface = f.str()
			case 45:
				t.unkPiece = f.str()
			case 46:
				t.bosPiece = f.str()
			case 47:
				t.eosPiece = f.str()
			case 48:
				t.padPiece = f.str()
			}
		}
	}
	return nil
}

func (n *normalizerSpec) parse(b []byte) error {
	fs, err := fields(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		switch {
		case f.num == 1 && f.typ == protowire.BytesType:
			n.name = f.str()
		case f.num == 2 && f.typ == protowire.BytesType:
			n.precompiledCharsmap = f.bytes
		case f.num == 3 && f.typ == protowire.VarintType:
			n.addDummyPrefix = f.bool()
		case f.num == 4 && f.typ == protowire.VarintType:
			n.removeExtraWhitespaces = f.bool()
		case f.num == 5 && f.typ == protowire.VarintType:
			n.escapeWhitespaces = f.bool()
		}
	}
	return nil
}
