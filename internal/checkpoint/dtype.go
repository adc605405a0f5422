package checkpoint

// dtypeInfo describes one safetensors dtype: its element size in bytes and its
// rank in the Rust reference's Dtype enum, which is ordered by increasing
// alignment and decides the order in which a writer lays tensors out.
type dtypeInfo struct {
	size int
	rank int
}

var dtypes = map[string]dtypeInfo{
	"BOOL": {1, 0},
	"U8":   {1, 1},
	"I8":   {1, 2},
	"I16":  {2, 5},
	"U16":  {2, 6},
	"F16":  {2, 7},
	"BF16": {2, 8},
	"I32":  {4, 9},
	"U32":  {4, 10},
	"F32":  {4, 11},
	"F64":  {8, 12},
	"I64":  {8, 13},
	"U64":  {8, 14},
}

func isFloatDType(d string) bool {
	switch d {
	case "F32", "F16", "BF16", "F64":
		return true
	}
	return false
}

// intRange returns the inclusive range of values an integer dtype holds. U64
// has none: its values are kept as the int64 with the same bits.
func intRange(d string) (lo, hi int64, checked bool) {
	switch d {
	case "BOOL":
		return 0, 1, true
	case "U8":
		return 0, 1<<8 - 1, true
	case "I8":
		return -1 << 7, 1<<7 - 1, true
	case "I16":
		return -1 << 15, 1<<15 - 1, true
	case "U16":
		return 0, 1<<16 - 1, true
	case "I32":
		return -1 << 31, 1<<31 - 1, true
	case "U32":
		return 0, 1<<32 - 1, true
	}
	return 0, 0, false
}
