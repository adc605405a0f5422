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
	p := protoPiece{typ: typeNormal}
	err := decodeInto(b, []fieldDst{{1, &p.piece}, {2, &p.score}, {3, &p.typ}})
	return p, err
}

func (t *trainerSpec) parse(b []byte) error {
	return decodeInto(b, []fieldDst{
		{3, &t.modelType}, {4, &t.vocabSize}, {24, &t.treatWhitespaceAsSuffix},
		{33, &t.hardVocabLimit}, {35, &t.byteFallback},
		{40, &t.unkID}, {41, &t.bosID}, {42, &t.eosID}, {43, &t.padID},
		{44, &t.unkSurface}, {45, &t.unkPiece}, {46, &t.bosPiece}, {47, &t.eosPiece}, {48, &t.padPiece},
	})
}

func (n *normalizerSpec) parse(b []byte) error {
	return decodeInto(b, []fieldDst{
		{1, &n.name}, {2, &n.precompiledCharsmap},
		{3, &n.addDummyPrefix}, {4, &n.removeExtraWhitespaces}, {5, &n.escapeWhitespaces},
	})
}

// fieldDst is where decodeInto stores field num: a *bool, *int32, *pieceType,
// *float32, *string or *[]byte.
type fieldDst struct {
	num protowire.Number
	ptr any
}

// decodeInto decodes the message b and stores each field whose number dst
// names into the variable dst points it to, when the field's wire type is the
// one that variable's proto type is written with: a varint into *bool,
// *int32 or *pieceType, a fixed32 into *float32, a length-delimited field into
// *string or *[]byte. Other fields, and fields of another wire type, are
// skipped, as protobuf readers skip unknown fields; the last of a repeated
// field wins.
func decodeInto(b []byte, dst []fieldDst) error {
	fs, err := fields(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		var ptr any
		for _, d := range dst {
			if d.num == f.num {
				ptr = d.ptr
			}
		}
		switch v := ptr.(type) {
		case *bool:
			if f.typ == protowire.VarintType {
				*v = f.bool()
			}
		case *int32:
			if f.typ == protowire.VarintType {
				*v = f.int32()
			}
		case *pieceType:
			if f.typ == protowire.VarintType {
				*v = pieceType(f.int32())
			}
		case *float32:
			if f.typ == protowire.Fixed32Type {
				*v = f.float()
			}
		case *string:
			if f.typ == protowire.BytesType {
				*v = f.str()
			}
		case *[]byte:
			if f.typ == protowire.BytesType {
				*v = f.bytes
			}
		}
	}
	return nil
}
