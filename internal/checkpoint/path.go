package checkpoint

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Path is a position in a checkpoint's key tree, the way a Hugging Face
// module reaches its weights by attribute path:
//
//	blk := w.Root().Pp("encoder").Pp("block").Index(3)
//	q := blk.Pp("layer").Index(0).Pp("SelfAttention").Pp("q").Get("weight", inner, dModel)
//
// Get checks the tensor's shape and dtype, marks it used, and records its key
// in the order the model took it (Weights.Order), which is the order of
// PyTorch's named_parameters() when modules load their weights in the order
// they declare them. A missing or mis-shaped tensor does not stop loading:
// Get returns nil and the error is collected, so that Weights.Err reports
// every problem of a checkpoint at once.
type Path struct {
	w      *Weights
	prefix string
}

// Root returns the path of the checkpoint's top level.
func (w *Weights) Root() Path { return Path{w: w} }

// Pp returns the path one level below p ("push prefix").
func (p Path) Pp(name string) Path {
	if p.prefix == "" {
		return Path{w: p.w, prefix: name}
	}
	return Path{w: p.w, prefix: p.prefix + "." + name}
}

// Index returns the path of the i-th element of a module list below p.
func (p Path) Index(i int) Path { return p.Pp(strconv.Itoa(i)) }

// Key returns the full checkpoint key of the tensor leaf below p.
func (p Path) Key(leaf string) string {
	if p.prefix == "" {
		return leaf
	}
	return p.prefix + "." + leaf
}

// Prefix returns p's key prefix ("" at the root).
func (p Path) Prefix() string { return p.prefix }

// Has reports whether the checkpoint holds a tensor named leaf below p.
func (p Path) Has(leaf string) bool {
	_, ok := p.w.Tensors[p.Key(leaf)]
	return ok
}

// Get returns the floating-point tensor leaf below p, checked against shape.
// On a missing, mis-shaped or non-float tensor it returns nil and records the
// error for Weights.Err. The caller takes ownership of the tensor's F32
// slice: nothing else in the Weights reads or writes it.
func (p Path) Get(leaf string, shape ...int) *Tensor {
	key := p.Key(leaf)
	t, err := p.w.Get(shape, key)
	if err != nil {
		p.w.errs = append(p.w.errs, err)
		return nil
	}
	p.w.order = append(p.w.order, key)
	return t
}

// Err returns the errors Get recorded, joined, or nil when all tensors were
// found with the right shapes. Missing tensors are listed together in one
// error naming the file; the message stays short whatever the checkpoint
// holds: the first few names or errors, and how many more there are.
func (w *Weights) Err() error {
	var missing []string
	var other []error
	for _, err := range w.errs {
		if errors.Is(err, ErrMissing) {
			missing = append(missing, missingName(err))
			continue
		}
		other = append(other, err)
	}
	if len(other) > maxListed {
		other = append(other[:maxListed], fmt.Errorf("and %d more mis-shaped or non-float tensors", len(other)-maxListed))
	}
	if len(missing) > 0 {
		other = append([]error{fmt.Errorf("checkpoint %s: %w: %d tensors the config needs are absent: %s (is this the right model type, or a partial download?)",
			w.Source, ErrMissing, len(missing), NameList(missing))}, other...)
	}
	return errors.Join(other...)
}

// maxListed is how many names or errors a message lists before it only
// counts the rest; maxNameLen is how much of one name it shows.
const (
	maxListed  = 5
	maxNameLen = 120
)

// NameList formats names for an error message: all of them when there are
// at most five, else the first five and how many more there are, each name
// quoted and cut to 120 bytes. However many tensors a file holds, and however
// long their names, the message stays under a kilobyte.
func NameList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(names)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoted(n))
	}
	return b.String()
}

// missingName extracts the key from the error Weights.Get returns for an
// absent tensor.
func missingName(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ErrMissing.Error()+": "); i >= 0 {
		return s[i+len(ErrMissing.Error())+2:]
	}
	return s
}

// Order returns the keys Get took, in the order it took them.
func (w *Weights) Order() []string { return append([]string(nil), w.order...) }

// quoted quotes a name read from a file for an error message, cut to its
// first 120 bytes.
func quoted(name string) string {
	if len(name) > maxNameLen {
		return strconv.Quote(strings.ToValidUTF8(name[:maxNameLen], "")) + "…"
	}
	return strconv.Quote(name)
}

// shapeText formats a shape read from a file for an error message, listing
// at most its first 8 dimensions.
func shapeText(shape []int) string {
	if len(shape) > 8 {
		return strings.TrimSuffix(fmt.Sprint(shape[:8]), "]") + fmt.Sprintf(" … (%d dimensions)]", len(shape))
	}
	return fmt.Sprint(shape)
}
