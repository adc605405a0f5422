package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Argument kinds of pickle opcodes (see Python's pickletools).
const (
	argNone   = iota
	argFixed1 // 1-byte argument
	argFixed2
	argFixed4
	argFixed8
	argLine     // newline-terminated text
	argTwoLines // module and name, each newline-terminated
	argLen1     // 1-byte length, then that many bytes
	argLen4
	argLen8
	argFrame // 8-byte length of the frame that follows
)

// pickleOps maps every opcode of pickle protocols 0–5 to its argument kind.
var pickleOps = map[byte]int{
	'(': argNone, '.': argNone, '0': argNone, '1': argNone, '2': argNone,
	'N': argNone, 0x88: argNone, 0x89: argNone, '}': argNone, ']': argNone,
	')': argNone, 't': argNone, 0x85: argNone, 0x86: argNone, 0x87: argNone,
	'l': argNone, 'd': argNone, 'a': argNone, 'e': argNone, 's': argNone,
	'u': argNone, 'b': argNone, 'R': argNone, 0x81: argNone, 0x92: argNone,
	'o': argNone, 'Q': argNone, 0x93: argNone, 0x94: argNone, 0x8f: argNone,
	0x90: argNone, 0x91: argNone, 0x97: argNone, 0x98: argNone,
	'K': argFixed1, 'h': argFixed1, 'q': argFixed1, 0x80: argFixed1, 0x82: argFixed1,
	'M': argFixed2, 0x83: argFixed2,
	'J': argFixed4, 'j': argFixed4, 'r': argFixed4, 0x84: argFixed4,
	'G': argFixed8,
	'I': argLine, 'L': argLine, 'F': argLine, 'S': argLine, 'V': argLine,
	'g': argLine, 'p': argLine, 'P': argLine,
	'c': argTwoLines, 'i': argTwoLines,
	'U': argLen1, 0x8c: argLen1, 'C': argLen1, 0x8a: argLen1,
	'T': argLen4, 'X': argLen4, 'B': argLen4, 0x8b: argLen4,
	0x8d: argLen8, 0x8e: argLen8, 0x96: argLen8, 0x95: argFrame,
}

// maxNumberText bounds a number written as text (protocol 0's INT, LONG
// and FLOAT): far beyond any int64 or float64, and cheap to convert.
const maxNumberText = 1024

// scanPickle walks the opcodes of a pickle without running them. It checks
// that every opcode is known and every argument and frame lies inside the
// data (so the unpickler never allocates for a length the file does not hold), and that
// every GLOBAL or INST names an allowed global. Globals built at run time
// with STACK_GLOBAL are checked when the unpickler resolves them.
func scanPickle(code []byte) error {
	pos := 0
	for pos < len(code) {
		at, op := pos, code[pos]
		pos++
		kind, ok := pickleOps[op]
		if !ok {
			return fmt.Errorf("unknown pickle opcode %#02x at byte %d", op, at)
		}
		need := 0
		switch kind {
		case argFixed1:
			need = 1
		case argFixed2:
			need = 2
		case argFixed4:
			need = 4
		case argFixed8:
			need = 8
		case argFrame:
			// The unpickler allocates the whole frame before reading it.
			if len(code)-pos < 8 {
				return fmt.Errorf("pickle opcode %#02x at byte %d: truncated length", op, at)
			}
			if n := binary.LittleEndian.Uint64(code[pos:]); n > uint64(len(code)-pos-8) {
				return fmt.Errorf("pickle frame at byte %d: %d bytes run past the end of the %d-byte pickle", at, n, len(code))
			}
			need = 8
		case argLen1, argLen4, argLen8:
			size := map[int]int{argLen1: 1, argLen4: 4, argLen8: 8}[kind]
			if len(code)-pos < size {
				return fmt.Errorf("pickle opcode %#02x at byte %d: truncated length", op, at)
			}
			var n uint64
			switch size {
			case 1:
				n = uint64(code[pos])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(code[pos:]))
			default:
				n = binary.LittleEndian.Uint64(code[pos:])
			}
			pos += size
			if n > uint64(len(code)-pos) {
				return fmt.Errorf("pickle opcode %#02x at byte %d: argument of %d bytes runs past the end of the %d-byte pickle", op, at, n, len(code))
			}
			need = int(n)
		case argLine, argTwoLines:
			lines := 1
			if kind == argTwoLines {
				lines = 2
			}
			var parts [2]string
			for i := 0; i < lines; i++ {
				nl := bytes.IndexByte(code[pos:], '\n')
				if nl < 0 {
					return fmt.Errorf("pickle opcode %#02x at byte %d: unterminated argument", op, at)
				}
				parts[i] = string(code[pos : pos+nl])
				pos += nl + 1
			}
			// Text integers are converted in time quadratic in their
			// length (400 KB took a second); torch.save never writes them.
			if (op == 'I' || op == 'L' || op == 'F') && len(parts[0]) > maxNumberText {
				return fmt.Errorf("pickle opcode %q at byte %d: a number written with %d characters (at most %d accepted)", op, at, len(parts[0]), maxNumberText)
			}
			if kind == argTwoLines && !allowedGlobal(parts[0], parts[1]) {
				return globalError(parts[0], parts[1])
			}
		}
		if len(code)-pos < need {
			return fmt.Errorf("pickle opcode %#02x at byte %d: truncated argument", op, at)
		}
		pos += need
		if op == '.' {
			return nil
		}
	}
	return fmt.Errorf("pickle ends without a STOP opcode (truncated file?)")
}

// allowedGlobal reports whether a state dict pickle may name module.name.
func allowedGlobal(module, name string) bool {
	switch module {
	case "collections":
		return name == "OrderedDict"
	case "torch._utils":
		return name == "_rebuild_tensor_v2" || name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state"
	case "torch":
		_, ok := storageClasses[name]
		return ok
	}
	return false
}

// globalError explains why a pickle global is refused.
func globalError(module, name string) error {
	if module == "torch" && strings.HasSuffix(name, "Storage") {
		return fmt.Errorf("pickle global torch.%s: storage type not supported (supported: float, double, half, bfloat16, integer and bool storages)", name)
	}
	return fmt.Errorf("pickle global %s.%s is not allowed: a state dict holds only tensors, and genq never runs pickled code (convert the checkpoint to model.safetensors)", module, name)
}
