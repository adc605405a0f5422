package train

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
)

// NoDuplicates yields batches of example indices in which no text occurs
// twice, as sentence-transformers 2.7's NoDuplicatesDataLoader does for
// MultipleNegativesRankingLoss (a duplicate would be a false in-batch
// negative). The algorithm is the loader's:
//
//   - the examples are shuffled once at construction;
//   - a batch takes examples from a running pointer into that order,
//     skipping (and consuming) any example one of whose texts — compared as
//     text.strip().lower() — is already in the batch;
//   - when the pointer reaches the end it wraps to 0 and the order is
//     reshuffled, in the middle of a batch if need be;
//   - an epoch is Len() = ⌊examples / batch size⌋ batches, and the pointer
//     carries over from one epoch to the next.
//
// Only the random numbers differ (see the package comment). Where Python
// would loop forever — no remaining example fits in the batch — Next returns
// an error instead.
type NoDuplicates struct {
	batchSize int
	keys      [][]string // per example, the dedup keys of its texts
	dataHash  string
	perm      []int
	pointer   int
	rng       rng
	err       error
}

// BatcherState is the resumable state of a NoDuplicates batcher. It
// marshals to JSON (the generator state as base64).
type BatcherState struct {
	// Pointer is the position of the next example in Perm.
	Pointer int `json:"pointer"`
	// Perm is the current order of the example indices.
	Perm []int `json:"perm"`
	// RNG is the generator's state (math/rand/v2 PCG MarshalBinary).
	RNG []byte `json:"rng"`
	// DataHash fingerprints the examples' texts and the batch size, so that
	// a state is not restored onto other data.
	DataHash string `json:"data_hash"`
}

// NewNoDuplicates returns a batcher over the examples, texts[i] being the
// texts of example i (e.g. {query, passage}), in batches of batchSize,
// shuffled by a generator seeded with seed. It needs at least batchSize
// examples (the Python loader would yield no batch at all).
func NewNoDuplicates(texts [][]string, batchSize int, seed uint64) (*NoDuplicates, error) {
	if batchSize < 1 {
		return nil, fmt.Errorf("train: batch size %d; want ≥ 1", batchSize)
	}
	if len(texts) < batchSize {
		return nil, fmt.Errorf("train: %d examples cannot fill one batch of %d; lower the batch size or add data", len(texts), batchSize)
	}
	d := &NoDuplicates{batchSize: batchSize, keys: make([][]string, len(texts)), rng: newRNG(seed)}
	h := sha256.New()
	fmt.Fprintf(h, "batch=%d n=%d\n", batchSize, len(texts))
	for i, ts := range texts {
		if len(ts) == 0 {
			return nil, fmt.Errorf("train: example %d has no texts", i)
		}
		d.keys[i] = make([]string, len(ts))
		for j, t := range ts {
			d.keys[i][j] = dedupKey(t)
			fmt.Fprintf(h, "%d:%q\n", i, t)
		}
	}
	d.dataHash = hex.EncodeToString(h.Sum(nil))
	d.perm = make([]int, len(texts))
	for i := range d.perm {
		d.perm[i] = i
	}
	d.rng.shuffle(d.perm)
	return d, nil
}

// Len returns the number of batches per epoch, ⌊examples / batch size⌋.
func (d *NoDuplicates) Len() int { return len(d.keys) / d.batchSize }

// BatchSize returns the number of examples per batch.
func (d *NoDuplicates) BatchSize() int { return d.batchSize }

// Next returns the indices of the next batch's examples, in batch order.
// It fails when the batch cannot be completed because every example shares
// a text with the examples already taken (too few distinct texts for the
// batch size); the batcher is then unusable and keeps returning that error.
func (d *NoDuplicates) Next() ([]int, error) {
	if d.err != nil {
		return nil, d.err
	}
	n := len(d.perm)
	batch := make([]int, 0, d.batchSize)
	inBatch := map[string]bool{}
	rejected := 0 // consecutive examples skipped
	for len(batch) < d.batchSize {
		ex := d.perm[d.pointer]
		if d.fits(ex, inBatch) {
			batch = append(batch, ex)
			for _, k := range d.keys[ex] {
				inBatch[k] = true
			}
			rejected = 0
		} else {
			rejected++
		}
		d.pointer++
		if d.pointer >= n {
			d.pointer = 0
			d.rng.shuffle(d.perm)
		}
		// After n skips in a row, stop if no example at all can join the
		// batch (Python would spin forever); otherwise one will come up
		// within the next full pass.
		if rejected >= n {
			if !d.anyFits(inBatch) {
				d.err = fmt.Errorf("train: cannot complete a batch of %d examples with pairwise distinct texts: every one of the %d examples shares a text with the %d already taken; the data has too few distinct texts for this batch size (lower it or add data)", d.batchSize, n, len(batch))
				return nil, d.err
			}
			rejected = 0
		}
	}
	return batch, nil
}

// fits reports whether none of example ex's texts is in the batch.
func (d *NoDuplicates) fits(ex int, inBatch map[string]bool) bool {
	for _, k := range d.keys[ex] {
		if inBatch[k] {
			return false
		}
	}
	return true
}

func (d *NoDuplicates) anyFits(inBatch map[string]bool) bool {
	for ex := range d.keys {
		if d.fits(ex, inBatch) {
			return true
		}
	}
	return false
}

// State returns a copy of the batcher's state; SetState on a batcher built
// from the same texts and batch size continues with exactly the batches this
// one would have produced next.
func (d *NoDuplicates) State() BatcherState {
	rs, _ := d.rng.pcg.MarshalBinary() // PCG's MarshalBinary never fails
	return BatcherState{Pointer: d.pointer, Perm: append([]int(nil), d.perm...), RNG: rs, DataHash: d.dataHash}
}

// SetState restores a state saved by State. It refuses a state taken over
// other examples or another batch size, or one that is not a valid
// permutation and pointer; on error the batcher is unchanged.
func (d *NoDuplicates) SetState(s BatcherState) error {
	if s.DataHash != d.dataHash {
		return errors.New("train: the saved batcher state belongs to other training data or another batch size (data fingerprint differs); resume with the same examples and batch size, or start over")
	}
	n := len(d.keys)
	if len(s.Perm) != n {
		return fmt.Errorf("train: saved batcher state orders %d examples; the data has %d", len(s.Perm), n)
	}
	seen := make([]bool, n)
	for _, ex := range s.Perm {
		if ex < 0 || ex >= n || seen[ex] {
			return fmt.Errorf("train: saved batcher order is not a permutation of 0..%d (bad or repeated index %d)", n-1, ex)
		}
		seen[ex] = true
	}
	if s.Pointer < 0 || s.Pointer >= n {
		return fmt.Errorf("train: saved batcher pointer %d outside [0, %d)", s.Pointer, n)
	}
	pcg := &rand.PCG{}
	if err := pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("train: saved batcher generator state: %w", err)
	}
	d.pointer = s.Pointer
	d.perm = append([]int(nil), s.Perm...)
	d.rng = rng{pcg}
	d.err = nil
	return nil
}
